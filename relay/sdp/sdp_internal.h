/*
 * Internal to relay/sdp: the lexer shared by the SDP and trickle-fragment
 * parsers, and the state the SDP parser hands to its attribute handlers.
 * Nothing here is part of the module's contract (sdp.h, negotiate.h).
 *
 * Every helper works on a span (pointer and length) into the caller's text,
 * which need not be NUL-terminated; no helper reads outside its span.
 */
#ifndef MR_SDP_SDP_INTERNAL_H
#define MR_SDP_SDP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdp/sdp.h"

struct mr_sdp_span {
    const char *p;
    size_t n;
};

/* --- Lexer (sdp_lex.c) --------------------------------------------------- */

/* Iterates over the lines of a text, counting them from 1. */
struct mr_sdp_lines {
    const char *text;
    size_t len;
    size_t pos;
    unsigned line_no;
};

void mr_sdp_lines_init(struct mr_sdp_lines *it, const char *text, size_t len);

/*
 * Yields the next line without its CRLF or LF. Returns 1 with a line, 0 at
 * the end of the text, or MR_EPARSE with a reason in *why: a control byte
 * (NUL included) or a CR not followed by LF inside the line, or, when
 * require_eol is set, a last line without its line end (a truncated text).
 */
int mr_sdp_lines_next(struct mr_sdp_lines *it, bool require_eol, struct mr_sdp_span *line,
                      const char **why);

struct mr_sdp_span mr_sdp_span_trim(struct mr_sdp_span s);

/* Takes the next token separated by runs of spaces or tabs from *rest;
 * false when only blanks remain. */
bool mr_sdp_token_next(struct mr_sdp_span *rest, struct mr_sdp_span *tok);

/* Splits s at the first sep; false (and nothing written) when absent. */
bool mr_sdp_span_cut(struct mr_sdp_span s, char sep, struct mr_sdp_span *before,
                     struct mr_sdp_span *after);

bool mr_sdp_span_eq(struct mr_sdp_span s, const char *lit);
bool mr_sdp_span_ieq(struct mr_sdp_span s, const char *lit); /* ASCII case-insensitive */

/* A decimal number of 1-20 digits, no sign, at most max. 0 or MR_EPARSE. */
int mr_sdp_span_uint(struct mr_sdp_span s, uint64_t max, uint64_t *out);

/* Copies s and a NUL into dst; MR_EPARSE when s is empty or does not fit. */
int mr_sdp_span_copy(struct mr_sdp_span s, char *dst, size_t cap);

/* RFC 8866 token characters only (non-empty). */
bool mr_sdp_span_is_token(struct mr_sdp_span s);

/* RFC 8839 ice-char = ALPHA / DIGIT / "+" / "/" (non-empty). */
bool mr_sdp_span_is_ice(struct mr_sdp_span s);

/* Characters that may appear in an SDP value written back by the relay:
 * printable ASCII and UTF-8 bytes, no control bytes. */
bool mr_sdp_str_is_text(const char *s);

/* Copies an ICE ufrag or pwd after checking its characters and its length
 * (min..MR_SDP_ICE_MAX, RFC 8839 §5.4). 0 or MR_EPARSE. */
int mr_sdp_ice_cred(struct mr_sdp_span v, size_t min, char *dst);

/* --- SDP parser state (sdp_parse.c, sdp_attr.c) --------------------------- */

struct mr_sdp_pctx {
    struct mr_sdp *out;
    struct mr_sdp_media *cur; /* &sess before the first m= line */
    bool in_media;
    bool is_rtp;  /* cur has an RTP profile */
    bool dir_set; /* cur had a direction attribute */
    bool sess_dir_set;
    bool bundle_seen;
    uint8_t rtpmap_seen[16]; /* bit per payload type of cur */
    uint8_t fmtp_seen[16];
    const char *why; /* reason for MR_EPARSE */
    /* Session-level values, inherited by media sections that lack them. */
    struct mr_sdp_media sess;
};

/* a=rid and a=simulcast (sdp_simulcast.c). */
int mr_sdp_attr_rid(struct mr_sdp_pctx *c, struct mr_sdp_span v);
int mr_sdp_attr_simulcast(struct mr_sdp_pctx *c, struct mr_sdp_span v);

/* Handles one a= line of the session (c->in_media false) or the current
 * media section. Unknown attributes return 0. */
int mr_sdp_attr_dispatch(struct mr_sdp_pctx *c, struct mr_sdp_span name, struct mr_sdp_span value);

#endif
