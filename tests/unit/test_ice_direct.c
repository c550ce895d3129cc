/*
 * The direct send path's batches (relay/ice/ice_direct.c) on 127.0.0.1:
 * runs of equal-size datagrams leave as one UDP GSO message, and whatever
 * the kernel does with them, the receiver gets the same datagrams, same
 * sizes, same bytes, same order. A receiver with UDP_GRO on sees the GSO
 * message whole (one read plus its segment size), which is how these tests
 * know GSO was used; SO_NO_CHECK makes the kernel refuse GSO, so the
 * fallback to plain datagrams is tested too. The same batches staged on an
 * io_uring for several sockets at once (relay/ice/ice_uring.c) must arrive
 * the same way.
 */
#include "ice/ice_direct.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "ice/ice.h"
#include "ice/ice_uring.h"
#include "mr_test.h"

#define MAX_DGRAMS 40
#define BUF_LEN    2048

struct pair {
    int tx, rx;
    struct mr_ice_direct d;
};

static int udp_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool pair_open(struct pair *p, bool gro)
{
    memset(p, 0, sizeof(*p));
    p->tx = udp_socket();
    p->rx = udp_socket();
    if (p->tx < 0 || p->rx < 0)
        return false;
    int one = 1;
    int rcvbuf = 4 << 20;
    (void)setsockopt(p->rx, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
    if (gro && setsockopt(p->rx, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)
        return false;
    socklen_t len = sizeof(p->d.to);
    getsockname(p->rx, (struct sockaddr *)&p->d.to, &len);
    p->d.to_len = len;
    p->d.fd = p->tx;
    p->d.gso = true;
    return true;
}

static void pair_close(struct pair *p)
{
    close(p->tx);
    close(p->rx);
}

/* Datagram i is sizes[i] bytes of (i * 7 + offset) & 0xff. */
static void fill(uint8_t bufs[][BUF_LEN], struct iovec *iov, const size_t *sizes, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        for (size_t k = 0; k < sizes[i]; k++)
            bufs[i][k] = (uint8_t)(i * 7 + k);
        iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizes[i]};
    }
}

/* One read: returns its length, *seg the GRO segment size (0 if none). */
static ssize_t read_one(int fd, uint8_t *buf, size_t cap, int *seg)
{
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                       .msg_controllen = sizeof(ctl.b)};
    *seg = 0;
    ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO)
            memcpy(seg, CMSG_DATA(c), sizeof(*seg));
    return n;
}

/* Reads datagrams until none is left and compares them with what was sent. */
static void expect_datagrams(int fd, uint8_t sent[][BUF_LEN], const size_t *sizes, unsigned n)
{
    static uint8_t got[65536];
    unsigned i = 0;
    int seg;
    ssize_t len;
    while ((len = read_one(fd, got, sizeof(got), &seg)) >= 0) {
        CHECK(seg == 0);
        CHECK(i < n);
        if (i >= n)
            return;
        CHECK_INT(len, (ssize_t)sizes[i]);
        CHECK(len == (ssize_t)sizes[i] && memcmp(got, sent[i], sizes[i]) == 0);
        i++;
    }
    CHECK_INT(i, n);
}

/* Sizes as a frame split evenly (1216, 1216, 1215 ...), audio, then a
 * frame filled to the MTU with a short last packet. */
static const size_t mixed[] = {1216, 1216, 1215, 1215, 1215, 80, 80, 1200, 1200, 1200, 300, 1300};
#define N_MIXED (sizeof(mixed) / sizeof(mixed[0]))

static void test_datagrams_intact(void)
{
    static uint8_t bufs[N_MIXED][BUF_LEN];
    struct iovec iov[N_MIXED];
    struct pair p;
    CHECK(pair_open(&p, false));
    fill(bufs, iov, mixed, N_MIXED);
    CHECK_INT(mr_ice_direct_send_batch(&p.d, iov, N_MIXED), (int)N_MIXED);
    CHECK(p.d.gso);
    expect_datagrams(p.rx, bufs, mixed, N_MIXED);
    CHECK_INT(mr_ice_direct_send_batch(&p.d, iov, 0), 0);
    pair_close(&p);
}

/* A GRO receiver (fd) reads the mixed batch bufs as it was sent: one read
 * per run. */
static void expect_mixed_runs(int fd, uint8_t bufs[][BUF_LEN])
{
    /* The runs: 1216 1216 1215 | 1215 1215 80 | 80 | 1200 1200 1200 300 | 1300 */
    static const size_t run_bytes[] = {3647, 2510, 80, 3900, 1300};
    static const int run_seg[] = {1216, 1215, 0, 1200, 0};
    static uint8_t got[65536];
    unsigned runs = 0, first = 0;
    int seg;
    ssize_t len;
    while ((len = read_one(fd, got, sizeof(got), &seg)) >= 0 && runs < 5) {
        CHECK_INT(len, (ssize_t)run_bytes[runs]);
        CHECK_INT(seg, run_seg[runs]);
        /* The bytes are the run's datagrams back to back. */
        size_t off = 0;
        for (unsigned i = first; off < (size_t)len && i < N_MIXED; off += mixed[i], i++, first++)
            CHECK(memcmp(got + off, bufs[i], mixed[i]) == 0);
        runs++;
    }
    CHECK_INT(runs, 5);
    CHECK_INT(first, N_MIXED);
}

/* A GRO receiver gets each run as it was sent: one read per run. */
static void test_runs_leave_as_one_message(void)
{
    static uint8_t bufs[N_MIXED][BUF_LEN];
    struct iovec iov[N_MIXED];
    struct pair p;
    CHECK(pair_open(&p, true));
    fill(bufs, iov, mixed, N_MIXED);
    CHECK_INT(mr_ice_direct_send_batch(&p.d, iov, N_MIXED), (int)N_MIXED);
    expect_mixed_runs(p.rx, bufs);
    pair_close(&p);
}

/* A full batch of equal datagrams, and more than a batch holds. */
static void test_full_batch(void)
{
    static uint8_t bufs[MAX_DGRAMS][BUF_LEN];
    struct iovec iov[MAX_DGRAMS];
    size_t sizes[MAX_DGRAMS];
    for (unsigned i = 0; i < MAX_DGRAMS; i++)
        sizes[i] = 1172;
    struct pair p;
    CHECK(pair_open(&p, false));
    fill(bufs, iov, sizes, MAX_DGRAMS);
    CHECK_INT(mr_ice_direct_send_batch(&p.d, iov, MAX_DGRAMS), MR_ICE_BATCH_MAX);
    expect_datagrams(p.rx, bufs, sizes, MR_ICE_BATCH_MAX);
    pair_close(&p);
}

/* The kernel refuses GSO on a socket without UDP checksums: the batch
 * still goes, as plain datagrams, and GSO stays off for that socket. */
static void test_refused_gso_falls_back(void)
{
    static uint8_t bufs[N_MIXED][BUF_LEN];
    struct iovec iov[N_MIXED];
    struct pair p;
    CHECK(pair_open(&p, true));
    int one = 1;
    CHECK(setsockopt(p.tx, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)) == 0);
    fill(bufs, iov, mixed, N_MIXED);
    CHECK_INT(mr_ice_direct_send_batch(&p.d, iov, N_MIXED), (int)N_MIXED);
    CHECK(!p.d.gso);
    /* Plain datagrams: even the GRO receiver reads them one by one. */
    expect_datagrams(p.rx, bufs, mixed, N_MIXED);
    CHECK_INT(mr_ice_direct_send_batch(&p.d, iov, 3), 3);
    expect_datagrams(p.rx, bufs, mixed, 3);
    pair_close(&p);
}

/* Nobody listening any more: an error, not a crash or a false count. */
static void test_send_error(void)
{
    static uint8_t bufs[N_MIXED][BUF_LEN];
    struct iovec iov[N_MIXED];
    struct pair p;
    CHECK(pair_open(&p, false));
    fill(bufs, iov, mixed, N_MIXED);
    close(p.tx);
    p.d.fd = p.tx;
    CHECK(mr_ice_direct_send_batch(&p.d, iov, N_MIXED) < 0);
    p.tx = socket(AF_INET, SOCK_DGRAM, 0);
    pair_close(&p);
}

/* --- The same batches through io_uring ------------------------------------ */

/* A ring, or NULL with a failed check: this machine's kernel has io_uring
 * (kernel.io_uring_disabled = 0), and the build links liburing. */
static struct mr_ice_uring *ring_new(void)
{
    struct mr_ice_uring *u = NULL;
    CHECK_INT(mr_ice_uring_new(&u), MR_OK);
    return u;
}

static void expect_result(struct mr_ice_uring *u, int h, unsigned sent, size_t bytes)
{
    unsigned s;
    size_t b;
    mr_ice_uring_result(u, h, &s, &b);
    CHECK_INT(s, sent);
    CHECK_INT(b, bytes);
}

static size_t total(const size_t *sizes, unsigned n)
{
    size_t t = 0;
    for (unsigned i = 0; i < n; i++)
        t += sizes[i];
    return t;
}

/* Three sockets' batches in one submit: each receiver gets its own
 * datagrams, intact and in order, and each batch's count is its own; a GRO
 * receiver sees the runs as GSO messages. */
static void test_uring_many_sockets(void)
{
    static uint8_t bufs[MAX_DGRAMS][BUF_LEN];
    struct iovec iov[MAX_DGRAMS];
    size_t sizes[MAX_DGRAMS];
    for (unsigned i = 0; i < MAX_DGRAMS; i++)
        sizes[i] = i < N_MIXED ? mixed[i] : 1172;
    struct pair p[3];
    CHECK(pair_open(&p[0], false) && pair_open(&p[1], false) && pair_open(&p[2], true));
    struct mr_ice_uring *u = ring_new();
    if (!u)
        goto out;
    fill(bufs, iov, sizes, MAX_DGRAMS);
    int h0 = mr_ice_uring_stage_direct(u, &p[0].d, iov, N_MIXED);
    int h1 = mr_ice_uring_stage_direct(u, &p[1].d, iov, 1);
    int h2 = mr_ice_uring_stage_direct(u, &p[2].d, iov, N_MIXED);
    CHECK(h0 >= 0 && h1 >= 0 && h2 >= 0 && h0 != h1 && h1 != h2);
    /* Nothing leaves before the submit. */
    int seg;
    static uint8_t got[65536];
    CHECK(read_one(p[0].rx, got, sizeof(got), &seg) < 0);
    CHECK_INT(mr_ice_uring_submit(u), MR_OK);
    expect_result(u, h0, N_MIXED, total(sizes, N_MIXED));
    expect_result(u, h1, 1, sizes[0]);
    expect_result(u, h2, N_MIXED, total(sizes, N_MIXED));
    expect_datagrams(p[0].rx, bufs, sizes, N_MIXED);
    expect_datagrams(p[1].rx, bufs, sizes, 1);
    expect_mixed_runs(p[2].rx, bufs);

    /* After a reset the ring takes the next round. */
    mr_ice_uring_reset(u);
    h1 = mr_ice_uring_stage_direct(u, &p[1].d, iov, MR_ICE_BATCH_MAX);
    CHECK_INT(h1, 0);
    CHECK_INT(mr_ice_uring_submit(u), MR_OK);
    expect_result(u, h1, MR_ICE_BATCH_MAX, total(sizes, MR_ICE_BATCH_MAX));
    expect_datagrams(p[1].rx, bufs, sizes, MR_ICE_BATCH_MAX);
out:
    mr_ice_uring_free(u);
    for (unsigned i = 0; i < 3; i++)
        pair_close(&p[i]);
}

/* The ring takes MR_ICE_URING_DATAGRAMS datagrams, then says no; a batch
 * larger than MR_ICE_BATCH_MAX or empty is refused. */
static void test_uring_full(void)
{
    static uint8_t bufs[MAX_DGRAMS][BUF_LEN];
    struct iovec iov[MAX_DGRAMS];
    size_t sizes[MAX_DGRAMS];
    for (unsigned i = 0; i < MAX_DGRAMS; i++)
        sizes[i] = 100 + i; /* no runs: one message per datagram */
    struct pair p;
    CHECK(pair_open(&p, false));
    struct mr_ice_uring *u = ring_new();
    if (!u)
        goto out;
    fill(bufs, iov, sizes, MAX_DGRAMS);
    CHECK_INT(mr_ice_uring_stage_direct(u, &p.d, iov, MR_ICE_BATCH_MAX + 1), -1);
    CHECK_INT(mr_ice_uring_stage_direct(u, &p.d, iov, 0), -1);
    unsigned batches = MR_ICE_URING_DATAGRAMS / MR_ICE_BATCH_MAX;
    for (unsigned b = 0; b < batches; b++)
        CHECK_INT(mr_ice_uring_stage_direct(u, &p.d, iov, MR_ICE_BATCH_MAX), (int)b);
    CHECK_INT(mr_ice_uring_stage_direct(u, &p.d, iov, 1), -1);
    CHECK_INT(mr_ice_uring_submit(u), MR_OK);
    for (unsigned b = 0; b < batches; b++)
        expect_result(u, (int)b, MR_ICE_BATCH_MAX, total(sizes, MR_ICE_BATCH_MAX));
    /* The batches one after the other, each in order. */
    static uint8_t got[65536];
    unsigned k = 0;
    int seg;
    ssize_t len;
    while ((len = read_one(p.rx, got, sizeof(got), &seg)) >= 0) {
        unsigned i = k++ % MR_ICE_BATCH_MAX;
        CHECK(len == (ssize_t)sizes[i] && memcmp(got, bufs[i], sizes[i]) == 0);
    }
    CHECK_INT(k, MR_ICE_URING_DATAGRAMS);
out:
    mr_ice_uring_free(u);
    pair_close(&p);
}

/* One socket refuses GSO (no UDP checksums) and one is closed, in the same
 * submit as a good one: the refused runs go again as plain datagrams, the
 * closed socket's batch counts nothing, the good one is untouched. */
static void test_uring_refusals(void)
{
    static uint8_t bufs[N_MIXED][BUF_LEN];
    struct iovec iov[N_MIXED];
    struct pair p[3];
    CHECK(pair_open(&p[0], true) && pair_open(&p[1], false) && pair_open(&p[2], false));
    int one = 1;
    CHECK(setsockopt(p[0].tx, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)) == 0);
    struct mr_ice_uring *u = ring_new();
    if (!u)
        goto out;
    fill(bufs, iov, mixed, N_MIXED);
    int bad = socket(AF_INET, SOCK_DGRAM, 0);
    p[1].d.fd = bad;
    close(bad); /* a descriptor number nobody holds */
    int h0 = mr_ice_uring_stage_direct(u, &p[0].d, iov, N_MIXED);
    int h1 = mr_ice_uring_stage_direct(u, &p[1].d, iov, N_MIXED);
    int h2 = mr_ice_uring_stage_direct(u, &p[2].d, iov, N_MIXED);
    CHECK_INT(mr_ice_uring_submit(u), MR_OK);
    expect_result(u, h0, N_MIXED, total(mixed, N_MIXED));
    CHECK(!p[0].d.gso);
    /* All of them, one by one even with GRO; the refused runs went again
     * after the submit, so after the datagrams that were no run. */
    static uint8_t got[65536];
    bool seen[N_MIXED] = {false};
    unsigned k = 0;
    int seg;
    ssize_t len;
    while ((len = read_one(p[0].rx, got, sizeof(got), &seg)) >= 0 && k++ < N_MIXED) {
        CHECK_INT(seg, 0);
        unsigned i = 0;
        while (i < N_MIXED &&
               (seen[i] || len != (ssize_t)mixed[i] || memcmp(got, bufs[i], mixed[i])))
            i++;
        CHECK(i < N_MIXED);
        if (i < N_MIXED)
            seen[i] = true;
    }
    CHECK_INT(k, N_MIXED);
    expect_result(u, h1, 0, 0);
    expect_result(u, h2, N_MIXED, total(mixed, N_MIXED));
    expect_datagrams(p[2].rx, bufs, mixed, N_MIXED);
    /* From then on that socket sends plain datagrams, in order. */
    mr_ice_uring_reset(u);
    h0 = mr_ice_uring_stage_direct(u, &p[0].d, iov, N_MIXED);
    CHECK_INT(mr_ice_uring_submit(u), MR_OK);
    expect_result(u, h0, N_MIXED, total(mixed, N_MIXED));
    expect_datagrams(p[0].rx, bufs, mixed, N_MIXED);
out:
    mr_ice_uring_free(u);
    for (unsigned i = 0; i < 3; i++)
        pair_close(&p[i]);
}

MR_TEST_MAIN(MR_TEST(test_datagrams_intact), MR_TEST(test_runs_leave_as_one_message),
             MR_TEST(test_full_batch), MR_TEST(test_refused_gso_falls_back),
             MR_TEST(test_send_error), MR_TEST(test_uring_many_sockets), MR_TEST(test_uring_full),
             MR_TEST(test_uring_refusals))
