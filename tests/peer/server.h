/*
 * The real medrelay server for integration tests: started with a scratch
 * configuration on a free loopback port, watched, and stopped; plus tokens,
 * /healthz and the kernel's UDP counters.
 *
 * The server runs in a scratch folder (its config, secret file path and
 * record dir) with stdout and stderr in <artifacts>/medrelay.log, where
 * <artifacts> is $MEDRELAY_ARTIFACT_DIR/<name>, or
 * tests/artifacts/integration/<name> in the source tree. It gets SIGKILL if
 * the test process dies (PR_SET_PDEATHSIG), and at exit() if the test did not
 * stop it, so no path leaves a server behind.
 */
#ifndef MR_TEST_SERVER_H
#define MR_TEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mr_test_server {
    pid_t pid;     /* 0 when not running */
    char host[16]; /* "127.0.0.1" */
    uint16_t port;
    char secret[64]; /* MEDRELAY_JWT_SECRET, 48 characters */
    char tmp[256];   /* scratch folder, removed at stop */
    char artifacts[512];
    char log_path[600];
    int wstatus; /* waitpid status once it exited */
    bool exited;
};

struct mr_test_server_opts {
    const char *name;         /* artifact sub-folder, e.g. "fanout" */
    const char *bin;          /* NULL: $MEDRELAY_BIN, else build/medrelay */
    const char *config_extra; /* appended to the config, with its own
                                 [section] headers, e.g. "[media]\nviewer_grace = 3\n" */
    int ready_timeout_ms;     /* for GET /healthz to answer 200 [15000] */
};

/* Starts the server and waits until GET /healthz answers 200. Returns 0,
 * or MR_EIO with a reason (and the log's last lines) in err. */
int mr_test_server_start(struct mr_test_server *s, const struct mr_test_server_opts *o, char *err,
                         size_t err_len);

/* True while the process runs (reaps it when it has exited). */
bool mr_test_server_alive(struct mr_test_server *s);

/*
 * SIGTERM, then waits up to grace_ms, then SIGKILL. Returns 0 when the
 * server exited with status 0 and its log holds no sanitizer report;
 * otherwise MR_EIO with what went wrong in why. Safe to call twice.
 */
int mr_test_server_stop(struct mr_test_server *s, int grace_ms, char *why, size_t why_len);

/* Prints the last lines of the server's log to stderr. */
void mr_test_server_print_tail(const struct mr_test_server *s, int lines);

/* A token signed with the server's secret (exp = now + ttl_s). Returns its
 * length or an MR_E* code. */
int mr_test_server_token(const struct mr_test_server *s, const char *room, const char *role,
                         const char *sub, int ttl_s, char *out, size_t cap);

/* GET /healthz: 0 with the counts, or MR_EIO. */
struct mr_test_health {
    int publishers, subscribers, streams;
};
int mr_test_server_health(const struct mr_test_server *s, struct mr_test_health *out,
                          int timeout_ms);

/* One sample of GET /metrics, named as printed, e.g.
 * "medrelay_packets_dropped_total{cause=\"srtp\"}". Returns 0 with the
 * value, MR_ENOENT when the sample is absent, or MR_EIO. */
int mr_test_server_metric(const struct mr_test_server *s, const char *sample, double *out);

/* The kernel's UDP counters (/proc/net/snmp), to tell relay loss from
 * socket-buffer overflows. Returns 0 or MR_EIO. */
struct mr_test_udp_counters {
    uint64_t in_datagrams, no_ports, in_errors, out_datagrams, rcvbuf_errors, sndbuf_errors;
};
int mr_test_udp_counters(struct mr_test_udp_counters *out);

#endif
