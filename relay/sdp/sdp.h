/*
 * SDP (RFC 8866) as WebRTC uses it (RFC 8829 JSEP, RFC 8843 BUNDLE,
 * RFC 8839 ICE, RFC 8842 DTLS): a parser for offers and a writer for answers.
 *
 * The parser fills a caller-owned struct mr_sdp (large: allocate it on the
 * heap) and resolves session-level defaults into each media section, so a
 * media section always holds its effective ICE credentials, fingerprint and
 * setup role. No I/O, no logging, no clock. Limits below are generous for
 * real offers; lists past their limit keep their first entries (codecs are
 * in preference order), except media sections, which are an error.
 */
#ifndef MR_SDP_SDP_H
#define MR_SDP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/name.h"

#define MR_SDP_MAX_MEDIA 32
#define MR_SDP_MAX_CODECS 48
#define MR_SDP_MAX_EXTMAPS 24
#define MR_SDP_MAX_CANDIDATES 32
#define MR_SDP_MAX_SSRCS 16
#define MR_SDP_MAX_FID 8
#define MR_SDP_MID_MAX 32     /* bytes, without NUL */
#define MR_SDP_FMTP_MAX 255
#define MR_SDP_ICE_MAX 256    /* ufrag/pwd bytes (RFC 8839 §5.4: 4-256 / 22-256) */
#define MR_SDP_FPR_MAX 64     /* digest bytes (sha-512) */
#define MR_SDP_MAX_RIDS 8     /* a=rid lines per section; more is an error */
#define MR_SDP_RID_MAX 16     /* rid-id bytes; longer is an error (libwebrtc's
                                 rids are one to a few characters) */
#define MR_SDP_RID_PTS 8      /* pt= values kept per rid */

enum mr_media_kind { MR_MEDIA_AUDIO, MR_MEDIA_VIDEO, MR_MEDIA_APPLICATION, MR_MEDIA_OTHER };

enum mr_direction { MR_DIR_SENDRECV, MR_DIR_SENDONLY, MR_DIR_RECVONLY, MR_DIR_INACTIVE };

enum mr_setup { MR_SETUP_NONE, MR_SETUP_ACTPASS, MR_SETUP_ACTIVE, MR_SETUP_PASSIVE };

/* a=rtcp-fb values (RFC 4585 §4.2, RFC 5104 §7.1) as flags. */
enum {
    MR_FB_NACK = 1u << 0,      /* "nack" */
    MR_FB_NACK_PLI = 1u << 1,  /* "nack pli" */
    MR_FB_CCM_FIR = 1u << 2,   /* "ccm fir" */
    MR_FB_GOOG_REMB = 1u << 3, /* "goog-remb" */
    MR_FB_TWCC = 1u << 4,      /* "transport-cc" */
};

struct mr_sdp_codec {
    uint8_t pt;
    char name[32];        /* encoding name as written ("VP8", "opus", "H264") */
    uint32_t clock_rate;
    uint8_t channels;     /* 0 when not given */
    char fmtp[MR_SDP_FMTP_MAX + 1]; /* a=fmtp parameters as written, or "" */
    uint32_t fb;          /* MR_FB_* flags from a=rtcp-fb for this pt (or "*") */
};

struct mr_sdp_extmap {
    uint8_t id;           /* 1-255 */
    char uri[128];
};

/* An ICE candidate (RFC 8839 §5.1). */
struct mr_sdp_candidate {
    char foundation[33];
    unsigned component;   /* 1 = RTP */
    char transport[4];    /* "udp" or "tcp", lowercase */
    uint32_t priority;
    char addr[64];        /* IP address or a .local mDNS name */
    uint16_t port;
    char type[6];         /* "host", "srflx", "prflx", "relay" */
    char raddr[64];       /* "" when absent */
    uint16_t rport;
    char tcptype[8];      /* "active", "passive", "so" or "" */
};

struct mr_sdp_ssrc {
    uint32_t ssrc;
    char cname[64];
    char msid[128];       /* "stream track" from a=ssrc:N msid:, or "" */
};

/* A restriction identifier (RFC 8851): one RTP stream of a section, named
 * by the rtp-stream-id header extension. */
struct mr_sdp_rid {
    char id[MR_SDP_RID_MAX + 1];
    bool send;             /* "send" (the offerer sends it), else "recv" */
    unsigned n_pts;        /* pt=: the formats it may use; 0: any */
    uint8_t pts[MR_SDP_RID_PTS];
    uint32_t max_width;    /* 0: not given */
    uint32_t max_height;
    uint32_t max_fps;
};

/* One stream of an a=simulcast list (RFC 8853 §5.1): the first rid of an
 * alternative list ("1,2" offers 1 or 2; the relay takes the first). */
struct mr_sdp_sim_stream {
    char rid[MR_SDP_RID_MAX + 1];
    bool paused;           /* "~": announced but not sent for now */
};

struct mr_sdp_media {
    enum mr_media_kind kind;
    char kind_name[16];   /* the m= line's media type as written */
    uint16_t port;        /* 0: the offerer rejected or stopped this section,
                           * unless bundle_only */
    bool bundle_only;     /* a=bundle-only (RFC 8843 §6): port 0 means "only
                           * within the BUNDLE group", not rejected */
    char proto[32];       /* "UDP/TLS/RTP/SAVPF" */
    char first_fmt[32];   /* first format of the m= line as written ("111",
                           * "webrtc-datachannel"), for rejecting it */
    char mid[MR_SDP_MID_MAX + 1];
    enum mr_direction dir;
    bool rtcp_mux;
    bool rtcp_rsize;
    bool simulcast;       /* a=simulcast present */
    unsigned n_rids;      /* a=rid lines, in order */
    struct mr_sdp_rid rids[MR_SDP_MAX_RIDS];
    unsigned n_sim_send;  /* a=simulcast:send streams, in order */
    struct mr_sdp_sim_stream sim_send[MR_SDP_MAX_RIDS];
    unsigned n_codecs;
    struct mr_sdp_codec codecs[MR_SDP_MAX_CODECS]; /* m= line order */
    unsigned n_extmaps;
    struct mr_sdp_extmap extmaps[MR_SDP_MAX_EXTMAPS];
    unsigned n_ssrcs;
    struct mr_sdp_ssrc ssrcs[MR_SDP_MAX_SSRCS];
    unsigned n_fid;       /* a=ssrc-group:FID primary rtx */
    uint32_t fid[MR_SDP_MAX_FID][2];
    char msid[128];       /* a=msid value, or "" */

    /* Transport, effective (media level, else session level). */
    char ice_ufrag[MR_SDP_ICE_MAX + 1];
    char ice_pwd[MR_SDP_ICE_MAX + 1];
    bool ice_trickle;     /* a=ice-options:trickle */
    char fingerprint_alg[16];  /* lowercase, e.g. "sha-256", or "" */
    uint8_t fingerprint[MR_SDP_FPR_MAX];
    unsigned fingerprint_len;
    enum mr_setup setup;
    bool end_of_candidates;
    unsigned n_candidates;
    struct mr_sdp_candidate candidates[MR_SDP_MAX_CANDIDATES];
};

struct mr_sdp {
    uint64_t sess_id;
    uint64_t sess_version;
    bool ice_lite;
    bool extmap_allow_mixed;
    unsigned n_bundle;    /* mids of the first a=group:BUNDLE, in order */
    char bundle[MR_SDP_MAX_MEDIA][MR_SDP_MID_MAX + 1];
    unsigned n_media;
    struct mr_sdp_media media[MR_SDP_MAX_MEDIA];
};

/*
 * Parses an SDP description. Accepts CRLF or LF line ends; requires v=0
 * first, an o= line, and for every m= line of an RTP profile a non-empty
 * format list; rejects lines that are not "<letter>=<value>", non-printable
 * bytes, unparseable rtpmap/fmtp/extmap/candidate/fingerprint values and
 * duplicate mids. The last line must end with its line end too, so that a
 * truncated body is refused. Unknown attributes, blank lines, trailing blanks
 * and candidates of a transport or type the relay cannot use are ignored;
 * values longer than their field are an error. On failure out holds no media
 * sections. Uses about 30 KB of stack. Returns 0, MR_EINVAL (out NULL, or
 * text NULL with len > 0), or MR_EPARSE with a short reason ("line 12: ...")
 * in err.
 */
int mr_sdp_parse(const char *text, size_t len, struct mr_sdp *out, char *err, size_t err_len);

/* Parses the value of a candidate attribute ("candidate:..." prefix optional),
 * as found in SDP or a trickle-ice-sdpfrag; value need not be NUL-terminated.
 * Extension attributes ("generation 0 network-id 3") are skipped. Returns 0,
 * MR_EPARSE, or MR_ENOTSUP for a well-formed candidate whose transport is not
 * UDP or TCP or whose type is unknown (out is then filled but unusable). */
int mr_sdp_parse_candidate(const char *value, size_t len, struct mr_sdp_candidate *out);

/* Writes "candidate:..." (no "a=", no line end) and a NUL. Returns the length
 * (without the NUL), MR_ENOSPC, or MR_EINVAL for a candidate with an empty or
 * blank-containing field. */
int mr_sdp_write_candidate(const struct mr_sdp_candidate *c, char *out, size_t cap);

/* The rid of a section by id; NULL when absent. */
const struct mr_sdp_rid *mr_sdp_media_rid(const struct mr_sdp_media *m, const char *id);

/* Looks up a codec by payload type; NULL when absent. */
const struct mr_sdp_codec *mr_sdp_media_codec(const struct mr_sdp_media *m, uint8_t pt);

/* Finds a media section by mid; NULL when absent. */
const struct mr_sdp_media *mr_sdp_find_mid(const struct mr_sdp *sdp, const char *mid);

/* Reads an fmtp parameter ("packetization-mode") from a fmtp string into
 * out; returns 0, MR_ENOENT, or MR_ENOSPC. */
int mr_sdp_fmtp_param(const char *fmtp, const char *name, char *out, size_t cap);

/*
 * A trickle-ice-sdpfrag (RFC 8840 §9): ICE credentials, candidates and
 * end-of-candidates, gathered over all its media sections (one transport with
 * BUNDLE: credentials that differ between sections are an error). A fragment
 * whose ufrag/pwd differ from the session's asks for an ICE restart.
 */
struct mr_sdp_frag {
    char ice_ufrag[MR_SDP_ICE_MAX + 1]; /* "" when absent */
    char ice_pwd[MR_SDP_ICE_MAX + 1];
    bool end_of_candidates;
    unsigned n_candidates;
    struct mr_sdp_candidate candidates[MR_SDP_MAX_CANDIDATES];
};

/* Like mr_sdp_parse, but lines other than a= are not interpreted and the last
 * line may lack its line end. Returns 0, MR_EINVAL or MR_EPARSE (out empty). */
int mr_sdp_parse_frag(const char *text, size_t len, struct mr_sdp_frag *out, char *err,
                      size_t err_len);

/* --- Answers ------------------------------------------------------------ */

#define MR_SDP_ANSWER_MAX_CODECS 4
#define MR_SDP_ANSWER_MAX_EXTMAPS 8
#define MR_SDP_ANSWER_MAX_RIDS 4

/* One media section of an answer, in the offer's order. */
struct mr_sdp_answer_media {
    const struct mr_sdp_media *offer; /* borrowed: the section answered */
    bool rejected;                    /* port 0, only mid, inactive, rtcp-mux */
    enum mr_direction dir;
    unsigned n_codecs;                /* chosen codecs, with answer fmtp/fb */
    struct mr_sdp_codec codecs[MR_SDP_ANSWER_MAX_CODECS];
    unsigned n_extmaps;
    struct mr_sdp_extmap extmaps[MR_SDP_ANSWER_MAX_EXTMAPS];
    /* For sections we send on: one SSRC with its CNAME and msid, and its
     * retransmission SSRC (RFC 4588 §8.1, a=ssrc-group:FID). */
    uint32_t ssrc;                    /* 0: none */
    uint32_t rtx_ssrc;                /* 0: none */
    char cname[64];
    char msid_stream[64];
    char msid_track[64];
    /* For a publisher's simulcast section: the layers accepted, each
     * answered a=rid:<id> recv, and a=simulcast:recv in this order. */
    unsigned n_rids;
    struct mr_sdp_sim_stream rids[MR_SDP_ANSWER_MAX_RIDS];
};

struct mr_sdp_answer {
    uint64_t sess_id;
    uint64_t sess_version;
    const char *ice_ufrag;            /* borrowed */
    const char *ice_pwd;
    const char *fingerprint_alg;      /* "sha-256" */
    const char *fingerprint;          /* "AB:CD:..." uppercase hex pairs */
    enum mr_setup setup;              /* ACTIVE or PASSIVE */
    const char *conn_addr;            /* for c= lines, e.g. "127.0.0.1" */
    uint16_t conn_port;               /* for m= lines of accepted sections */
    unsigned n_candidates;
    const struct mr_sdp_candidate *candidates; /* borrowed */
    bool end_of_candidates;
    unsigned n_media;
    struct mr_sdp_answer_media media[MR_SDP_MAX_MEDIA];
};

/*
 * Writes an answer with CRLF line ends: session lines (o=- <sess_id>
 * <sess_version> IN IP4 0.0.0.0), a=group:BUNDLE with the mids of all
 * accepted sections (omitted when none is), a=ice-options:trickle,
 * a=msid-semantic: WMS *, and per accepted section: m= with conn_port and the
 * chosen payload types, c=, a=mid, direction, a=ice-ufrag/pwd, a=fingerprint,
 * a=setup (the same in every accepted section, the JSEP form), a=rtcp-mux,
 * (a=rtcp-rsize when offered), extmap, rtpmap/rtcp-fb/fmtp, and when ssrc is
 * set and the direction sends, msid and ssrc cname/msid lines. Candidates and
 * end-of-candidates go in the first accepted section only (JSEP §5.3.1: the
 * BUNDLE-tag section). An accepted section offered with a=bundle-only
 * (port 0) is answered like the others, with conn_port (RFC 9143 §7.3).
 * Rejected sections are written "m=<kind> 0 <proto>
 * <first offered format>", c=IN IP4 0.0.0.0, a=mid, a=inactive, and for RTP
 * a=rtcp-mux (RFC 8843 §7.3.3). Returns the length (excluding the NUL written
 * after it), MR_ENOSPC, or MR_EINVAL: setup neither ACTIVE nor PASSIVE, a
 * NULL or empty transport string, an accepted section without codecs or
 * offer, an SSRC without cname, or any string with a blank (where one word is
 * expected) or a control byte (which could inject lines).
 */
int mr_sdp_write_answer(const struct mr_sdp_answer *a, char *out, size_t cap);

/* --- Offers ------------------------------------------------------------- */

/* One media section of an offer the relay makes (it only sends). */
struct mr_sdp_offer_media {
    enum mr_media_kind kind;          /* MR_MEDIA_AUDIO or MR_MEDIA_VIDEO */
    char mid[MR_SDP_MID_MAX + 1];
    bool retired;                     /* port 0 and a=inactive: a section no
                                         longer used, kept in place (JSEP:
                                         m-lines never go away) */
    struct mr_sdp_codec codec;        /* the one codec sent (also written for
                                         a retired section, as its format) */
    struct mr_sdp_codec rtx;          /* its retransmission format (RFC 4588),
                                         name "" when none */
    struct mr_sdp_codec red;          /* its RED form (RFC 2198), listed
                                         first; name "" when none */
    unsigned n_extmaps;
    struct mr_sdp_extmap extmaps[MR_SDP_ANSWER_MAX_EXTMAPS];
    uint32_t ssrc;                    /* sent on; non-zero unless retired */
    uint32_t rtx_ssrc;                /* retransmissions; 0: none */
    char cname[64];
    char msid_stream[MR_NAME_MAX + 1]; /* a=msid:<stream> <track> */
    char msid_track[64];
};

struct mr_sdp_offer {
    uint64_t sess_id;
    uint64_t sess_version;            /* incremented by the caller per offer */
    const char *ice_ufrag;            /* borrowed */
    const char *ice_pwd;
    const char *fingerprint_alg;      /* "sha-256" */
    const char *fingerprint;          /* "AB:CD:..." */
    const char *conn_addr;            /* for c= lines */
    uint16_t conn_port;               /* for m= lines of live sections */
    unsigned n_candidates;
    const struct mr_sdp_candidate *candidates; /* borrowed */
    bool end_of_candidates;
    unsigned n_media;
    struct mr_sdp_offer_media media[MR_SDP_MAX_MEDIA];
};

/*
 * Writes a send-only offer with CRLF line ends (RFC 8829 JSEP §5.2.1,
 * RFC 8843 BUNDLE): session lines, a=group:BUNDLE with the mids of the live
 * sections (omitted when none is), a=ice-options:trickle, a=msid-semantic;
 * per live section: m= with conn_port and the codec's payload type, c=,
 * a=mid, a=sendonly, a=ice-ufrag/pwd, a=fingerprint, a=setup:actpass,
 * a=rtcp-mux, a=rtcp-rsize, extmaps, rtpmap/rtcp-fb/fmtp, a=msid and
 * a=ssrc cname/msid lines; candidates and end-of-candidates in the first
 * live section (the BUNDLE tag). A retired section is "m=<kind> 0
 * UDP/TLS/RTP/SAVPF <pt>", c=IN IP4 0.0.0.0, a=mid, a=inactive,
 * a=rtcp-mux and its rtpmap. Returns the length (a NUL follows), MR_ENOSPC,
 * or MR_EINVAL: a NULL or empty transport string, a kind other than audio
 * or video, an empty or duplicate mid, a payload type outside 96-127 or one
 * used with two different codec configurations, a live section without
 * SSRC or cname, or a string with a blank or control byte.
 */
int mr_sdp_write_offer(const struct mr_sdp_offer *o, char *out, size_t cap);

#endif
