#include "ice/ice_direct.h"

#include <errno.h>
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

int mr_ice_direct_send_batch(const struct mr_ice_direct *d, const struct iovec *iov, unsigned n)
{
    struct mmsghdr msgs[MR_ICE_BATCH_MAX];
    if (n > MR_ICE_BATCH_MAX)
        n = MR_ICE_BATCH_MAX;
    for (unsigned i = 0; i < n; i++)
        msgs[i] = (struct mmsghdr){
            .msg_hdr =
                {
                    .msg_name = (void *)&d->to,
                    .msg_namelen = d->to_len,
                    .msg_iov = (struct iovec *)&iov[i],
                    .msg_iovlen = 1,
                },
        };
    int sent;
    do
        sent = sendmmsg(d->fd, msgs, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent >= 0)
        return sent;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? MR_EAGAIN : MR_EIO;
}
