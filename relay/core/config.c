#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/log.h"
#include "core/name.h"

enum key_type { KEY_BOOL, KEY_POLICY, KEY_ROOM_POLICIES, KEY_STRING, KEY_U16, KEY_UINT, KEY_SIZE, KEY_HOSTPORT, KEY_IPADDR, KEY_LOGSPEC, KEY_TURN_URLS };

struct key_def {
    const char *section;
    const char *key;
    enum key_type type;
    size_t offset; /* of the field in struct mr_config */
    size_t size;   /* of a string field */
    unsigned long min, max;
};

#define FIELD(f) offsetof(struct mr_config, f), sizeof(((struct mr_config *)0)->f)

static const struct key_def keys[] = {
    {"server", "listen", KEY_HOSTPORT, FIELD(listen_host), 0, 0},
    {"server", "web_root", KEY_STRING, FIELD(web_root), 0, 0},
    {"server", "max_body", KEY_SIZE, FIELD(max_body), 1024, 64UL << 20},
    {"server", "cors_origins", KEY_STRING, FIELD(cors_origins), 0, 0},
    {"server", "metrics_loopback_open", KEY_BOOL, FIELD(metrics_loopback_open), 0, 0},
    {"auth", "jwt_secret", KEY_STRING, FIELD(jwt_secret), 0, 0},
    {"auth", "jwt_secret_file", KEY_STRING, FIELD(jwt_secret_file), 0, 0},
    {"auth", "max_token_ttl", KEY_UINT, FIELD(max_token_ttl_s), 60, 31536000},
    {"media", "ip", KEY_IPADDR, FIELD(media_ip), 0, 0},
    {"media", "announce_ip", KEY_IPADDR, FIELD(announce_ip), 1 /* may be empty */, 0},
    {"media", "ipv6", KEY_IPADDR, FIELD(media_ipv6), 1 /* may be empty */, 0},
    {"media", "ice_tcp", KEY_BOOL, FIELD(ice_tcp), 0, 0},
    {"media", "udp_port_min", KEY_U16, FIELD(udp_port_min), 1, 65535},
    {"media", "udp_port_max", KEY_U16, FIELD(udp_port_max), 1, 65535},
    {"media", "stun_server", KEY_STRING, FIELD(stun_server), 0, 0},
    {"media", "stun_port", KEY_U16, FIELD(stun_port), 1, 65535},
    {"media", "workers", KEY_UINT, FIELD(workers), 0, 64},
    {"media", "viewer_grace", KEY_UINT, FIELD(viewer_grace_s), 0, 3600},
    {"media", "io_uring", KEY_BOOL, FIELD(io_uring), 0, 0},
    {"recording", "dir", KEY_STRING, FIELD(record_dir), 0, 0},
    {"recording", "policy", KEY_POLICY, FIELD(record_policy), 0, 0},
    {"recording", "rooms", KEY_ROOM_POLICIES, FIELD(record_rooms), 0, 0},
    {"recording", "segment_minutes", KEY_UINT, FIELD(segment_minutes), 0, 1440},
    {"recording", "segment_mb", KEY_UINT, FIELD(segment_mb), 0, 1048576},
    {"recording", "retention_days", KEY_UINT, FIELD(retention_days), 0, 36500},
    {"recording", "download_ttl", KEY_UINT, FIELD(download_ttl_s), 10, 86400},
    {"server", "audit_log", KEY_STRING, FIELD(audit_log), 0, 0},
    {"server", "tls_cert", KEY_STRING, FIELD(tls_cert), 0, 0},
    {"server", "tls_key", KEY_STRING, FIELD(tls_key), 0, 0},
    {"rooms", "max_sessions", KEY_UINT, FIELD(max_sessions), 0, 1000000},
    {"rooms", "room_participants", KEY_UINT, FIELD(room_participants), 1, 10000},
    {"rooms", "room_viewers", KEY_UINT, FIELD(room_viewers), 0, 1000000},
    {"rooms", "ban_seconds", KEY_UINT, FIELD(ban_seconds), 0, 86400 * 7},
    {"rooms", "ws_max_message", KEY_SIZE, FIELD(ws_max_message), 4096, 16UL << 20},
    {"rooms", "ws_max_queue", KEY_SIZE, FIELD(ws_max_queue), 65536, 256UL << 20},
    {"log", "level", KEY_LOGSPEC, FIELD(log_level), 0, 0},
    {"turn", "urls", KEY_TURN_URLS, FIELD(turn_urls), 0, 0},
    {"turn", "secret", KEY_STRING, FIELD(turn_secret), 0, 0},
    {"turn", "secret_file", KEY_STRING, FIELD(turn_secret_file), 0, 0},
    {"turn", "ttl", KEY_UINT, FIELD(turn_ttl_s), 60, 604800},
};

void mr_config_defaults(struct mr_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8080;
    strcpy(cfg->web_root, "signaling/web");
    cfg->max_body = 64 * 1024;
    strcpy(cfg->cors_origins, "*");
    cfg->metrics_loopback_open = false;
    strcpy(cfg->jwt_secret_file, ".medrelay/jwt-secret");
    cfg->max_token_ttl_s = 86400;
    strcpy(cfg->media_ip, "127.0.0.1");
    cfg->udp_port_min = 20000;
    cfg->udp_port_max = 40000;
    cfg->ice_tcp = true;
    cfg->stun_port = 3478;
    cfg->workers = 0;
    cfg->viewer_grace_s = 30;
    cfg->io_uring = true;
    strcpy(cfg->record_dir, "./recordings");
    cfg->record_policy = MR_RECORD_ALWAYS;
    cfg->segment_minutes = 60;
    cfg->download_ttl_s = 300;
    strcpy(cfg->audit_log, "./medrelay-audit.log");
    cfg->max_sessions = 2000;
    cfg->room_participants = 64;
    cfg->room_viewers = 1000;
    cfg->ban_seconds = 600;
    cfg->ws_max_message = 64 * 1024;
    cfg->ws_max_queue = 1024 * 1024;
    cfg->turn_ttl_s = 86400;
    strcpy(cfg->log_level, "info");
}

bool mr_config_has_turn(const struct mr_config *cfg)
{
    for (unsigned i = 0; i < cfg->n_turn_urls; i++)
        if (cfg->turn_urls[i].relay)
            return true;
    return false;
}

bool mr_config_host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

int mr_config_split_hostport(const char *s, char *host, size_t host_len, uint16_t *port)
{
    const char *colon;
    const char *hstart = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return MR_EINVAL;
        hstart = s + 1;
        hlen = (size_t)(close - hstart);
        colon = close + 1;
    } else {
        /* A second colon means an IPv6 address without brackets, where the
         * port cannot be told apart: "2001:db8::1" is not host "2001:db8:"
         * on port 1. */
        colon = strchr(s, ':');
        if (!colon || strchr(colon + 1, ':'))
            return MR_EINVAL;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= host_len)
        return MR_EINVAL;
    /* Digits only: strtoul alone would also take " 80", "+80" and "-0". */
    if (colon[1] < '0' || colon[1] > '9')
        return MR_EINVAL;
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || *end || p == 0 || p > 65535)
        return MR_EINVAL;
    memcpy(host, hstart, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static const char *const policy_names[] = {"always", "on-demand", "never"};

const char *mr_record_policy_name(enum mr_record_policy p)
{
    return (unsigned)p < 3 ? policy_names[p] : "?";
}

static int parse_policy(const char *s, size_t len, int *out)
{
    for (int i = 0; i < 3; i++) {
        if (strlen(policy_names[i]) == len && strncmp(s, policy_names[i], len) == 0) {
            *out = i;
            return 0;
        }
    }
    return MR_EINVAL;
}

/* Walks "room=policy, room=policy"; calls fn for each item until it
 * returns true. Returns MR_EINVAL on a malformed item. */
static int each_room_policy(const char *list, bool (*fn)(const char *room, size_t room_len,
                                                          int policy, void *arg),
                            void *arg)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = p + strcspn(p, ",");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return MR_EINVAL;
        const char *r = p, *re = eq, *v = eq + 1, *ve = end;
        while (re > r && re[-1] == ' ')
            re--;
        while (v < ve && *v == ' ')
            v++;
        while (ve > v && ve[-1] == ' ')
            ve--;
        int policy;
        if (!mr_name_valid(r, (size_t)(re - r)) || parse_policy(v, (size_t)(ve - v), &policy) < 0)
            return MR_EINVAL;
        if (fn && fn(r, (size_t)(re - r), policy, arg))
            return 0;
        p = end;
    }
    return 0;
}

struct policy_lookup {
    const char *room;
    int policy;
};

static bool match_room(const char *room, size_t room_len, int policy, void *arg)
{
    struct policy_lookup *l = arg;
    if (strlen(l->room) != room_len || strncmp(l->room, room, room_len) != 0)
        return false;
    l->policy = policy;
    return true;
}

enum mr_record_policy mr_config_record_policy(const struct mr_config *cfg, const char *room)
{
    struct policy_lookup l = {room, cfg->record_policy};
    each_room_policy(cfg->record_rooms, match_room, &l);
    return (enum mr_record_policy)l.policy;
}

/* --- [turn] urls ---------------------------------------------------------- */

/* A DNS name (RFC 1123 labels of letters, digits and '-') or an IPv4
 * address; a name of digits and dots only must be an IPv4 address. */
static bool host_name_ok(const char *h, size_t n)
{
    char buf[256];
    struct in_addr a4;
    if (n == 0 || n > 253)
        return false;
    memcpy(buf, h, n);
    buf[n] = '\0';
    if (strspn(buf, "0123456789.") == n)
        return inet_pton(AF_INET, buf, &a4) == 1;
    for (const char *label = buf; *label;) {
        size_t len = strcspn(label, ".");
        if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
            return false;
        label += len;
        if (*label == '.' && *++label == '\0')
            return false;
    }
    return true;
}

/* The host of a STUN/TURN URL at *p (an IP-literal "[v6]", an IPv4 address
 * or a DNS name); moves *p past it. */
static bool take_host(const char **p)
{
    const char *s = *p;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        char v6[64];
        struct in6_addr a6;
        size_t n = close ? (size_t)(close - s - 1) : 0;
        if (!close || n == 0 || n >= sizeof(v6))
            return false;
        memcpy(v6, s + 1, n);
        v6[n] = '\0';
        if (inet_pton(AF_INET6, v6, &a6) != 1)
            return false;
        *p = close + 1;
        return true;
    }
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");
    if (!host_name_ok(s, n))
        return false;
    *p = s + n;
    return true;
}

/*
 * One URL, RFC 7064 §3.1 (stun:, stuns:) and RFC 7065 §3.1 (turn:, turns:):
 *   scheme ":" host [ ":" port ] [ "?transport=" ( "udp" / "tcp" ) ]
 * the query for TURN only. turns: is TURN over TLS, so its transport is
 * tcp (browsers have no TURN over DTLS). Browsers take these URLs as they
 * are, so anything else (a "//", a user name, a path) is refused here
 * rather than by every client.
 */
static int bad_url(char *why, size_t why_len, const char *u, const char *reason)
{
    snprintf(why, why_len, "\"%.60s\": %s", u, reason);
    return MR_EINVAL;
}

static int check_turn_url(const char *u, bool *relay, char *why, size_t why_len)
{
    static const struct {
        const char *name;
        bool relay, secure;
    } schemes[] = {{"stun:", false, false}, {"stuns:", false, true},
                   {"turn:", true, false},  {"turns:", true, true}};
    const char *p = NULL;
    bool secure = false;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]) && !p; i++) {
        size_t n = strlen(schemes[i].name);
        if (strncmp(u, schemes[i].name, n) == 0) {
            p = u + n;
            *relay = schemes[i].relay;
            secure = schemes[i].secure;
        }
    }
    if (!p)
        return bad_url(why, why_len, u, "expected a turn:, turns:, stun: or stuns: URL");
    if (p[0] == '/')
        return bad_url(why, why_len, u, "no \"//\" after the scheme (turn:HOST:PORT)");
    if (strchr(p, '@'))
        return bad_url(why, why_len, u, "no user name in the URL (medrelay makes credentials)");
    if (!take_host(&p))
        return bad_url(why, why_len, u, "expected a host name or address after the scheme");
    if (*p == ':') {
        size_t n = strspn(p + 1, "0123456789");
        unsigned long port = n > 0 && n <= 5 ? strtoul(p + 1, NULL, 10) : 0;
        if (port == 0 || port > 65535)
            return bad_url(why, why_len, u, "the port must be a number from 1 to 65535");
        p += 1 + n;
    }
    if (*p == '?' && *relay) {
        bool udp = strcmp(p, "?transport=udp") == 0, tcp = strcmp(p, "?transport=tcp") == 0;
        if (udp && secure)
            return bad_url(why, why_len, u, "turns: is TURN over TLS: its transport is tcp");
        if (!udp && !tcp)
            return bad_url(why, why_len, u, "the only query is ?transport=udp or ?transport=tcp");
        return 0;
    }
    if (*p)
        return bad_url(why, why_len, u, *relay ? "only ?transport=udp|tcp may follow the port"
                                               : "nothing may follow the port");
    return 0;
}

/* "url, url, ...": replaces cfg's list, or leaves it as it was on an error. */
static int parse_turn_urls(struct mr_config *cfg, const char *value, char *why, size_t why_len)
{
    struct mr_turn_url list[MR_TURN_URLS_MAX];
    unsigned n = 0;
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ","), item = len;
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (n == MR_TURN_URLS_MAX || len >= MR_TURN_URL_MAX) {
            snprintf(why, why_len, n == MR_TURN_URLS_MAX ? "at most %d URLs" : "a URL longer than %d bytes",
                     n == MR_TURN_URLS_MAX ? MR_TURN_URLS_MAX : MR_TURN_URL_MAX - 1);
            return MR_EINVAL;
        }
        memcpy(list[n].url, p, len);
        list[n].url[len] = '\0';
        if (check_turn_url(list[n].url, &list[n].relay, why, why_len) < 0)
            return MR_EINVAL;
        n++;
        p += item;
    }
    memcpy(cfg->turn_urls, list, n * sizeof(list[0]));
    cfg->n_turn_urls = n;
    return 0;
}

static int parse_ulong(const char *value, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    if (value[0] == '\0' || value[0] == '-' || value[0] == '+')
        return MR_EINVAL;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (errno || *end || v < min || v > max)
        return MR_EINVAL;
    *out = v;
    return 0;
}

static int apply_key(struct mr_config *cfg, const struct key_def *k, const char *value, char *why,
                     size_t why_len)
{
    char *base = (char *)cfg;
    unsigned long v;
    switch (k->type) {
    case KEY_POLICY:
        if (parse_policy(value, strlen(value), (int *)(base + k->offset)) < 0) {
            snprintf(why, why_len, "expected always, on-demand or never");
            return MR_EINVAL;
        }
        return 0;
    case KEY_ROOM_POLICIES:
        if (strlen(value) >= k->size || each_room_policy(value, NULL, NULL) < 0) {
            snprintf(why, why_len,
                     "expected ROOM=POLICY items separated by commas (policies: always, "
                     "on-demand, never)");
            return MR_EINVAL;
        }
        strcpy(base + k->offset, value);
        return 0;
    case KEY_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0) {
            *(bool *)(base + k->offset) = true;
        } else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
                   strcmp(value, "0") == 0) {
            *(bool *)(base + k->offset) = false;
        } else {
            snprintf(why, why_len, "expected true or false");
            return MR_EINVAL;
        }
        return 0;
    case KEY_STRING:
        if (strlen(value) >= k->size) {
            snprintf(why, why_len, "value longer than %zu bytes", k->size - 1);
            return MR_EINVAL;
        }
        strcpy(base + k->offset, value);
        return 0;
    case KEY_U16:
    case KEY_UINT:
        if (parse_ulong(value, k->min, k->max, &v) < 0) {
            snprintf(why, why_len, "expected an integer from %lu to %lu", k->min, k->max);
            return MR_EINVAL;
        }
        if (k->type == KEY_U16)
            *(uint16_t *)(base + k->offset) = (uint16_t)v;
        else
            *(unsigned *)(base + k->offset) = (unsigned)v;
        return 0;
    case KEY_SIZE:
        if (parse_ulong(value, k->min, k->max, &v) < 0) {
            snprintf(why, why_len, "expected a byte count from %lu to %lu", k->min, k->max);
            return MR_EINVAL;
        }
        *(size_t *)(base + k->offset) = v;
        return 0;
    case KEY_HOSTPORT: {
        char host[sizeof(cfg->listen_host)];
        uint16_t port;
        if (mr_config_split_hostport(value, host, sizeof(host), &port) < 0) {
            snprintf(why, why_len, "expected HOST:PORT, e.g. 127.0.0.1:8080");
            return MR_EINVAL;
        }
        strcpy(cfg->listen_host, host);
        cfg->listen_port = port;
        return 0;
    }
    case KEY_IPADDR: {
        struct in_addr a4;
        struct in6_addr a6;
        if (k->min && value[0] == '\0') {
            *(char *)(base + k->offset) = '\0';
            return 0;
        }
        if (strlen(value) >= k->size ||
            (inet_pton(AF_INET, value, &a4) != 1 && inet_pton(AF_INET6, value, &a6) != 1)) {
            snprintf(why, why_len, "expected a numeric IPv4 or IPv6 address");
            return MR_EINVAL;
        }
        strcpy(base + k->offset, value);
        return 0;
    }
    case KEY_TURN_URLS:
        return parse_turn_urls(cfg, value, why, why_len);
    case KEY_LOGSPEC: {
        enum mr_log_level parsed[MR_LOG_SUB_COUNT];
        if (strlen(value) >= k->size ||
            mr_log_parse_spec(value, parsed, why, (unsigned)why_len) < 0) {
            if (strlen(value) >= k->size)
                snprintf(why, why_len, "value longer than %zu bytes", k->size - 1);
            return MR_EINVAL;
        }
        strcpy(base + k->offset, value);
        return 0;
    }
    }
    return MR_EINVAL;
}

static const struct key_def *find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

static bool section_known(const char *section)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].section, section) == 0)
            return true;
    return false;
}

int mr_config_set(struct mr_config *cfg, const char *section, const char *key, const char *value,
                  char *err, size_t err_len)
{
    const struct key_def *k = find_key(section, key);
    char why[160];
    if (!k) {
        snprintf(err, err_len, "[%s] %s: unknown key", section, key);
        return MR_EINVAL;
    }
    if (apply_key(cfg, k, value, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "[%s] %s: %s", section, key, why);
        return MR_EINVAL;
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Handles one line; `section` holds the current section name. */
static int parse_line(struct mr_config *cfg, char *line, char *section, size_t section_len,
                      char *why, size_t why_len)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close || close[1] != '\0') {
            snprintf(why, why_len, "malformed section header");
            return MR_EINVAL;
        }
        *close = '\0';
        char *name = trim(s + 1);
        if (!section_known(name) || strlen(name) >= section_len) {
            snprintf(why, why_len, "[%.64s]: unknown section", name);
            return MR_EINVAL;
        }
        strcpy(section, name);
        return 0;
    }
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(why, why_len, "expected 'key = value'");
        return MR_EINVAL;
    }
    *eq = '\0';
    char *key = trim(s);
    char *value = trim(eq + 1);
    if (section[0] == '\0') {
        snprintf(why, why_len, "%.64s: key outside of a [section]", key);
        return MR_EINVAL;
    }
    return mr_config_set(cfg, section, key, value, why, why_len);
}

int mr_config_load_string(struct mr_config *cfg, const char *name, const char *text, char *err,
                          size_t err_len)
{
    char section[32] = "";
    unsigned lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[2048];
        char why[256];
        lineno++;
        if (len >= sizeof(line)) {
            snprintf(err, err_len, "%s:%u: line too long", name, lineno);
            return MR_EINVAL;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        if (parse_line(cfg, line, section, sizeof(section), why, sizeof(why)) < 0) {
            snprintf(err, err_len, "%s:%u: %s", name, lineno, why);
            return MR_EINVAL;
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    return 0;
}

int mr_config_load_file(struct mr_config *cfg, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return MR_EIO;
    }
    char *text = NULL;
    size_t cap = 0, len = 0;
    int rc = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            if (cap > (1u << 20)) {
                snprintf(err, err_len, "%s: file larger than 1 MiB", path);
                rc = MR_EINVAL;
                goto out;
            }
            cap = cap ? cap * 2 : 8192;
            char *n = realloc(text, cap);
            if (!n) {
                rc = MR_ENOMEM;
                snprintf(err, err_len, "%s: out of memory", path);
                goto out;
            }
            text = n;
        }
        size_t n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, err_len, "%s: read error", path);
        rc = MR_EIO;
        goto out;
    }
    text[len] = '\0';
    if (memchr(text, '\0', len)) {
        snprintf(err, err_len, "%s: not a text file", path);
        rc = MR_EINVAL;
        goto out;
    }
    rc = mr_config_load_string(cfg, path, text, err, err_len);
out:
    free(text);
    fclose(f);
    return rc;
}

/* A TURN server needs coturn's secret to make credentials with, and a
 * secret nothing uses is a mistake too (a URL left out). */
static int validate_turn(const struct mr_config *cfg, char *err, size_t err_len)
{
    size_t slen = strlen(cfg->turn_secret);
    bool secret = slen > 0 || cfg->turn_secret_file[0];
    if (mr_config_has_turn(cfg) && !secret) {
        snprintf(err, err_len, "[turn] urls names a TURN server but neither secret nor "
                 "secret_file is set (coturn's static-auth-secret)");
        return MR_EINVAL;
    }
    if (!mr_config_has_turn(cfg) && secret) {
        snprintf(err, err_len, "[turn] a secret is set but urls names no turn: or turns: server");
        return MR_EINVAL;
    }
    if (slen > 0 && cfg->turn_secret_file[0]) {
        snprintf(err, err_len, "[turn] secret and secret_file are both set; keep one");
        return MR_EINVAL;
    }
    if (slen > 0 && slen < MR_TURN_SECRET_MIN) {
        snprintf(err, err_len, "[turn] secret: must be at least %d bytes long (got %zu)",
                 MR_TURN_SECRET_MIN, slen);
        return MR_EINVAL;
    }
    return 0;
}

int mr_config_validate(const struct mr_config *cfg, char *err, size_t err_len)
{
    if (cfg->announce_ip[0] && (strchr(cfg->announce_ip, ':') != NULL) !=
                                   (strchr(cfg->media_ip, ':') != NULL)) {
        snprintf(err, err_len, "[media] announce_ip (%s) and ip (%s) are not of one family",
                 cfg->announce_ip, cfg->media_ip);
        return MR_EINVAL;
    }
    if (cfg->media_ipv6[0] && !strchr(cfg->media_ipv6, ':')) {
        snprintf(err, err_len, "[media] ipv6 (%s) is not an IPv6 address", cfg->media_ipv6);
        return MR_EINVAL;
    }
    if (cfg->udp_port_min > cfg->udp_port_max) {
        snprintf(err, err_len, "[media] udp_port_min (%u) is above udp_port_max (%u)",
                 cfg->udp_port_min, cfg->udp_port_max);
        return MR_EINVAL;
    }
    if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
        snprintf(err, err_len, "[server] tls_cert and tls_key must be set together");
        return MR_EINVAL;
    }
    size_t slen = strlen(cfg->jwt_secret);
    if (slen > 0 && slen < MR_JWT_SECRET_MIN) {
        snprintf(err, err_len, "[auth] jwt_secret: must be at least %d bytes long (got %zu)",
                 MR_JWT_SECRET_MIN, slen);
        return MR_EINVAL;
    }
    return validate_turn(cfg, err, err_len);
}
