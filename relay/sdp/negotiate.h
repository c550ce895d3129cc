/*
 * Codec and header-extension choices for the relay's answers.
 *
 * The relay forwards without transcoding, so it accepts exactly: Opus for
 * audio, VP8 and H.264 with packetization-mode=1 for video. A publisher's
 * m-line gets its most preferred supported codec; a subscriber's m-line gets
 * the payload type (in its own numbering) that matches what the publisher
 * sends. Only feedback the relay honours end to end is kept (PLI, FIR), and
 * only header extensions it handles (enum mr_rtp_ext_kind).
 */
#ifndef MR_SDP_NEGOTIATE_H
#define MR_SDP_NEGOTIATE_H

#include <stdbool.h>
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
    uint32_t fb;               /* MR_FB_NACK_PLI | MR_FB_CCM_FIR as offered */
};

/* Per kind, the id the peer uses for each handled extension (0: none). */
struct mr_ext_ids {
    uint8_t id[MR_RTP_EXT_KIND_COUNT];
};

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
 * fmtp, profile-level-id fields and feedback (PLI/FIR only). Returns 0 or
 * MR_ECODEC.
 */
int mr_negotiate_subscribe_codec(const struct mr_sdp_media *m, const struct mr_codec *published,
                                 struct mr_codec *out);

/* Reads the ids of the extensions the relay handles from an m-line. */
void mr_negotiate_ext_ids(const struct mr_sdp_media *m, struct mr_ext_ids *out);

/* Fills an answer section's codec, feedback and extmap lists from the
 * negotiated codec and extension ids. */
void mr_negotiate_fill_answer(struct mr_sdp_answer_media *am, const struct mr_codec *c,
                              const struct mr_ext_ids *ext);

#endif
