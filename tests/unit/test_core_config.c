/*
 * Tests for relay/core/config.c: defaults, the INI-like file format, every
 * key, every kind of error (each message names FILE:LINE, the section and
 * the key, so an operator can find the mistake), command-line overrides
 * through mr_config_set, and the cross-field checks.
 */
#include <stdint.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "mr_test.h"

static void test_defaults(void)
{
    struct mr_config cfg;
    char err[256] = "";
    memset(&cfg, 0xa5, sizeof(cfg));
    mr_config_defaults(&cfg);
    CHECK_STR(cfg.listen_host, "127.0.0.1");
    CHECK_INT(cfg.listen_port, 8080);
    CHECK_STR(cfg.web_root, "signaling/web");
    CHECK_INT(cfg.max_body, 64 * 1024);
    CHECK_STR(cfg.cors_origins, "*");
    CHECK_STR(cfg.jwt_secret, "");
    CHECK_STR(cfg.jwt_secret_file, ".medrelay/jwt-secret");
    CHECK_STR(cfg.media_ip, "127.0.0.1");
    CHECK_INT(cfg.udp_port_min, 20000);
    CHECK_INT(cfg.udp_port_max, 40000);
    CHECK_STR(cfg.stun_server, "");
    CHECK_INT(cfg.stun_port, 3478);
    CHECK_INT(cfg.workers, 0);
    CHECK_INT(cfg.viewer_grace_s, 30);
    CHECK_STR(cfg.record_dir, "./recordings");
    CHECK_STR(cfg.log_level, "info");
    CHECK_INT(cfg.n_turn_urls, 0);
    CHECK_STR(cfg.turn_secret, "");
    CHECK_STR(cfg.turn_secret_file, "");
    CHECK_INT(cfg.turn_ttl_s, 86400);
    CHECK(!mr_config_has_turn(&cfg));
    /* The defaults are a valid configuration on their own. */
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), 0);
    /* An empty file changes nothing. */
    struct mr_config again;
    mr_config_defaults(&again);
    CHECK_INT(mr_config_load_string(&again, "empty.conf", "", err, sizeof(err)), 0);
    CHECK(memcmp(&cfg, &again, sizeof(cfg)) == 0);
}

/* Every key, with comments, blank lines, indentation, CRLF line ends, a
 * value containing '=', a section opened twice and no final newline. */
static const char full_conf[] = "# medrelay test configuration\n"
                                "; a comment in the other style\n"
                                "\n"
                                "[server]\n"
                                "listen = 0.0.0.0:9090\n"
                                "  web_root   =   /srv/medrelay/web  \n"
                                "max_body=131072\r\n"
                                "cors_origins = https://a.example, https://b.example\n"
                                "\n"
                                "[ auth ]\n"
                                "jwt_secret = 0123456789abcdef0123456789abcdef==\n"
                                "jwt_secret_file = /etc/medrelay/jwt-secret\n"
                                "\n"
                                "[media]\n"
                                "ip = 192.0.2.10\n"
                                "udp_port_min = 30000\n"
                                "udp_port_max = 31000\n"
                                "stun_server = stun.example.org\n"
                                "stun_port = 19302\n"
                                "workers = 4\n"
                                "viewer_grace = 45\n"
                                "\n"
                                "[recording]\n"
                                "dir = /var/lib/medrelay/recordings\n"
                                "\n"
                                "[log]\n"
                                "level = warn,ice=debug,sfu=error\n"
                                "[server]\n"
                                "\tlisten = [::1]:9443";

static void check_full(const struct mr_config *cfg)
{
    CHECK_STR(cfg->listen_host, "::1");
    CHECK_INT(cfg->listen_port, 9443);
    CHECK_STR(cfg->web_root, "/srv/medrelay/web");
    CHECK_INT(cfg->max_body, 131072);
    CHECK_STR(cfg->cors_origins, "https://a.example, https://b.example");
    CHECK_STR(cfg->jwt_secret, "0123456789abcdef0123456789abcdef==");
    CHECK_STR(cfg->jwt_secret_file, "/etc/medrelay/jwt-secret");
    CHECK_STR(cfg->media_ip, "192.0.2.10");
    CHECK_INT(cfg->udp_port_min, 30000);
    CHECK_INT(cfg->udp_port_max, 31000);
    CHECK_STR(cfg->stun_server, "stun.example.org");
    CHECK_INT(cfg->stun_port, 19302);
    CHECK_INT(cfg->workers, 4);
    CHECK_INT(cfg->viewer_grace_s, 45);
    CHECK_STR(cfg->record_dir, "/var/lib/medrelay/recordings");
    CHECK_STR(cfg->log_level, "warn,ice=debug,sfu=error");
}

static void test_full_string(void)
{
    struct mr_config cfg;
    char err[256] = "";
    mr_config_defaults(&cfg);
    CHECK_INT(mr_config_load_string(&cfg, "full.conf", full_conf, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    check_full(&cfg);
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), 0);
}

/* Writes text to a fresh temporary file; returns its path in path. */
static int write_temp(char *path, size_t path_len, const char *text, size_t len)
{
    snprintf(path, path_len, "/tmp/test_core_config_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, text, len);
    close(fd);
    return w == (ssize_t)len ? 0 : -1;
}

static void test_full_file(void)
{
    struct mr_config cfg;
    char path[64], err[256] = "";
    CHECK_INT(write_temp(path, sizeof(path), full_conf, strlen(full_conf)), 0);
    mr_config_defaults(&cfg);
    CHECK_INT(mr_config_load_file(&cfg, path, err, sizeof(err)), 0);
    check_full(&cfg);
    unlink(path);

    /* An error in a file names the file. */
    static const char bad[] = "[server]\n\nmax_body = 12\n";
    CHECK_INT(write_temp(path, sizeof(path), bad, strlen(bad)), 0);
    mr_config_defaults(&cfg);
    CHECK_INT(mr_config_load_file(&cfg, path, err, sizeof(err)), MR_EINVAL);
    char want[256];
    snprintf(want, sizeof(want), "%s:3: [server] max_body: expected a byte count from 1024 to %lu",
             path, 64UL << 20);
    CHECK_STR(err, want);
    unlink(path);

    /* A NUL byte would silently cut the file short. */
    static const char nul[] = "[server]\nlisten = 1.2.3.4:5\0\n[media]\n";
    CHECK_INT(write_temp(path, sizeof(path), nul, sizeof(nul) - 1), 0);
    CHECK_INT(mr_config_load_file(&cfg, path, err, sizeof(err)), MR_EINVAL);
    snprintf(want, sizeof(want), "%s: not a text file", path);
    CHECK_STR(err, want);
    unlink(path);

    /* A missing file is an I/O error naming the file. */
    CHECK_INT(mr_config_load_file(&cfg, "/nonexistent/medrelay.conf", err, sizeof(err)), MR_EIO);
    CHECK(strncmp(err, "/nonexistent/medrelay.conf: cannot open", 39) == 0);
}

/* Each error gives MR_EINVAL and exactly this message. */
static void test_errors(void)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"[server]\n[bogus]\n", "x.conf:2: [bogus]: unknown section"},
        {"[]\n", "x.conf:1: []: unknown section"},
        {"[server]\nnope = 1\n", "x.conf:2: [server] nope: unknown key"},
        {"[server]\nudp_port_min = 1\n", "x.conf:2: [server] udp_port_min: unknown key"},
        {"[server]\nLISTEN = 1.2.3.4:5\n", "x.conf:2: [server] LISTEN: unknown key"},
        {"[server]\n = 1\n", "x.conf:2: [server] : unknown key"},
        {"# top\nlisten = 1.2.3.4:5\n", "x.conf:2: listen: key outside of a [section]"},
        {"[server\n", "x.conf:1: malformed section header"},
        {"[server] # comment\n", "x.conf:1: malformed section header"},
        {"[server]]\n", "x.conf:1: malformed section header"},
        {"[server]\nlisten\n", "x.conf:2: expected 'key = value'"},
        /* Integers. */
        {"[media]\nworkers = four\n",
         "x.conf:2: [media] workers: expected an integer from 0 to 64"},
        {"[media]\nworkers = 65\n", "x.conf:2: [media] workers: expected an integer from 0 to 64"},
        {"[media]\nworkers = -1\n", "x.conf:2: [media] workers: expected an integer from 0 to 64"},
        {"[media]\nworkers = +1\n", "x.conf:2: [media] workers: expected an integer from 0 to 64"},
        {"[media]\nworkers = 1.5\n", "x.conf:2: [media] workers: expected an integer from 0 to 64"},
        {"[media]\nworkers = 0x10\n",
         "x.conf:2: [media] workers: expected an integer from 0 to 64"},
        {"[media]\nworkers = 4 4\n", "x.conf:2: [media] workers: expected an integer from 0 to 64"},
        {"[media]\nworkers =\n", "x.conf:2: [media] workers: expected an integer from 0 to 64"},
        {"[media]\nviewer_grace = 3601\n",
         "x.conf:2: [media] viewer_grace: expected an integer from 0 to 3600"},
        {"[media]\n\nudp_port_min = 70000\n",
         "x.conf:3: [media] udp_port_min: expected an integer from 1 to 65535"},
        {"[media]\nudp_port_max = 0\n",
         "x.conf:2: [media] udp_port_max: expected an integer from 1 to 65535"},
        {"[media]\nstun_port = 99999999999999999999999\n",
         "x.conf:2: [media] stun_port: expected an integer from 1 to 65535"},
        {"[server]\nmax_body = 1023\n",
         "x.conf:2: [server] max_body: expected a byte count from 1024 to 67108864"},
        {"[server]\nmax_body = 67108865\n",
         "x.conf:2: [server] max_body: expected a byte count from 1024 to 67108864"},
        /* Addresses. */
        {"[server]\nlisten = 8080\n",
         "x.conf:2: [server] listen: expected HOST:PORT, e.g. 127.0.0.1:8080"},
        {"[server]\nlisten = 127.0.0.1:\n",
         "x.conf:2: [server] listen: expected HOST:PORT, e.g. 127.0.0.1:8080"},
        {"[server]\nlisten = 127.0.0.1:65536\n",
         "x.conf:2: [server] listen: expected HOST:PORT, e.g. 127.0.0.1:8080"},
        {"[server]\nlisten = ::1:8080\n",
         "x.conf:2: [server] listen: expected HOST:PORT, e.g. 127.0.0.1:8080"},
        {"[media]\nip = 999.1.1.1\n",
         "x.conf:2: [media] ip: expected a numeric IPv4 or IPv6 address"},
        {"[media]\nip = localhost\n",
         "x.conf:2: [media] ip: expected a numeric IPv4 or IPv6 address"},
        {"[media]\nip = 10.0.0.1/8\n",
         "x.conf:2: [media] ip: expected a numeric IPv4 or IPv6 address"},
        {"[media]\nip =\n", "x.conf:2: [media] ip: expected a numeric IPv4 or IPv6 address"},
        /* Log levels. */
        {"[log]\nlevel = verbose\n",
         "x.conf:2: [log] level: expected LEVEL or SUBSYSTEM=LEVEL items separated by commas "
         "(levels: error, warn, info, debug)"},
        {"[log]\nlevel = info,nosuch=debug\n",
         "x.conf:2: [log] level: expected LEVEL or SUBSYSTEM=LEVEL items separated by commas "
         "(levels: error, warn, info, debug)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mr_config cfg;
        char err[512] = "";
        mr_config_defaults(&cfg);
        CHECK_INT(mr_config_load_string(&cfg, "x.conf", cases[i].text, err, sizeof(err)),
                  MR_EINVAL);
        CHECK_STR(err, cases[i].msg);
    }
}

static void test_overlong(void)
{
    struct mr_config cfg;
    char text[3000], err[512];

    /* One byte more than each string field holds. */
    snprintf(text, sizeof(text), "[server]\nweb_root = %*s\n", 1024, "");
    memset(strchr(text, '=') + 2, 'a', 1024);
    mr_config_defaults(&cfg);
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", text, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "x.conf:2: [server] web_root: value longer than 1023 bytes");
    CHECK_STR(cfg.web_root, "signaling/web"); /* left as it was */

    snprintf(text, sizeof(text), "[auth]\njwt_secret = %*s\n", MR_JWT_SECRET_MAX + 1, "");
    memset(strchr(text, '=') + 2, 's', MR_JWT_SECRET_MAX + 1);
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", text, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "x.conf:2: [auth] jwt_secret: value longer than 512 bytes");
    /* ... while exactly the maximum fits. */
    snprintf(text, sizeof(text), "[auth]\njwt_secret = %*s\n", MR_JWT_SECRET_MAX, "");
    memset(strchr(text, '=') + 2, 's', MR_JWT_SECRET_MAX);
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", text, err, sizeof(err)), 0);
    CHECK_INT(strlen(cfg.jwt_secret), MR_JWT_SECRET_MAX);

    snprintf(text, sizeof(text), "[media]\nip = 1111:2222:3333:4444:5555:6666:7777:8888%*s\n", 40,
             "");
    memset(strstr(text, "8888") + 4, '0', 40);
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", text, err, sizeof(err)), MR_EINVAL);
    CHECK(strstr(err, "x.conf:2: [media] ip: ") == err);

    snprintf(text, sizeof(text), "[log]\nlevel = info%*s\n", 300, "");
    memset(strstr(text, "info") + 4, ',', 300);
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", text, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "x.conf:2: [log] level: value longer than 255 bytes");

    /* A line longer than the parser's line buffer. */
    snprintf(text, sizeof(text), "[server]\n# %*s\n", 2100, "");
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", text, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "x.conf:2: line too long");
}

static void test_set(void)
{
    struct mr_config cfg;
    char err[256] = "";
    mr_config_defaults(&cfg);
    CHECK_INT(mr_config_set(&cfg, "server", "listen", "[::1]:9000", err, sizeof(err)), 0);
    CHECK_STR(cfg.listen_host, "::1");
    CHECK_INT(cfg.listen_port, 9000);
    CHECK_INT(mr_config_set(&cfg, "server", "listen", "example.org:443", err, sizeof(err)), 0);
    CHECK_STR(cfg.listen_host, "example.org");
    CHECK_INT(cfg.listen_port, 443);
    CHECK_INT(mr_config_set(&cfg, "media", "ip", "::1", err, sizeof(err)), 0);
    CHECK_STR(cfg.media_ip, "::1");
    CHECK_INT(mr_config_set(&cfg, "recording", "dir", "/tmp/rec", err, sizeof(err)), 0);
    CHECK_STR(cfg.record_dir, "/tmp/rec");
    CHECK_INT(mr_config_set(&cfg, "media", "workers", "64", err, sizeof(err)), 0);
    CHECK_INT(cfg.workers, 64);
    CHECK_INT(mr_config_set(&cfg, "media", "stun_port", "65535", err, sizeof(err)), 0);
    CHECK_INT(cfg.stun_port, 65535);
    CHECK_INT(mr_config_set(&cfg, "log", "level", "debug", err, sizeof(err)), 0);
    CHECK_STR(cfg.log_level, "debug");

    CHECK_INT(mr_config_set(&cfg, "nope", "x", "1", err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "[nope] x: unknown key");
    CHECK_INT(mr_config_set(&cfg, "media", "udp_port_max", "0", err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "[media] udp_port_max: expected an integer from 1 to 65535");
    CHECK_INT(mr_config_set(&cfg, "server", "listen", "nowhere", err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "[server] listen: expected HOST:PORT, e.g. 127.0.0.1:8080");
    /* A refused value leaves the field as it was. */
    CHECK_STR(cfg.listen_host, "example.org");
    CHECK_INT(cfg.listen_port, 443);
    CHECK_INT(cfg.udp_port_max, 40000);
}

static void test_validate(void)
{
    struct mr_config cfg;
    char err[256] = "";
    mr_config_defaults(&cfg);
    cfg.udp_port_min = 30000;
    cfg.udp_port_max = 30000;
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), 0);
    cfg.udp_port_max = 29999;
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "[media] udp_port_min (30000) is above udp_port_max (29999)");

    mr_config_defaults(&cfg);
    /* No secret at all is allowed here (the server then generates one or
     * stays on loopback); a short one is not. */
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), 0);
    memset(cfg.jwt_secret, 'k', MR_JWT_SECRET_MIN - 1);
    cfg.jwt_secret[MR_JWT_SECRET_MIN - 1] = '\0';
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "[auth] jwt_secret: must be at least 32 bytes long (got 31)");
    cfg.jwt_secret[MR_JWT_SECRET_MIN - 1] = 'k';
    cfg.jwt_secret[MR_JWT_SECRET_MIN] = '\0';
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), 0);
}

/* [turn]: the URL list as the brief's example writes it, each kept as
 * written, and the keys that go with it. */
static void test_turn(void)
{
    struct mr_config cfg;
    char err[512] = "";
    mr_config_defaults(&cfg);
    static const char text[] =
        "[turn]\n"
        "urls = turn:turn.example.org:3478?transport=udp, turns:turn.example.org:443?transport=tcp,"
        "turn:192.0.2.7?transport=tcp ,stun:turn.example.org, turn:[2001:db8::7]:3478,,\n"
        "secret_file = /etc/medrelay/turn-secret\n"
        "ttl = 3600\n";
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", text, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_INT(cfg.n_turn_urls, 5);
    CHECK_STR(cfg.turn_urls[0].url, "turn:turn.example.org:3478?transport=udp");
    CHECK(cfg.turn_urls[0].relay);
    CHECK_STR(cfg.turn_urls[1].url, "turns:turn.example.org:443?transport=tcp");
    CHECK(cfg.turn_urls[1].relay);
    CHECK_STR(cfg.turn_urls[2].url, "turn:192.0.2.7?transport=tcp");
    CHECK_STR(cfg.turn_urls[3].url, "stun:turn.example.org");
    CHECK(!cfg.turn_urls[3].relay);
    CHECK_STR(cfg.turn_urls[4].url, "turn:[2001:db8::7]:3478");
    CHECK_STR(cfg.turn_secret_file, "/etc/medrelay/turn-secret");
    CHECK_INT(cfg.turn_ttl_s, 3600);
    CHECK(mr_config_has_turn(&cfg));
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), 0);
    /* An empty list turns TURN off again (and then the secret is an error). */
    CHECK_INT(mr_config_set(&cfg, "turn", "urls", "", err, sizeof(err)), 0);
    CHECK_INT(cfg.n_turn_urls, 0);
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "[turn] a secret is set but urls names no turn: or turns: server");
    /* STUN only needs no secret. */
    cfg.turn_secret_file[0] = '\0';
    CHECK_INT(mr_config_set(&cfg, "turn", "urls", "stun:stun.example.org:3478", err, sizeof(err)), 0);
    CHECK(!mr_config_has_turn(&cfg));
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), 0);
}

/* Each bad URL is refused with the URL and the reason; the list is left as
 * it was. */
static void test_turn_errors(void)
{
    static const struct {
        const char *urls, *msg;
    } cases[] = {
        {"http://turn.example.org", "\"http://turn.example.org\": expected a turn:, turns:, stun: or stuns: URL"},
        {"TURN:turn.example.org", "\"TURN:turn.example.org\": expected a turn:, turns:, stun: or stuns: URL"},
        {"turn.example.org:3478", "\"turn.example.org:3478\": expected a turn:, turns:, stun: or stuns: URL"},
        {"turn://turn.example.org", "\"turn://turn.example.org\": no \"//\" after the scheme (turn:HOST:PORT)"},
        {"turn:user@turn.example.org", "\"turn:user@turn.example.org\": no user name in the URL (medrelay makes credentials)"},
        {"turn:", "\"turn:\": expected a host name or address after the scheme"},
        {"turn::3478", "\"turn::3478\": expected a host name or address after the scheme"},
        {"turn:-bad.example.org", "\"turn:-bad.example.org\": expected a host name or address after the scheme"},
        {"turn:a..b", "\"turn:a..b\": expected a host name or address after the scheme"},
        {"turn:999.1.1.1", "\"turn:999.1.1.1\": expected a host name or address after the scheme"},
        {"turn:[::1", "\"turn:[::1\": expected a host name or address after the scheme"},
        {"turn:[not-v6]", "\"turn:[not-v6]\": expected a host name or address after the scheme"},
        {"turn:x:0", "\"turn:x:0\": the port must be a number from 1 to 65535"},
        {"turn:x:65536", "\"turn:x:65536\": the port must be a number from 1 to 65535"},
        {"turn:x:", "\"turn:x:\": the port must be a number from 1 to 65535"},
        {"turn:x:123456", "\"turn:x:123456\": the port must be a number from 1 to 65535"},
        {"turn:x?transport=sctp", "\"turn:x?transport=sctp\": the only query is ?transport=udp or ?transport=tcp"},
        {"turn:x?transport=udp&x=1", "\"turn:x?transport=udp&x=1\": the only query is ?transport=udp or ?transport=tcp"},
        {"turns:x:443?transport=udp", "\"turns:x:443?transport=udp\": turns: is TURN over TLS: its transport is tcp"},
        {"turn:x:3478/path", "\"turn:x:3478/path\": only ?transport=udp|tcp may follow the port"},
        {"turn:x y", "\"turn:x y\": only ?transport=udp|tcp may follow the port"},
        {"stun:x?transport=udp", "\"stun:x?transport=udp\": nothing may follow the port"},
        {"turn:a, turn:b, turn:c, turn:d, turn:e, turn:f, turn:g, turn:h, turn:i", "at most 8 URLs"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mr_config cfg;
        char err[512] = "", want[512];
        mr_config_defaults(&cfg);
        CHECK_INT(mr_config_set(&cfg, "turn", "urls", "stun:kept.example.org", err, sizeof(err)), 0);
        CHECK_INT(mr_config_set(&cfg, "turn", "urls", cases[i].urls, err, sizeof(err)), MR_EINVAL);
        snprintf(want, sizeof(want), "[turn] urls: %s", cases[i].msg);
        CHECK_STR(err, want);
        CHECK_INT(cfg.n_turn_urls, 1);
        CHECK_STR(cfg.turn_urls[0].url, "stun:kept.example.org");
    }
    /* Too long for one URL; and the ttl's range. */
    char text[600], err[512];
    struct mr_config cfg;
    mr_config_defaults(&cfg);
    snprintf(text, sizeof(text), "[turn]\nurls = turn:%0300d\n", 0);
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", text, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "x.conf:2: [turn] urls: a URL longer than 255 bytes");
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", "[turn]\nttl = 59\n", err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "x.conf:2: [turn] ttl: expected an integer from 60 to 604800");
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", "[turn]\nttl = 604801\n", err, sizeof(err)), MR_EINVAL);
    CHECK_INT(mr_config_load_string(&cfg, "x.conf", "[turn]\nttl = 60\n", err, sizeof(err)), 0);
}

/* A TURN server needs the secret: exactly one of secret and secret_file,
 * and an inline one of at least 20 bytes. The messages never quote it. */
static void test_turn_validate(void)
{
    struct mr_config cfg;
    char err[256] = "";
    mr_config_defaults(&cfg);
    CHECK_INT(mr_config_set(&cfg, "turn", "urls", "turn:turn.example.org:3478", err, sizeof(err)), 0);
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "[turn] urls names a TURN server but neither secret nor secret_file is set "
                   "(coturn's static-auth-secret)");
    CHECK_INT(mr_config_set(&cfg, "turn", "secret", "short-secret-19bytes", err, sizeof(err)), 0);
    cfg.turn_secret[19] = '\0';
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "[turn] secret: must be at least 20 bytes long (got 19)");
    CHECK(strstr(err, "short-secret") == NULL);
    CHECK_INT(mr_config_set(&cfg, "turn", "secret", "twenty-byte-secret-!", err, sizeof(err)), 0);
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), 0);
    CHECK_INT(mr_config_set(&cfg, "turn", "secret_file", "/etc/medrelay/turn", err, sizeof(err)), 0);
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), MR_EINVAL);
    CHECK_STR(err, "[turn] secret and secret_file are both set; keep one");
    cfg.turn_secret[0] = '\0';
    CHECK_INT(mr_config_validate(&cfg, err, sizeof(err)), 0);
}

static void test_split_hostport(void)
{
    static const struct {
        const char *in, *host;
        unsigned port;
    } good[] = {
        {"127.0.0.1:8080", "127.0.0.1", 8080},
        {"0.0.0.0:1", "0.0.0.0", 1},
        {"localhost:65535", "localhost", 65535},
        {"example.org:443", "example.org", 443},
        {"[::1]:8080", "::1", 8080},
        {"[::]:80", "::", 80},
        {"[2001:db8::1]:9443", "2001:db8::1", 9443},
        {"[fe80::1%eth0]:5000", "fe80::1%eth0", 5000},
        {"host:00080", "host", 80},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char host[64] = "";
        uint16_t port = 0;
        CHECK_INT(mr_config_split_hostport(good[i].in, host, sizeof(host), &port), 0);
        CHECK_STR(host, good[i].host);
        CHECK_INT(port, good[i].port);
    }

    static const char *const bad[] = {
        "",
        "host",
        ":80",
        "host:",
        "host:0",
        "host:65536",
        "host:99999999999999999999",
        "host:80x",
        "host:-1",
        "host:+80",
        "host: 80",
        "host:8 0",
        "[::1]",
        "[::1]8080",
        "[::1]:",
        "[]:80",
        "[::1:80",
        "::1:8080",
        "2001:db8::1",
        "host:80:90",
        "[::1]:80:90",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char host[64] = "untouched";
        uint16_t port = 7;
        int rc = mr_config_split_hostport(bad[i], host, sizeof(host), &port);
        if (rc != MR_EINVAL)
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
        CHECK_INT(rc, MR_EINVAL);
        CHECK_STR(host, "untouched");
        CHECK_INT(port, 7);
    }

    /* The host must fit the buffer with its NUL. */
    char small[10];
    uint16_t port;
    CHECK_INT(mr_config_split_hostport("123456789:1", small, sizeof(small), &port), 0);
    CHECK_STR(small, "123456789");
    CHECK_INT(mr_config_split_hostport("1234567890:1", small, sizeof(small), &port), MR_EINVAL);
    CHECK_INT(mr_config_split_hostport("[123456789a]:1", small, sizeof(small), &port), MR_EINVAL);
}

static void test_loopback(void)
{
    static const char *const yes[] = {"127.0.0.1",       "127.0.0.53", "127.255.255.254", "::1",
                                      "0:0:0:0:0:0:0:1", "localhost",  "LocalHost"};
    static const char *const no[] = {"0.0.0.0",     "::",  "128.0.0.1",   "10.0.0.1",
                                     "192.168.1.1", "::2", "example.org", "localhost.example.org",
                                     "127.0.0.1.",  "",    "127.0.0.1:80"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!mr_config_host_is_loopback(yes[i]))
            fprintf(stderr, "not loopback: %s\n", yes[i]);
        CHECK(mr_config_host_is_loopback(yes[i]));
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        if (mr_config_host_is_loopback(no[i]))
            fprintf(stderr, "loopback: %s\n", no[i]);
        CHECK(!mr_config_host_is_loopback(no[i]));
    }
}

/* [recording] policy and its per-room exceptions. */
static void test_record_policy(void)
{
    struct mr_config cfg;
    char err[256];
    mr_config_defaults(&cfg);
    CHECK_INT(mr_config_record_policy(&cfg, "any"), MR_RECORD_ALWAYS);
    CHECK_INT(mr_config_load_string(&cfg, "p.conf",
                                    "[recording]\npolicy = on-demand\n"
                                    "rooms = teaching-1=never, or-3 = always,ward_9=on-demand\n",
                                    err, sizeof(err)),
              0);
    CHECK_INT(mr_config_record_policy(&cfg, "teaching-1"), MR_RECORD_NEVER);
    CHECK_INT(mr_config_record_policy(&cfg, "or-3"), MR_RECORD_ALWAYS);
    CHECK_INT(mr_config_record_policy(&cfg, "ward_9"), MR_RECORD_ON_DEMAND);
    CHECK_INT(mr_config_record_policy(&cfg, "teaching"), MR_RECORD_ON_DEMAND);
    CHECK_INT(mr_config_record_policy(&cfg, "or-33"), MR_RECORD_ON_DEMAND);
    CHECK_STR(mr_record_policy_name(MR_RECORD_ON_DEMAND), "on-demand");
    static const char *const bad[] = {
        "[recording]\npolicy = sometimes\n",
        "[recording]\nrooms = or-3\n",
        "[recording]\nrooms = or-3=maybe\n",
        "[recording]\nrooms = bad/room=never\n",
        "[recording]\nrooms = =never\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mr_config_defaults(&cfg);
        CHECK_INT(mr_config_load_string(&cfg, "p.conf", bad[i], err, sizeof(err)), MR_EINVAL);
        CHECK(strstr(err, "p.conf:2: [recording]") != NULL);
    }
}

MR_TEST_MAIN(MR_TEST(test_record_policy), MR_TEST(test_defaults), MR_TEST(test_full_string), MR_TEST(test_full_file),
             MR_TEST(test_errors), MR_TEST(test_overlong), MR_TEST(test_set),
             MR_TEST(test_validate), MR_TEST(test_split_hostport), MR_TEST(test_loopback),
             MR_TEST(test_turn), MR_TEST(test_turn_errors), MR_TEST(test_turn_validate))
