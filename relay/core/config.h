/*
 * The server's configuration: parsed once at start-up into an immutable,
 * validated struct that is passed explicitly to every module that needs it.
 *
 * The file format is INI-like: "[section]" headers, "key = value" lines,
 * and "#" or ";" comments on their own lines. Every key is documented in
 * configs/medrelay.conf. Unknown sections and keys are errors, so a typo
 * never silently falls back to a default.
 */
#ifndef MR_CORE_CONFIG_H
#define MR_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_CONFIG_PATH_MAX 1024
#define MR_JWT_SECRET_MIN 32
#define MR_JWT_SECRET_MAX 512

/* [turn]: coturn's static-auth-secret (the bytes of the string; a short
 * one is refused, HMAC-SHA1 keys should not be shorter than its output). */
#define MR_TURN_SECRET_MIN 20
#define MR_TURN_SECRET_MAX 512
#define MR_TURN_URLS_MAX 8
#define MR_TURN_URL_MAX 256

/* One [turn] urls entry, validated and kept as written: "stun:" or "stuns:"
 * (RFC 7064), "turn:" or "turns:" (RFC 7065), host, optional port, and for
 * TURN an optional "?transport=udp" or "?transport=tcp". */
struct mr_turn_url {
    char url[MR_TURN_URL_MAX];
    bool relay; /* turn: or turns:, which need credentials */
};

struct mr_config {
    /* [server] */
    char listen_host[256];
    char audit_log[MR_CONFIG_PATH_MAX]; /* append-only audit trail; "" for none */
    uint16_t listen_port;
    char web_root[MR_CONFIG_PATH_MAX];
    size_t max_body;
    char cors_origins[1024]; /* "*" or a comma-separated list of origins */
    bool metrics_loopback_open; /* /metrics without a token from loopback */
    char tls_cert[MR_CONFIG_PATH_MAX]; /* PEM; with tls_key: HTTPS and WSS */
    char tls_key[MR_CONFIG_PATH_MAX];

    /* [auth] */
    char jwt_secret[MR_JWT_SECRET_MAX + 1];
    char jwt_secret_file[MR_CONFIG_PATH_MAX];
    unsigned max_token_ttl_s;   /* longest token lifetime accepted */

    /* [media] */
    char media_ip[64];
    /* Written into candidates instead of media_ip when the relay sits
     * behind a 1:1 NAT (it still binds media_ip); empty: media_ip. */
    char announce_ip[64];
    /* A second address ICE gathers host candidates on, IPv6, for clients
     * that have IPv6 (the relay binds it and announces it as it is);
     * empty: none. */
    char media_ipv6[64];
    uint16_t udp_port_min; /* the media ports, for UDP and ICE-TCP alike */
    uint16_t udp_port_max;
    bool ice_tcp; /* also passive ICE-TCP candidates (RFC 6544) */
    char stun_server[256]; /* host name or address; empty: none */
    uint16_t stun_port;
    unsigned workers; /* 0: one per online CPU */
    unsigned viewer_grace_s;
    bool io_uring; /* the fan-out sends through io_uring where there is one */

    /* [recording] */
    char record_dir[MR_CONFIG_PATH_MAX];
    int record_policy;          /* enum mr_record_policy, for rooms not listed */
    char record_rooms[1024];    /* "room=policy, ..." exceptions */
    unsigned segment_minutes;   /* 0: one file per recording */
    unsigned segment_mb;
    unsigned retention_days;    /* 0: keep forever */
    unsigned download_ttl_s;    /* lifetime of signed download URLs */

    /* [rooms]: the room protocol (/ws) and admission limits */
    unsigned max_sessions;      /* media sessions and room connections on the
                                   server (WHIP, WHEP, /ws); 0: no limit */
    unsigned room_participants; /* clinic/expert/operator connections per room */
    unsigned room_viewers;      /* viewers per room (/ws viewers and WHEP) */
    unsigned ban_seconds;       /* how long a removed sub may not rejoin */
    size_t ws_max_message;      /* largest /ws message accepted */
    size_t ws_max_queue;        /* bytes queued to a slow client before it
                                   is disconnected */

    /* [turn]: time-limited TURN REST credentials for clients (coturn's
     * use-auth-secret); see docs/turn.md */
    struct mr_turn_url turn_urls[MR_TURN_URLS_MAX];
    unsigned n_turn_urls;
    char turn_secret[MR_TURN_SECRET_MAX + 1];   /* never logged */
    char turn_secret_file[MR_CONFIG_PATH_MAX];
    unsigned turn_ttl_s; /* credential lifetime, capped by the token's exp */

    /* [log] */
    char log_level[256];
};

enum mr_record_policy {
    MR_RECORD_ALWAYS,    /* every published stream is recorded */
    MR_RECORD_ON_DEMAND, /* an operator starts recordings */
    MR_RECORD_NEVER,     /* nothing in this room is recorded */
};

/* The recording policy of a room: its [recording] rooms entry, else
 * [recording] policy. */
enum mr_record_policy mr_config_record_policy(const struct mr_config *cfg, const char *room);
const char *mr_record_policy_name(enum mr_record_policy p);

/* Fills cfg with the embedded defaults (those documented in the shipped
 * configs/medrelay.conf). */
void mr_config_defaults(struct mr_config *cfg);

/*
 * Reads and applies a configuration file on top of what cfg holds.
 * On failure returns MR_EINVAL or MR_EIO and writes "FILE:LINE: [section]
 * key: reason" (or "FILE: reason" for I/O errors) into err.
 */
int mr_config_load_file(struct mr_config *cfg, const char *path, char *err, size_t err_len);

/* Parses the same format from memory; `name` is used in error messages. */
int mr_config_load_string(struct mr_config *cfg, const char *name, const char *text, char *err,
                          size_t err_len);

/*
 * Applies one setting by section and key, with the same validation as the
 * file parser. Used for command-line flags, e.g. ("server", "listen", v).
 */
int mr_config_set(struct mr_config *cfg, const char *section, const char *key, const char *value,
                  char *err, size_t err_len);

/* Cross-field checks (port range order, a [turn] server without a secret,
 * ...). Returns 0 or MR_EINVAL. */
int mr_config_validate(const struct mr_config *cfg, char *err, size_t err_len);

/* True when [turn] names a TURN server (turn: or turns:): credentials are
 * then handed out, and a secret is required. */
bool mr_config_has_turn(const struct mr_config *cfg);

/* Splits "host:port" or "[v6]:port". Returns 0 or MR_EINVAL. */
int mr_config_split_hostport(const char *s, char *host, size_t host_len, uint16_t *port);

/* True when host names only the loopback interface (127.0.0.0/8, ::1,
 * "localhost"). */
bool mr_config_host_is_loopback(const char *host);

#endif
