/*
 * The media description: everything the relay says about media in SDP,
 * written once for both kinds of session. WHIP/WHEP answers
 * (relay/sfu/plan.c, answer.c) and room-subscription offers
 * (relay/sfu/room_sub.c) are built from it:
 *
 *  - the codec table: the relay forwards without transcoding, so it
 *    accepts exactly Opus (with its RED form, RFC 2198) for audio, VP8
 *    and H.264 with
 *    packetization-mode=1 for video. A publisher's m-line gets its most
 *    preferred supported codec; a subscriber's m-line gets the payload type
 *    (in its own numbering) that matches what the publisher sends;
 *  - payload types when the relay offers (struct mr_pt_table);
 *  - the SDP form of a codec (rtpmap, fmtp, rtcp-fb), the same in answers
 *    and offers;
 *  - the RTCP feedback (MR_RELAY_FB) and header extensions
 *    (mr_negotiate_ext_honoured, mr_negotiate_offer_exts) the relay honours
 *    end to end. Adding NACK, transport-cc, RTX or RID means adding it
 *    here, once the relay handles it;
 *  - the transport checks of offers and answers (negotiate_transport.c).
 */
#ifndef MR_SDP_NEGOTIATE_H
#define MR_SDP_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp/rtp.h"
#include "sdp/sdp.h"

enum mr_codec_id { MR_CODEC_NONE = 0, MR_CODEC_OPUS, MR_CODEC_VP8, MR_CODEC_H264 };

/* A negotiated codec in one peer's numbering. */
struct mr_codec {
    enum mr_codec_id id;
    uint8_t pt;
    uint32_t clock_rate;
    uint8_t channels;
    uint8_t h264_profile_idc;  /* from profile-level-id, H.264 only */
    uint8_t h264_profile_iop;
    uint8_t h264_level_idc;
    char fmtp[MR_SDP_FMTP_MAX + 1]; /* fmtp to put in the answer */
    uint32_t fb;               /* MR_RELAY_FB bits as offered */
    uint8_t rtx_pt;            /* its RTX format (RFC 4588 apt=pt); 0: none */
    uint8_t red_pt;            /* Opus: its RED format (RFC 2198, pt/pt); 0: none */
};

/* Per kind, the id the peer uses for each handled extension (0: none). */
struct mr_ext_ids {
    uint8_t id[MR_RTP_EXT_KIND_COUNT];
};

/* RTCP feedback the relay honours: PLI and FIR go to the publisher,
 * merged; generic NACK is answered by the relay from its packet history
 * towards viewers, and sent by the relay to publishers for what it lost
 * (with RTX, RFC 4588, when negotiated). Both kinds of session negotiate
 * these; video only (Opus repairs itself with in-band FEC). */
#define MR_RELAY_FB (MR_FB_NACK_PLI | MR_FB_CCM_FIR | MR_FB_NACK)
/* Transport-wide congestion control (relay/rtcp/twcc.h), with the
 * transport-wide sequence number extension: the relay sends it to
 * publishers, so a clinic's encoder fits its uplink, and reads it from
 * WHEP viewers, to estimate each viewer's downlink (relay/bwe/bwe.h) and
 * choose its simulcast layer (sfu/downlink.c). Audio and video alike:
 * every packet of the transport counts. */
#define MR_CC_FB MR_FB_TWCC

/* Whether the relay handles an extension kind on a section of this media
 * kind (the mid everywhere, the audio level on audio). */
bool mr_negotiate_ext_honoured(enum mr_media_kind kind, enum mr_rtp_ext_kind ext);
/* The ids the relay uses for its own offers: every honoured kind, and
 * the transport-wide sequence number (its offers' codecs offer
 * transport-cc), each the same in every section. */
void mr_negotiate_offer_exts(enum mr_media_kind kind, struct mr_ext_ids *out);
/* The extmap lines for ids, into out[0..max). The ids hold honoured kinds
 * only: mr_negotiate_ext_ids and mr_negotiate_offer_exts make them so. */
unsigned mr_negotiate_extmaps(const struct mr_ext_ids *ids, struct mr_sdp_extmap *out,
                              unsigned max);

/* Payload types of one session the relay offers: fixed per session so that
 * one number never means two codec configurations in a bundle (RFC 8843
 * §9.1): Opus 111, VP8 96, H.264 102 and up, one per profile-level-id. */
#define MR_PT_TABLE_H264 8
struct mr_pt_table {
    unsigned n_h264;
    uint8_t h264[MR_PT_TABLE_H264][3]; /* profile-level-id of 102 + i */
};

/* What the relay sends for a publisher's codec, in the table's numbering
 * (id, pt, clock rate, channels, profile-level-id, fmtp, MR_RELAY_FB and
 * MR_CC_FB).
 * Returns 0, or MR_ELIMIT when no payload type is left for another H.264
 * profile, MR_ECODEC for a codec the relay does not forward. */
int mr_negotiate_offer_codec(struct mr_pt_table *t, const struct mr_codec *pub,
                             struct mr_codec *out);

/* The SDP form of a negotiated codec: rtpmap, fmtp, and the feedback the
 * relay honours of c->fb. */
void mr_negotiate_codec_sdp(const struct mr_codec *c, struct mr_sdp_codec *out);

/* The SDP form of a codec's RTX format ("rtx/90000", apt=pt); false when
 * it has none. */
bool mr_negotiate_rtx_sdp(const struct mr_codec *c, struct mr_sdp_codec *out);
/* The SDP form of Opus's RED format ("red/48000/2", pt/pt); false when it
 * has none. Listed first, it is what a browser sends (RFC 2198 redundancy
 * for a lossy uplink). */
bool mr_negotiate_red_sdp(const struct mr_codec *c, struct mr_sdp_codec *out);

enum mr_codec_id mr_codec_id_from_name(const char *name);
const char *mr_codec_name(enum mr_codec_id id); /* "opus", "VP8", "H264" */

/*
 * Chooses the codec a publisher's m-line will send: the first offered codec
 * the relay can forward for the section's kind. Returns 0 or MR_ECODEC.
 */
int mr_negotiate_publish_codec(const struct mr_sdp_media *m, struct mr_codec *out);

/*
 * Finds, in a subscriber's m-line, the payload type that can receive what the
 * publisher sends (`published`): same codec and, for H.264, packetization-mode
 * 1 and a compatible profile (the same profile, or Constrained Baseline
 * content to a Baseline decoder; an exact profile match is preferred over a
 * compatible one offered earlier). Levels are not compared: WebRTC peers
 * offer level-asymmetry-allowed. out carries the subscriber's payload type,
 * fmtp, profile-level-id fields and feedback (MR_RELAY_FB | MR_CC_FB as
 * offered). Returns 0 or
 * MR_ECODEC.
 */
int mr_negotiate_subscribe_codec(const struct mr_sdp_media *m, const struct mr_codec *published,
                                 struct mr_codec *out);

/* Reads the ids of the extensions the relay handles from an m-line. */
void mr_negotiate_ext_ids(const struct mr_sdp_media *m, struct mr_ext_ids *out);
/* The same, with the transport-wide sequence number when the section's
 * codec negotiated transport-cc (c->fb), and for a publisher's section
 * that sends simulcast, the rid extensions. */
void mr_negotiate_codec_ext_ids(const struct mr_sdp_media *m, const struct mr_codec *c,
                                  struct mr_ext_ids *out);

/*
 * The simulcast layers (RFC 8853) a publisher's section will send, with
 * codec c and the extension ids ext negotiated: the streams of its
 * a=simulcast send list (the first of each alternative list) whose a=rid
 * lines allow c, at most max, in the offer's order, into out. 0 (one plain
 * stream) for audio, without the rid extension, or with fewer than two.
 * Returns the count, or MR_EPARSE (detail says why) when the list names a
 * rid that no a=rid send line defines.
 */
int mr_negotiate_simulcast(const struct mr_sdp_media *m, const struct mr_codec *c,
                           const struct mr_ext_ids *ext, struct mr_sdp_sim_stream *out,
                           unsigned max, char *detail, size_t dlen);

/* Fills an answer section's codec, feedback and extmap lists from the
 * negotiated codec and extension ids. */
void mr_negotiate_fill_answer(struct mr_sdp_answer_media *am, const struct mr_codec *c,
                              const struct mr_ext_ids *ext);

/* --- Transport checks (negotiate_transport.c) ----------------------------- */

/* Whether an offered section is one the relay can take: audio or video over
 * DTLS-SRTP, in the BUNDLE group when there is one, and not rejected by the
 * offerer (port 0 without a=bundle-only). */
bool mr_negotiate_usable_media(const struct mr_sdp *sdp, const struct mr_sdp_media *m);

/* Finds the section that carries an offer's transport (RFC 8843 §7.2: the
 * first mid of the BUNDLE group, else the one usable section) and checks it
 * has what ICE and DTLS need. *tm gets its index. Returns 0, MR_EPARSE
 * (detail says why) or MR_ECODEC (no usable section). */
int mr_negotiate_offer_transport(const struct mr_sdp *sdp, unsigned *tm, char *detail,
                                 size_t dlen);

/* rtcp-mux for an accepted section: its own, or within a bundle the
 * tagged section's (RFC 8843 §9.3: one transport). */
bool mr_negotiate_rtcp_mux(const struct mr_sdp *sdp, unsigned tm, unsigned i);

/* Checks the section that carries an answer's transport, to an offer the
 * relay made: ICE credentials, a fingerprint, a=setup active or passive
 * (RFC 8842 §5.2), rtcp-mux. Returns 0 or MR_EPARSE. */
int mr_negotiate_answer_transport(const struct mr_sdp_media *tm, char *detail, size_t dlen);

#endif
