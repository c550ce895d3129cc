/*
 * Logging with a level per subsystem, declared once in MR_LOG_SUBSYSTEMS.
 *
 * Lines go to stderr as one write(2) each, so lines from several threads never
 * interleave. Every line should name the session or peer it concerns. Room,
 * stream and participant names are patient-adjacent data: pass them through
 * mr_log_redact(), which shows them only when the subsystem logs at debug
 * level and otherwise prints a short salted hash that still lets an operator
 * follow one room through the log.
 */
#ifndef MR_CORE_LOG_H
#define MR_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define MR_LOG_SUBSYSTEMS(X) \
    X(CORE, "core")          \
    X(CONFIG, "config")      \
    X(HTTP, "http")          \
    X(AUTH, "auth")          \
    X(SDP, "sdp")            \
    X(ICE, "ice")            \
    X(DTLS, "dtls")          \
    X(SRTP, "srtp")          \
    X(RTP, "rtp")            \
    X(SFU, "sfu")            \
    X(RECORD, "record")

enum mr_log_sub {
#define MR_LOG_SUB_ENUM(id, name) MR_LOG_##id,
    MR_LOG_SUBSYSTEMS(MR_LOG_SUB_ENUM)
#undef MR_LOG_SUB_ENUM
        MR_LOG_SUB_COUNT
};

enum mr_log_level {
    MR_LOG_LEVEL_ERROR = 0,
    MR_LOG_LEVEL_WARN,
    MR_LOG_LEVEL_INFO,
    MR_LOG_LEVEL_DEBUG,
};

/* Picks the key for mr_log_redact(); call once at start-up. */
void mr_log_init(void);

/* Levels are set once at start-up, before any thread is started. */
void mr_log_set_level(enum mr_log_sub sub, enum mr_log_level level);
void mr_log_set_all(enum mr_log_level level);

/*
 * Parses a level specification such as "info" or "info,ice=debug,sfu=warn"
 * and applies it. Returns 0 or MR_EINVAL with a reason in err (may be NULL).
 */
int mr_log_configure(const char *spec, char *err, unsigned err_len);

/* Parses a specification without applying it (unnamed subsystems: info). */
int mr_log_parse_spec(const char *spec, enum mr_log_level out[MR_LOG_SUB_COUNT], char *err,
                      unsigned err_len);

bool mr_log_enabled(enum mr_log_sub sub, enum mr_log_level level);

__attribute__((format(printf, 3, 4))) void mr_log_write(enum mr_log_sub sub,
                                                        enum mr_log_level level,
                                                        const char *fmt, ...);

/*
 * Returns name itself when sub logs at debug level, otherwise "#" followed by
 * eight hex digits of a per-process keyed hash of name. The result is written
 * into buf (at least MR_LOG_REDACT_LEN bytes) and returned.
 */
#define MR_LOG_REDACT_LEN 80
const char *mr_log_redact(enum mr_log_sub sub, const char *name, char *buf);

#define MR_LOG(sub, level, ...)                                   \
    do {                                                          \
        if (mr_log_enabled(MR_LOG_##sub, MR_LOG_LEVEL_##level))   \
            mr_log_write(MR_LOG_##sub, MR_LOG_LEVEL_##level, __VA_ARGS__); \
    } while (0)

#define mr_log_error(sub, ...) MR_LOG(sub, ERROR, __VA_ARGS__)
#define mr_log_warn(sub, ...) MR_LOG(sub, WARN, __VA_ARGS__)
#define mr_log_info(sub, ...) MR_LOG(sub, INFO, __VA_ARGS__)
#define mr_log_debug(sub, ...) MR_LOG(sub, DEBUG, __VA_ARGS__)

/*
 * A token bucket for log lines triggered by network input: at most `burst`
 * lines, refilled at one line per `interval_us`. Not thread-safe; keep one per
 * thread or per peer.
 */
struct mr_ratelimit {
    int64_t interval_us;
    unsigned burst;
    unsigned tokens;
    int64_t last_us;
    unsigned suppressed;
};

#define MR_RATELIMIT_INIT(interval_us, burst) { (interval_us), (burst), (burst), 0, 0 }

/* Returns true when a line may be written now; counts suppressed lines. */
bool mr_ratelimit_ok(struct mr_ratelimit *rl, int64_t now_us);

#endif
