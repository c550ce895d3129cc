/*
 * The direct send path of an ICE agent (internal to relay/ice): once a pair
 * is selected over UDP, datagrams go straight to the selected socket's file
 * descriptor with sendmsg/sendmmsg instead of through nice_agent_send, which
 * takes the agent's mutex, looks the component up, and wraps every datagram
 * in a GOutputMessage and g_socket_send_message. The bench profile put that
 * wrapping at about a tenth of the relay's CPU per forwarded packet.
 *
 * It is only a cache of libnice's own choice: refreshed when libnice selects
 * a pair, cleared whenever the component leaves CONNECTED/READY (so a failed
 * pair still stops the media at once) and on ICE restart. TCP and
 * TURN pairs have no plain socket (nice_agent_get_selected_socket gives
 * NULL) and keep using nice_agent_send.
 *
 * Thread: the agent's context only, like everything in struct mr_ice.
 */
#ifndef MR_ICE_ICE_DIRECT_H
#define MR_ICE_ICE_DIRECT_H

#include <gio/gio.h>
#include <nice/agent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct mr_ice_direct {
    GSocket *sock; /* owned reference; NULL when the path is off */
    int fd;
    struct sockaddr_storage to;
    socklen_t to_len;
    bool gso; /* runs of equal-size datagrams go as one UDP_SEGMENT message */
};

/* Takes the selected pair's UDP socket and remote address from the agent,
 * or turns the path off when there is none (TCP, TURN, nothing selected). */
void mr_ice_direct_refresh(struct mr_ice_direct *d, NiceAgent *agent, guint stream_id);
void mr_ice_direct_clear(struct mr_ice_direct *d);

static inline bool mr_ice_direct_on(const struct mr_ice_direct *d)
{
    return d->sock != NULL;
}

/* Asks for a receive buffer of bytes on the selected socket (beyond the
 * system's cap when the process may: SO_RCVBUFFORCE, else SO_RCVBUF).
 * Returns what the kernel granted (it doubles the request for its own
 * bookkeeping), or 0 when the path is off. */
int mr_ice_direct_set_rcvbuf(const struct mr_ice_direct *d, int bytes);

/* What waits unread in the selected socket's receive buffer, in the
 * kernel's accounting (SO_MEMINFO: each datagram's buffer, about twice its
 * size), and that buffer's limit in *limit. -1 when the path is off or the
 * kernel cannot tell. */
int mr_ice_direct_rx_queued(const struct mr_ice_direct *d, int *limit);

/* One datagram. Returns 0, MR_EAGAIN (socket buffer full) or MR_EIO. */
int mr_ice_direct_send(const struct mr_ice_direct *d, const uint8_t *buf, size_t len);

/* Up to n datagrams in one sendmmsg, each run of equal-size datagrams as
 * one UDP GSO message while the kernel takes them (falls back to plain
 * datagrams for good when it refuses). Returns how many datagrams the kernel
 * took (0..n), or a negative code when not even the first one went. */
int mr_ice_direct_send_batch(struct mr_ice_direct *d, const struct iovec *iov, unsigned n);

/* The messages mr_ice_direct_send_batch sends, for a caller that sends
 * them another way (ice_uring.c). */
union mr_ice_gso_cmsg {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
};
/* Fills msgs with one message per GSO run (one per datagram while GSO is
 * off) of iov[0..n), addressed to d's peer, ctl[i] holding message i's
 * UDP_SEGMENT; runs[i] is how many datagrams message i carries. The
 * messages borrow iov, ctl and d. Returns how many messages. */
unsigned mr_ice_direct_build_msgs(const struct mr_ice_direct *d, const struct iovec *iov,
                                  unsigned n, struct mmsghdr *msgs, union mr_ice_gso_cmsg *ctl,
                                  uint8_t *runs);
/* Whether errno err on a message of run datagrams means the path cannot
 * segment; if so, turns GSO off on d for good. */
bool mr_ice_direct_gso_refused(struct mr_ice_direct *d, unsigned run, int err);

/* The direct path of ice (defined in ice.c; for relay/ice only). */
struct mr_ice;
struct mr_ice_direct *mr_ice_direct_of(struct mr_ice *ice);

#endif
