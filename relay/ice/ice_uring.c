/* Many ICE sockets' datagrams in one io_uring submit (ice_uring.h). */
#include "ice/ice_uring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/error.h"
#include "ice/ice_direct.h"

#ifdef MR_HAVE_LIBURING
#include <liburing.h>

#define NOT_DONE INT32_MIN /* a message's result before its completion */

/* One mr_ice_uring_stage call: its messages and datagrams. */
struct staged {
    struct mr_ice_direct *d;
    unsigned first_msg, n_msgs;
    unsigned first_iov;
    unsigned sent;
    size_t bytes;
};

struct mr_ice_uring {
    struct io_uring ring;
    bool broken; /* a submit went wrong: every batch goes another way now */
    unsigned n_staged, n_msgs, n_iov;
    struct staged staged[MR_ICE_URING_DATAGRAMS];
    struct iovec iov[MR_ICE_URING_DATAGRAMS];
    struct mmsghdr msgs[MR_ICE_URING_DATAGRAMS];
    union mr_ice_gso_cmsg ctl[MR_ICE_URING_DATAGRAMS];
    uint8_t runs[MR_ICE_URING_DATAGRAMS];
    int32_t res[MR_ICE_URING_DATAGRAMS]; /* bytes sent, or -errno */
};

int mr_ice_uring_new(struct mr_ice_uring **out)
{
    struct mr_ice_uring *u = calloc(1, sizeof(*u));
    if (!u)
        return MR_ENOMEM;
    /* No IORING_SETUP_SINGLE_ISSUER: the ring is made on the main thread
     * and used on a worker's, and that flag ties it to its maker. */
    int rc = io_uring_queue_init(MR_ICE_URING_DATAGRAMS, &u->ring, 0);
    if (rc < 0) {
        free(u);
        return rc == -ENOMEM ? MR_ENOMEM : MR_ENOTSUP;
    }
    /* Linux 5.1 and 5.2 have io_uring but no sendmsg in it: every request
     * would fail, and the datagrams with it. */
    struct io_uring_probe *probe = io_uring_get_probe_ring(&u->ring);
    bool sendmsg = probe && io_uring_opcode_supported(probe, IORING_OP_SENDMSG);
    io_uring_free_probe(probe);
    if (!sendmsg) {
        mr_ice_uring_free(u);
        return MR_ENOTSUP;
    }
    *out = u;
    return 0;
}

void mr_ice_uring_free(struct mr_ice_uring *u)
{
    if (!u)
        return;
    io_uring_queue_exit(&u->ring);
    free(u);
}

int mr_ice_uring_stage(struct mr_ice_uring *u, struct mr_ice *ice, const struct iovec *iov,
                       unsigned n)
{
    struct mr_ice_direct *d = mr_ice_direct_of(ice);
    return mr_ice_direct_on(d) ? mr_ice_uring_stage_direct(u, d, iov, n) : -1;
}

int mr_ice_uring_stage_direct(struct mr_ice_uring *u, struct mr_ice_direct *d,
                              const struct iovec *iov, unsigned n)
{
    if (u->broken || n == 0 || n > MR_ICE_BATCH_MAX || u->n_iov + n > MR_ICE_URING_DATAGRAMS)
        return -1;
    struct iovec *v = &u->iov[u->n_iov];
    memcpy(v, iov, n * sizeof(*iov));
    unsigned m = mr_ice_direct_build_msgs(d, v, n, &u->msgs[u->n_msgs], &u->ctl[u->n_msgs],
                                          &u->runs[u->n_msgs]);
    u->staged[u->n_staged] =
        (struct staged){.d = d, .first_msg = u->n_msgs, .n_msgs = m, .first_iov = u->n_iov};
    u->n_msgs += m;
    u->n_iov += n;
    return (int)u->n_staged++;
}

/* Submits every staged message and reaps the completions into res[]. A
 * request finishes during the submit (MSG_DONTWAIT), so the wait finds its
 * completion posted and does not enter the kernel again. Returns 0, or a
 * negative errno when some messages went unsubmitted (left NOT_DONE). */
static int submit_all(struct mr_ice_uring *u)
{
    for (unsigned i = 0; i < u->n_msgs; i++)
        u->res[i] = NOT_DONE;
    for (unsigned b = 0; b < u->n_staged; b++) {
        const struct staged *s = &u->staged[b];
        for (unsigned i = s->first_msg; i < s->first_msg + s->n_msgs; i++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
            if (!sqe)
                return -EBUSY; /* cannot be: the ring holds a full queue */
            io_uring_prep_sendmsg(sqe, s->d->fd, &u->msgs[i].msg_hdr, MSG_DONTWAIT | MSG_NOSIGNAL);
            io_uring_sqe_set_data64(sqe, i);
        }
    }
    int r;
    do
        r = io_uring_submit(&u->ring);
    while (r == -EINTR);
    if (r < 0)
        return r;
    for (unsigned reaped = 0; reaped < (unsigned)r;) {
        struct io_uring_cqe *cqe;
        int w = io_uring_wait_cqe(&u->ring, &cqe);
        if (w == -EINTR)
            continue;
        if (w < 0)
            return w;
        uint64_t i = io_uring_cqe_get_data64(cqe);
        if (i < u->n_msgs)
            u->res[i] = cqe->res;
        io_uring_cqe_seen(&u->ring, cqe);
        reaped++;
    }
    return (unsigned)r == u->n_msgs ? 0 : -EIO;
}

/* Tallies message j of batch s: a GSO run the path refused, or one that
 * never got to the kernel, goes again through sendmmsg. */
static void tally(struct mr_ice_uring *u, struct staged *s, unsigned j, unsigned iov_at)
{
    int32_t res = u->res[j];
    if (res >= 0) {
        s->sent += u->runs[j];
        s->bytes += (size_t)res;
        return;
    }
    if (res != NOT_DONE && !mr_ice_direct_gso_refused(s->d, u->runs[j], -res))
        return; /* the socket refused it (buffer full, unreachable): lost */
    const struct iovec *v = &u->iov[iov_at];
    int k = mr_ice_direct_send_batch(s->d, v, u->runs[j]);
    for (int i = 0; i < k; i++) {
        s->sent++;
        s->bytes += v[i].iov_len;
    }
}

int mr_ice_uring_submit(struct mr_ice_uring *u)
{
    if (u->n_msgs == 0)
        return 0;
    int rc = submit_all(u);
    if (rc < 0)
        u->broken = true; /* and the requests it left go through sendmmsg */
    for (unsigned b = 0; b < u->n_staged; b++) {
        struct staged *s = &u->staged[b];
        unsigned at = s->first_iov;
        for (unsigned j = s->first_msg; j < s->first_msg + s->n_msgs; j++) {
            tally(u, s, j, at);
            at += u->runs[j];
        }
    }
    return rc < 0 ? MR_EIO : 0;
}

void mr_ice_uring_result(const struct mr_ice_uring *u, int handle, unsigned *sent, size_t *bytes)
{
    const struct staged *s = &u->staged[handle];
    *sent = s->sent;
    *bytes = s->bytes;
}

void mr_ice_uring_reset(struct mr_ice_uring *u)
{
    u->n_staged = u->n_msgs = u->n_iov = 0;
}

#else /* no liburing at build time: every caller keeps sendmmsg */

struct mr_ice_uring {
    int unused;
};

int mr_ice_uring_new(struct mr_ice_uring **out)
{
    *out = NULL;
    return MR_ENOTSUP;
}

void mr_ice_uring_free(struct mr_ice_uring *u)
{
    (void)u;
}

int mr_ice_uring_stage(struct mr_ice_uring *u, struct mr_ice *ice, const struct iovec *iov,
                       unsigned n)
{
    (void)u;
    (void)ice;
    (void)iov;
    (void)n;
    return -1;
}

int mr_ice_uring_stage_direct(struct mr_ice_uring *u, struct mr_ice_direct *d,
                              const struct iovec *iov, unsigned n)
{
    (void)u;
    (void)d;
    (void)iov;
    (void)n;
    return -1;
}

int mr_ice_uring_submit(struct mr_ice_uring *u)
{
    (void)u;
    return 0;
}

void mr_ice_uring_result(const struct mr_ice_uring *u, int handle, unsigned *sent, size_t *bytes)
{
    (void)u;
    (void)handle;
    *sent = 0;
    *bytes = 0;
}

void mr_ice_uring_reset(struct mr_ice_uring *u)
{
    (void)u;
}

#endif
