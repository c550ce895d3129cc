/*
 * srtp_protect per packet, the relay's per-subscriber cost: a 1200-byte RTP
 * payload protected with AES_CM_128_HMAC_SHA1_80 (what browsers negotiate)
 * and AEAD_AES_128_GCM, on whichever libsrtp2 this program is linked with.
 * CMake builds it once per libsrtp2 it has (mr-srtp-bench-openssl, built
 * by scripts/libsrtp-openssl.sh, and mr-srtp-bench-system, Debian's on NSS);
 * `make bench-srtp` runs them all.
 *
 *   mr-srtp-bench [--packets N] [--rounds R] [--payload BYTES]
 *
 * Each round protects N packets with consecutive sequence numbers on one
 * session; the median round is reported, in µs of wall and CPU time per
 * packet, as a table and as one JSON line per cipher.
 *
 * It calls libsrtp directly rather than through relay/srtp, so that one
 * source can be linked against both libraries. AES-CM runs three times: with
 * libsrtp's own HMAC-SHA1, then with the keyed-state one the relay installs
 * (relay/srtp/hmac_sha1.h), then through the relay's direct sender
 * (relay/srtp/srtp_send.h, on OpenSSL whichever libsrtp2 is linked), which
 * is what the relay protects RTP to viewers with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <srtp2/srtp.h>

#include "srtp/hmac_sha1.h"
#include "srtp/srtp_backend.h"
#include "srtp/srtp_send.h"

#define MAX_PAYLOAD 1400

struct cipher {
    const char *name;
    void (*set)(srtp_crypto_policy_t *p);
};

static void set_aes_cm(srtp_crypto_policy_t *p)
{
    srtp_crypto_policy_set_rtp_default(p); /* AES_CM_128_HMAC_SHA1_80 */
}

static void set_gcm(srtp_crypto_policy_t *p)
{
    srtp_crypto_policy_set_aes_gcm_128_16_auth(p);
}

static const struct cipher ciphers[] = {
    {"AES_CM_128_HMAC_SHA1_80", set_aes_cm},
    {"AEAD_AES_128_GCM", set_gcm},
    {"AES_CM_128_HMAC_SHA1_80 keyed HMAC", set_aes_cm}, /* after installing it */
    {"AES_CM_128_HMAC_SHA1_80 direct", NULL},           /* relay/srtp/srtp_send.h */
};

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* RFC 3550 §5.1: V=2, PT 96, sequence number, timestamp, SSRC. */
static void write_header(unsigned char *buf, unsigned seq)
{
    static const unsigned char hdr[12] = {0x80, 96, 0, 0, 0, 1, 0x5f, 0x90, 0xca, 0xfe, 0xba, 0xbe};
    memcpy(buf, hdr, sizeof(hdr));
    buf[2] = (unsigned char)(seq >> 8);
    buf[3] = (unsigned char)seq;
}

/* One packet's protection in place: 0, or -1 on failure. */
typedef int (*protect_fn)(void *ctx, unsigned char *buf, size_t *len, size_t cap);

/* Median µs per packet over `rounds` rounds of `packets`, wall and CPU. */
static int time_rounds(protect_fn protect, void *ctx, unsigned packets, unsigned rounds,
                       unsigned payload, double *wall_us, double *cpu_us)
{
    double *wall = calloc(rounds, sizeof(*wall)), *cpu = calloc(rounds, sizeof(*cpu));
    unsigned char buf[12 + MAX_PAYLOAD + SRTP_MAX_TRAILER_LEN];
    memset(buf + 12, 0xab, payload);
    unsigned seq = 0;
    int rc = 0;
    for (unsigned r = 0; r < rounds && rc == 0 && wall && cpu; r++) {
        double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
        for (unsigned i = 0; i < packets; i++) {
            /* The payload is encrypted in place, round after round: the
             * cost does not depend on its contents. */
            write_header(buf, seq++);
            size_t len = 12 + payload;
            if (protect(ctx, buf, &len, sizeof(buf)) < 0) {
                rc = -1;
                break;
            }
        }
        wall[r] = (seconds(CLOCK_MONOTONIC) - w0) * 1e6 / packets;
        cpu[r] = (seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e6 / packets;
    }
    if (!wall || !cpu)
        rc = -1;
    if (rc == 0) {
        qsort(wall, rounds, sizeof(*wall), cmp_double);
        qsort(cpu, rounds, sizeof(*cpu), cmp_double);
        *wall_us = wall[rounds / 2];
        *cpu_us = cpu[rounds / 2];
    }
    free(wall);
    free(cpu);
    return rc;
}

static int libsrtp_protect(void *ctx, unsigned char *buf, size_t *len, size_t cap)
{
    (void)cap;
    int n = (int)*len;
    if (srtp_protect(ctx, buf, &n) != srtp_err_status_ok)
        return -1;
    *len = (size_t)n;
    return 0;
}

static int direct_protect(void *ctx, unsigned char *buf, size_t *len, size_t cap)
{
    return mr_srtp_sender_protect(ctx, buf, len, cap) == 0 ? 0 : -1;
}

static void bench_key(unsigned char *key, size_t len)
{
    for (unsigned i = 0; i < len; i++)
        key[i] = (unsigned char)(i * 29 + 7);
}

static int run(const struct cipher *c, unsigned packets, unsigned rounds, unsigned payload,
               double *wall_us, double *cpu_us)
{
    unsigned char key[SRTP_MAX_KEY_LEN];
    bench_key(key, sizeof(key));
    if (!c->set) {
        struct mr_srtp_sender *sender;
        if (mr_srtp_sender_new(key, &sender) < 0)
            return -1;
        int rc = time_rounds(direct_protect, sender, packets, rounds, payload, wall_us, cpu_us);
        mr_srtp_sender_free(sender);
        return rc;
    }
    srtp_policy_t policy;
    memset(&policy, 0, sizeof(policy));
    c->set(&policy.rtp);
    c->set(&policy.rtcp);
    policy.ssrc.type = ssrc_any_outbound;
    policy.key = key;
    policy.window_size = 1024;
    policy.allow_repeat_tx = 1;
    srtp_t session;
    if (srtp_create(&session, &policy) != srtp_err_status_ok)
        return -1;
    int rc = time_rounds(libsrtp_protect, session, packets, rounds, payload, wall_us, cpu_us);
    srtp_dealloc(session);
    return rc;
}

static int parse_arg(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned packets = 100000, rounds = 5, payload = 1200;
    for (int i = 1; i < argc; i++) {
        int bad = i + 1 >= argc;
        if (!bad && strcmp(argv[i], "--packets") == 0)
            bad = parse_arg(argv[++i], 1, 100000000, &packets);
        else if (!bad && strcmp(argv[i], "--rounds") == 0)
            bad = parse_arg(argv[++i], 1, 1000, &rounds);
        else if (!bad && strcmp(argv[i], "--payload") == 0)
            bad = parse_arg(argv[++i], 0, MAX_PAYLOAD, &payload);
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "usage: %s [--packets N] [--rounds R] [--payload BYTES (<= %d)]\n",
                    argv[0], MAX_PAYLOAD);
            return 2;
        }
    }
    if (srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "srtp_init failed\n");
        return 1;
    }
    const char *be = mr_srtp_probe_backend();
    printf("%s on %s: srtp_protect, %u-byte payload, median of %u rounds of %u packets\n",
           srtp_get_version_string(), be, payload, rounds, packets);
    printf("  %-36s %10s %10s\n", "cipher", "µs/packet", "CPU µs");
    int status = 0;
    for (size_t k = 0; k < sizeof(ciphers) / sizeof(ciphers[0]); k++) {
        double wall_us, cpu_us;
        if (strstr(ciphers[k].name, "keyed") && !mr_srtp_install_hmac_sha1()) {
            fprintf(stderr, "libsrtp refused the keyed HMAC-SHA1\n");
            status = 1;
            continue;
        }
        if (run(&ciphers[k], packets, rounds, payload, &wall_us, &cpu_us) < 0) {
            fprintf(stderr, "%s: set-up or protect failed\n", ciphers[k].name);
            status = 1;
            continue;
        }
        printf("  %-36s %10.3f %10.3f\n", ciphers[k].name, wall_us, cpu_us);
        printf(
            "{\"bench\":\"srtp_protect\",\"library\":\"%s\",\"backend\":\"%s\",\"cipher\":\"%s\","
            "\"payload\":%u,\"packets\":%u,\"rounds\":%u,\"us_per_packet\":%.3f,"
            "\"cpu_us_per_packet\":%.3f}\n",
            srtp_get_version_string(), be, ciphers[k].name, payload, packets, rounds, wall_us,
            cpu_us);
    }
    srtp_shutdown();
    return status;
}
