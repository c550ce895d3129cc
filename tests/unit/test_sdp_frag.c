/*
 * Trickle ICE fragments (mr_sdp_parse_frag): the RFC 8840 §9 / RFC 9725
 * §4.3.1 forms a WHIP or WHEP client sends in a PATCH.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "mr_test.h"
#include "sdp/sdp.h"

static int parse(const char *text, struct mr_sdp_frag *f, char *err, size_t err_len)
{
    return mr_sdp_parse_frag(text, strlen(text), f, err, err_len);
}

/* RFC 9725 §4.3.1's example: credentials, a mid, four candidates with
 * Chromium's extensions (ufrag included), and end-of-candidates. */
static void test_rfc_example(void)
{
    const char *text = "a=ice-options:trickle ice2\r\n"
                       "a=group:BUNDLE 0 1\r\n"
                       "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                       "a=mid:0\r\n"
                       "a=ice-ufrag:EsAw\r\n"
                       "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n"
                       "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host "
                       "generation 0 ufrag EsAw network-id 1\r\n"
                       "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host "
                       "generation 0 ufrag EsAw network-id 2\r\n"
                       "a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype "
                       "active generation 0 ufrag EsAw network-id 1\r\n"
                       "a=candidate:2154773085 1 tcp 1518214911 198.51.100.2 9 typ host tcptype "
                       "active generation 0 ufrag EsAw network-id 2\r\n"
                       "a=end-of-candidates\r\n";
    struct mr_sdp_frag f;
    char err[128] = "";
    CHECK_INT(parse(text, &f, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_STR(f.ice_ufrag, "EsAw");
    CHECK_STR(f.ice_pwd, "bP+XJMM09aR8AiX1jdukzR6Y");
    CHECK(f.end_of_candidates);
    CHECK_INT(f.n_candidates, 4);
    CHECK_STR(f.candidates[0].addr, "192.0.2.1");
    CHECK_INT(f.candidates[0].port, 61764);
    CHECK_STR(f.candidates[1].addr, "198.51.100.2");
    CHECK_STR(f.candidates[2].transport, "tcp");
    CHECK_STR(f.candidates[2].tcptype, "active");
    CHECK_INT(f.candidates[3].priority, 1518214911u);
}

/* A bare trickle without credentials (and without a final line end, with LF
 * line ends): what simple clients send for each new candidate. */
static void test_candidates_only(void)
{
    const char *text = "a=mid:0\n"
                       "a=candidate:1 1 UDP 2130706431 127.0.0.1 50000 typ host\n"
                       "a=candidate:2 1 udp 1694498815 203.0.113.5 50001 typ srflx raddr "
                       "127.0.0.1 rport 50000";
    struct mr_sdp_frag f;
    CHECK_INT(parse(text, &f, NULL, 0), 0);
    CHECK_STR(f.ice_ufrag, "");
    CHECK_STR(f.ice_pwd, "");
    CHECK(!f.end_of_candidates);
    CHECK_INT(f.n_candidates, 2);
    CHECK_STR(f.candidates[0].transport, "udp");
    CHECK_STR(f.candidates[1].type, "srflx");
    CHECK_STR(f.candidates[1].raddr, "127.0.0.1");
    CHECK_INT(f.candidates[1].rport, 50000);
}

/* ICE restart: new credentials, no candidates yet. */
static void test_restart_and_end(void)
{
    struct mr_sdp_frag f;
    const char *text = "a=ice-ufrag:Nw2x\r\na=ice-pwd:9hT0sdfQwe81bnmZxcvLkjHg\r\n";
    CHECK_INT(parse(text, &f, NULL, 0), 0);
    CHECK_STR(f.ice_ufrag, "Nw2x");
    CHECK_INT(f.n_candidates, 0);
    CHECK_INT(parse("a=end-of-candidates\r\n", &f, NULL, 0), 0);
    CHECK(f.end_of_candidates);
    CHECK_INT(parse("", &f, NULL, 0), 0);
    CHECK_INT(f.n_candidates, 0);
    CHECK(!f.end_of_candidates);
}

/* The same credentials in two bundled sections are one transport. */
static void test_two_sections(void)
{
    struct mr_sdp_frag f;
    const char *same = "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=ice-ufrag:EsAw\r\n"
                       "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n"
                       "a=candidate:1 1 udp 1 192.0.2.1 1000 typ host\r\n"
                       "m=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:1\r\na=ice-ufrag:EsAw\r\n"
                       "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n"
                       "a=candidate:2 1 udp 1 192.0.2.1 1001 typ host\r\na=end-of-candidates\r\n";
    CHECK_INT(parse(same, &f, NULL, 0), 0);
    CHECK_INT(f.n_candidates, 2);
    const char *differ =
        "a=ice-ufrag:EsAw\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=ice-ufrag:Other\r\n";
    char err[128] = "";
    CHECK_INT(parse(differ, &f, err, sizeof(err)), MR_EPARSE);
    CHECK(strstr(err, "line 3") != NULL);
    CHECK_STR(f.ice_ufrag, "");
}

static void test_broken(void)
{
    static const char *const bad[] = {
        "garbage\r\n",
        "a=candidate:1 1 udp 1 192.0.2.1 70000 typ host\r\n",
        "a=candidate:1 1 udp\r\n",
        "a=ice-ufrag:abc\r\n",
        "a=ice-ufrag:ab cd\r\n",
        "a=ice-pwd:short\r\n",
        "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\rb\r\n",
        "a=candidate:1 1 udp 1 192.0.2.1 1000 typ host\r\n a=mid:0\r\n",
    };
    struct mr_sdp_frag f;
    char err[128];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        int rc = parse(bad[i], &f, err, sizeof(err));
        if (rc != MR_EPARSE)
            fprintf(stderr, "accepted fragment: %s\n", bad[i]);
        CHECK_INT(rc, MR_EPARSE);
        CHECK(strncmp(err, "line ", 5) == 0);
        CHECK_INT(f.n_candidates, 0);
    }
    char nul[] = "a=ice-ufrag:EsAw\r\na=end-of-candidates\0\r\n";
    CHECK_INT(mr_sdp_parse_frag(nul, sizeof(nul) - 1, &f, NULL, 0), MR_EPARSE);
    CHECK_INT(mr_sdp_parse_frag(NULL, 1, &f, NULL, 0), MR_EINVAL);
    CHECK_INT(mr_sdp_parse_frag("", 0, NULL, NULL, 0), MR_EINVAL);
}

/* Unsupported candidates are skipped; past the cap, the first are kept. */
static void test_skip_and_cap(void)
{
    char text[8192];
    size_t n =
        (size_t)snprintf(text, sizeof(text), "a=candidate:0 1 ssltcp 1 192.0.2.1 443 typ host\r\n");
    for (int i = 1; i <= 40; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "a=candidate:%d 1 udp %d 192.0.2.%d 5000 typ host\r\n", i, i, i);
    struct mr_sdp_frag f;
    CHECK_INT(mr_sdp_parse_frag(text, n, &f, NULL, 0), 0);
    CHECK_INT(f.n_candidates, MR_SDP_MAX_CANDIDATES);
    CHECK_STR(f.candidates[0].foundation, "1");
    CHECK_STR(f.candidates[31].foundation, "32");
}

/* A fragment cut anywhere parses or fails, never reads past len. */
static void test_every_prefix(void)
{
    const char *text = "a=ice-ufrag:EsAw\r\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n"
                       "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host\r\n";
    size_t len = strlen(text);
    struct mr_sdp_frag f;
    unsigned ok = 0;
    for (size_t k = 0; k <= len; k++) {
        char *copy = malloc(k ? k : 1);
        memcpy(copy, text, k);
        int rc = mr_sdp_parse_frag(copy, k, &f, NULL, 0);
        CHECK(rc == 0 || rc == MR_EPARSE);
        ok += rc == 0;
        free(copy);
    }
    CHECK(ok > 0);
}

MR_TEST_MAIN(MR_TEST(test_rfc_example), MR_TEST(test_candidates_only),
             MR_TEST(test_restart_and_end), MR_TEST(test_two_sections), MR_TEST(test_broken),
             MR_TEST(test_skip_and_cap), MR_TEST(test_every_prefix))
