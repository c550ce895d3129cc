/*
 * Fuzz target for the trickle-ICE half of relay/sdp: the body of a WHIP/WHEP
 * PATCH (application/trickle-ice-sdpfrag, RFC 8840 §9, RFC 9725 §4.3), which
 * reaches mr_sdp_parse_frag, and a room-protocol "candidate" string, which
 * reaches mr_sdp_parse_candidate. Both come from any client that holds a
 * session, many times per session. fuzz_sdp runs these parsers too, next to
 * the offer parser; this target has only them and a corpus of fragments and
 * candidate lines, so that libFuzzer spends its time here.
 *
 * Properties (abort() marks a broken one as a crash):
 *  - every string of a parsed candidate is NUL-terminated inside its field,
 *    and a usable candidate has the transport, type, ranges and characters
 *    sdp.h promises, and writes back (mr_sdp_write_candidate) to a line that
 *    parses to the same candidate;
 *  - a fragment holds at most MR_SDP_MAX_CANDIDATES usable candidates and
 *    valid ICE credentials; a refused one leaves the output empty and says
 *    which line, also into a small error buffer;
 *  - as sdp.h promises, a fragment without a final line end means the same
 *    as with one.
 * The input is copied into an exact-size heap block (and once more with a
 * CRLF appended) so that ASan sees any read past its length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sdp/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "property broken: %s\n", what);
        abort();
    }
}

static int terminated(const char *field, size_t size)
{
    return memchr(field, '\0', size) != NULL;
}

#define TERMINATED(field) terminated((field), sizeof(field))

static int is_ice(const char *s)
{
    return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")] ==
           '\0';
}

static int one_of(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, set[i]) == 0)
            return 1;
    return 0;
}

static void check_terminated(const struct mr_sdp_candidate *c)
{
    check(TERMINATED(c->foundation) && TERMINATED(c->transport) && TERMINATED(c->addr) &&
              TERMINATED(c->type) && TERMINATED(c->raddr) && TERMINATED(c->tcptype),
          "candidate string not NUL-terminated in its field");
}

static int same_candidate(const struct mr_sdp_candidate *a, const struct mr_sdp_candidate *b)
{
    /* The writer leaves rport out when there is no raddr. */
    return strcmp(a->foundation, b->foundation) == 0 && a->component == b->component &&
           strcmp(a->transport, b->transport) == 0 && a->priority == b->priority &&
           strcmp(a->addr, b->addr) == 0 && a->port == b->port &&
           strcmp(a->type, b->type) == 0 && strcmp(a->raddr, b->raddr) == 0 &&
           (a->raddr[0] == '\0' || a->rport == b->rport) && strcmp(a->tcptype, b->tcptype) == 0;
}

/* A candidate mr_sdp_parse_candidate accepted as usable (rc 0). */
static void check_usable(const struct mr_sdp_candidate *c)
{
    static const char *const transports[] = {"udp", "tcp"};
    static const char *const types[] = {"host", "srflx", "prflx", "relay"};
    static const char *const tcptypes[] = {"", "active", "passive", "so"};
    check_terminated(c);
    check(c->foundation[0] && strlen(c->foundation) <= 32 && is_ice(c->foundation),
          "foundation is not 1-32 ice-chars");
    check(c->component >= 1 && c->component <= 256, "component outside 1-256");
    check(c->priority != 0, "priority 0");
    check(c->addr[0] != '\0', "empty address");
    check(one_of(c->transport, transports, 2), "transport neither udp nor tcp");
    check(one_of(c->type, types, 4), "unknown candidate type");
    check(one_of(c->tcptype, tcptypes, 4), "unknown tcptype");

    char line[256];
    int n = mr_sdp_write_candidate(c, line, sizeof(line));
    check(n > 0 && (size_t)n < sizeof(line) && line[n] == '\0',
          "a parsed candidate cannot be written");
    struct mr_sdp_candidate back;
    check(mr_sdp_parse_candidate(line, (size_t)n, &back) == 0,
          "a written candidate does not parse back");
    check(same_candidate(c, &back), "a candidate changes when written and parsed back");
}

/* The input as a room-protocol candidate string. */
static void candidate(const char *text, size_t len)
{
    struct mr_sdp_candidate c;
    int rc = mr_sdp_parse_candidate(text, len, &c);
    check(rc == 0 || rc == MR_EPARSE || rc == MR_ENOTSUP, "unexpected return code");
    if (rc == MR_ENOTSUP)
        check_terminated(&c);
    else if (rc == 0)
        check_usable(&c);
}

static void check_frag(int rc, const struct mr_sdp_frag *f, const char *err)
{
    if (rc != 0) {
        static const struct mr_sdp_frag empty;
        check(rc == MR_EPARSE, "unexpected return code");
        check(memcmp(f, &empty, sizeof(empty)) == 0, "a refused fragment left output behind");
        check(strncmp(err, "line ", 5) == 0, "error without its line number");
        return;
    }
    check(err[0] == '\0', "error text on success");
    check(TERMINATED(f->ice_ufrag) && TERMINATED(f->ice_pwd), "credential not NUL-terminated");
    size_t ul = strlen(f->ice_ufrag), pl = strlen(f->ice_pwd);
    check((ul == 0 || (ul >= 4 && ul <= MR_SDP_ICE_MAX)) && is_ice(f->ice_ufrag),
          "ice-ufrag is not 4-256 ice-chars");
    check((pl == 0 || (pl >= 22 && pl <= MR_SDP_ICE_MAX)) && is_ice(f->ice_pwd),
          "ice-pwd is not 22-256 ice-chars");
    check(f->n_candidates <= MR_SDP_MAX_CANDIDATES, "too many candidates");
    for (unsigned i = 0; i < f->n_candidates; i++)
        check_usable(&f->candidates[i]);
}

static int same_frag(const struct mr_sdp_frag *a, const struct mr_sdp_frag *b)
{
    if (strcmp(a->ice_ufrag, b->ice_ufrag) != 0 || strcmp(a->ice_pwd, b->ice_pwd) != 0 ||
        a->end_of_candidates != b->end_of_candidates || a->n_candidates != b->n_candidates)
        return 0;
    for (unsigned i = 0; i < a->n_candidates; i++)
        if (!same_candidate(&a->candidates[i], &b->candidates[i]) ||
            a->candidates[i].rport != b->candidates[i].rport)
            return 0;
    return 1;
}

static struct mr_sdp_frag frag, frag_eol;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    char *with_eol = malloc(size + 2);
    if (!text || !with_eol)
        goto out;
    memcpy(text, data, size);
    memcpy(with_eol, data, size);
    memcpy(with_eol + size, "\r\n", 2);

    candidate(text, size);

    char err[128] = "x";
    int rc = mr_sdp_parse_frag(text, size, &frag, err, sizeof(err));
    check_frag(rc, &frag, err);

    /* The same text with its last line ended: the same result, and the
     * same reason, also cut short in a small error buffer. */
    if (size > 0 && data[size - 1] != '\n' && data[size - 1] != '\r') {
        char small[6] = "xxxxx";
        int rc2 = mr_sdp_parse_frag(with_eol, size + 2, &frag_eol, small, sizeof(small));
        check(rc2 == rc, "a final line end changes the result");
        check(rc != 0 || same_frag(&frag, &frag_eol), "a final line end changes the fragment");
        check(strlen(small) < sizeof(small) && strncmp(small, err, strlen(small)) == 0,
              "error text differs or overflows a small buffer");
    }
    (void)mr_sdp_parse_frag(text, size, &frag_eol, NULL, 0);

out:
    free(text);
    free(with_eol);
    return 0;
}
