#include "ice/ice_direct.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <linux/sock_diag.h>
#include <string.h>

#include "core/error.h"
#include "ice/ice.h"

void mr_ice_direct_clear(struct mr_ice_direct *d)
{
    if (d->sock)
        g_object_unref(d->sock);
    memset(d, 0, sizeof(*d));
    d->fd = -1;
}

void mr_ice_direct_refresh(struct mr_ice_direct *d, NiceAgent *agent, guint stream_id)
{
    mr_ice_direct_clear(d);
    NiceCandidate *local = NULL, *remote = NULL;
    if (!nice_agent_get_selected_pair(agent, stream_id, 1, &local, &remote) ||
        local->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
        local->type == NICE_CANDIDATE_TYPE_RELAYED)
        return;
    /* transfer full; NULL for TCP and TURN pairs */
    GSocket *sock = nice_agent_get_selected_socket(agent, stream_id, 1);
    if (!sock)
        return;
    struct sockaddr_storage to;
    memset(&to, 0, sizeof(to));
    nice_address_copy_to_sockaddr(&remote->addr, (struct sockaddr *)&to);
    socklen_t to_len = to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                       : to.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                 : 0;
    int fd = g_socket_get_fd(sock);
    if (!to_len || fd < 0 || g_socket_get_protocol(sock) != G_SOCKET_PROTOCOL_UDP) {
        g_object_unref(sock);
        return;
    }
    d->sock = sock;
    d->fd = fd;
    d->to = to;
    d->to_len = to_len;
    d->gso = true; /* until the kernel refuses it (mr_ice_direct_send_batch) */
}

int mr_ice_direct_set_rcvbuf(const struct mr_ice_direct *d, int bytes)
{
    if (!d->sock)
        return 0;
    if (setsockopt(d->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
        (void)setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    int granted = 0;
    socklen_t len = sizeof(granted);
    return getsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &granted, &len) == 0 ? granted : 0;
}

int mr_ice_direct_rx_queued(const struct mr_ice_direct *d, int *limit)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof(mem);
    if (!d->sock || getsockopt(d->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
        len < sizeof(uint32_t) * (SK_MEMINFO_RCVBUF + 1))
        return -1;
    *limit = (int)mem[SK_MEMINFO_RCVBUF];
    return (int)mem[SK_MEMINFO_RMEM_ALLOC];
}

int mr_ice_direct_send(const struct mr_ice_direct *d, const uint8_t *buf, size_t len)
{
    ssize_t n;
    do
        n = sendto(d->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&d->to,
                   d->to_len);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len)
        return 0;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) ? MR_EAGAIN
                                                                                : MR_EIO;
}

/* UDP GSO (UDP_SEGMENT, Linux 4.18): one message carries a run of
 * datagrams of one size (the run's last may be shorter) and the kernel
 * builds one buffer, routes it once and cuts it into datagrams as late as it
 * can: in the NIC when it offloads UDP segmentation, else just before the
 * driver (or, on loopback and veth, in the receiver's path). A video frame's
 * packets are such a run: Chromium splits a frame evenly (sizes differ by at
 * most one byte, so a frame is one or two runs), GStreamer and hardware
 * encoders fill each packet to the MTU and leave the rest to the last. */
#define GSO_MAX_SEGS 64     /* UDP_MAX_SEGMENTS on older kernels */
#define GSO_MAX_BYTES 60000 /* below 64 KiB with the headers */

/* How many datagrams from iov[0] one GSO message may carry. */
static unsigned gso_run(const struct iovec *iov, unsigned n)
{
    size_t seg = iov[0].iov_len, total = seg;
    unsigned k = 1;
    while (k < n && k < GSO_MAX_SEGS && iov[k].iov_len <= seg &&
           total + iov[k].iov_len <= GSO_MAX_BYTES) {
        total += iov[k].iov_len;
        if (iov[k++].iov_len < seg)
            break;
    }
    return k;
}

unsigned mr_ice_direct_build_msgs(const struct mr_ice_direct *d, const struct iovec *iov,
                                  unsigned n, struct mmsghdr *msgs, union mr_ice_gso_cmsg *ctl,
                                  uint8_t *runs)
{
    unsigned m = 0;
    for (unsigned i = 0; i < n; m++) {
        unsigned k = d->gso ? gso_run(iov + i, n - i) : 1;
        msgs[m] = (struct mmsghdr){
            .msg_hdr =
                {
                    .msg_name = (void *)&d->to,
                    .msg_namelen = d->to_len,
                    .msg_iov = (struct iovec *)&iov[i],
                    .msg_iovlen = k,
                },
        };
        if (k > 1) {
            memset(&ctl[m], 0, sizeof(ctl[m]));
            msgs[m].msg_hdr.msg_control = ctl[m].buf;
            msgs[m].msg_hdr.msg_controllen = sizeof(ctl[m].buf);
            struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[m].msg_hdr);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t seg = (uint16_t)iov[i].iov_len;
            memcpy(CMSG_DATA(c), &seg, sizeof(seg));
        }
        runs[m] = (uint8_t)k;
        i += k;
    }
    return m;
}

bool mr_ice_direct_gso_refused(struct mr_ice_direct *d, unsigned run, int err)
{
    /* No UDP_SEGMENT, IPsec, a datagram longer than the route's MTU. */
    if (run < 2 || (err != EINVAL && err != EIO && err != EOPNOTSUPP))
        return false;
    d->gso = false;
    return true;
}

int mr_ice_direct_send_batch(struct mr_ice_direct *d, const struct iovec *iov, unsigned n)
{
    struct mmsghdr msgs[MR_ICE_BATCH_MAX];
    union mr_ice_gso_cmsg ctl[MR_ICE_BATCH_MAX];
    uint8_t runs[MR_ICE_BATCH_MAX];
    if (n > MR_ICE_BATCH_MAX)
        n = MR_ICE_BATCH_MAX;
    if (n == 0)
        return 0;
    unsigned m = mr_ice_direct_build_msgs(d, iov, n, msgs, ctl, runs);
    int sent;
    do
        sent = sendmmsg(d->fd, msgs, m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent >= 0) {
        unsigned datagrams = 0;
        for (int i = 0; i < sent; i++)
            datagrams += runs[i];
        return (int)datagrams;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
        return MR_EAGAIN;
    if (mr_ice_direct_gso_refused(d, runs[0], errno)) {
        /* The path cannot segment: plain datagrams from now on. */
        return mr_ice_direct_send_batch(d, iov, n);
    }
    return MR_EIO;
}
