/* Starting, watching and stopping the real server for integration tests. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "http_client.h"

#ifndef MEDRELAY_SOURCE_DIR
#error "MEDRELAY_SOURCE_DIR must name the source tree"
#endif

extern char **environ;

/* Servers still running, killed at exit() so no path leaves one behind. */
#define MAX_SERVERS 4
static struct mr_test_server *running[MAX_SERVERS];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(char *dir)
{
    if (dir[0])
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

static void forget(struct mr_test_server *s)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (running[i] == s)
            running[i] = NULL;
}

static void kill_leftovers(void)
{
    for (int i = 0; i < MAX_SERVERS; i++) {
        struct mr_test_server *s = running[i];
        if (s && s->pid > 0 && !s->exited) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            remove_tree(s->tmp);
        }
        running[i] = NULL;
    }
}

static void remember(struct mr_test_server *s)
{
    static bool registered;
    if (!registered) {
        atexit(kill_leftovers);
        registered = true;
    }
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (!running[i]) {
            running[i] = s;
            return;
        }
    }
}

/* A loopback TCP port that was free a moment ago. */
static uint16_t free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int write_config(const struct mr_test_server *s, const struct mr_test_server_opts *o,
                        const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return MR_EIO;
    const char *level = getenv("MEDRELAY_TEST_LOG_LEVEL");
    fprintf(f,
            "# Written by tests/peer/server.c for one test run.\n\n[server]\n"
            "web_root = %s/signaling/web\naudit_log = %s/audit.log\n\n[auth]\n"
            "# Never the repository's secret; MEDRELAY_JWT_SECRET wins anyway.\n"
            "jwt_secret_file = %s/jwt-secret\n",
            MEDRELAY_SOURCE_DIR, s->tmp, s->tmp);
    if (level && level[0])
        fprintf(f, "\n[log]\nlevel = %s\n", level);
    if (o->config_extra)
        fprintf(f, "\n%s\n", o->config_extra);
    return fclose(f) == 0 ? 0 : MR_EIO;
}

static void set_paths(struct mr_test_server *s, const char *name)
{
    const char *base = getenv("MEDRELAY_ARTIFACT_DIR");
    if (base && base[0])
        snprintf(s->artifacts, sizeof(s->artifacts), "%s/%s", base, name);
    else
        snprintf(s->artifacts, sizeof(s->artifacts), "%s/tests/artifacts/integration/%s",
                 MEDRELAY_SOURCE_DIR, name);
    g_mkdir_with_parents(s->artifacts, 0755);
    snprintf(s->log_path, sizeof(s->log_path), "%s/medrelay.log", s->artifacts);
}

/* The child: log file as stdout and stderr, death with the parent, exec. */
static void exec_server(const char *bin, char **argv, char **envp, int log_fd, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execve(bin, argv, envp);
    dprintf(2, "cannot run %s: %s\n", bin, strerror(errno));
    _exit(127);
}

static int spawn(struct mr_test_server *s, const char *bin, const char *config)
{
    char listen[64], record[300];
    snprintf(listen, sizeof(listen), "%s:%u", s->host, s->port);
    snprintf(record, sizeof(record), "%s/rec", s->tmp);
    char *argv[] = {(char *)bin,  "--config",      (char *)config, "--listen", listen,
                    "--media-ip", (char *)s->host, "--record-dir", record,     NULL};
    /* The environment is built here: the child of a threaded process should
     * only call async-signal-safe functions before exec. */
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = calloc(n + 2, sizeof(*envp));
    char *secret = g_strdup_printf("MEDRELAY_JWT_SECRET=%s", s->secret);
    if (!envp)
        return MR_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "MEDRELAY_JWT_SECRET=", 20) != 0)
            envp[k++] = environ[i];
    envp[k] = secret;
    int log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t parent = getpid();
    pid_t pid = log_fd < 0 ? -1 : fork();
    if (pid == 0)
        exec_server(bin, argv, envp, log_fd, parent);
    if (log_fd >= 0)
        close(log_fd);
    free(envp);
    g_free(secret);
    if (pid < 0)
        return MR_EIO;
    s->pid = pid;
    s->exited = false;
    remember(s);
    return 0;
}

bool mr_test_server_alive(struct mr_test_server *s)
{
    if (s->pid <= 0 || s->exited)
        return false;
    if (waitpid(s->pid, &s->wstatus, WNOHANG) == s->pid) {
        s->exited = true;
        return false;
    }
    return true;
}

static void describe_status(int st, char *out, size_t cap)
{
    if (WIFEXITED(st))
        snprintf(out, cap, "exit status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, cap, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(out, cap, "status 0x%x", st);
}

/* Polls GET /healthz until 200, the process exits, or the deadline. */
static int wait_ready(struct mr_test_server *s, int timeout_ms, char *err, size_t elen)
{
    int64_t end = mr_clock_mono_us() + (int64_t)timeout_ms * 1000;
    char last[160] = "no answer";
    while (mr_clock_mono_us() < end) {
        if (!mr_test_server_alive(s)) {
            char st[96];
            describe_status(s->wstatus, st, sizeof(st));
            snprintf(err, elen, "medrelay exited during start-up (%s); see %s", st, s->log_path);
            return MR_EIO;
        }
        struct mr_test_http_response r;
        if (mr_test_http_request(s->host, s->port, "GET", "/healthz", NULL, NULL, 0, 1000, &r, last,
                                 sizeof(last)) == 0) {
            int status = r.status;
            mr_test_http_response_cleanup(&r);
            if (status == 200)
                return 0;
            snprintf(last, sizeof(last), "status %d", status);
        }
        g_usleep(100 * 1000);
    }
    snprintf(err, elen, "GET /healthz gave no 200 within %d ms (last: %s); see %s", timeout_ms,
             last, s->log_path);
    return MR_EIO;
}

int mr_test_server_start(struct mr_test_server *s, const struct mr_test_server_opts *o, char *err,
                         size_t err_len)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->host, sizeof(s->host), "127.0.0.1");
    const char *bin = o->bin ? o->bin : getenv("MEDRELAY_BIN");
    if (!bin || !bin[0])
        bin = MEDRELAY_SOURCE_DIR "/build/medrelay";
    if (access(bin, X_OK) != 0) {
        snprintf(err, err_len, "%s is not an executable (set MEDRELAY_BIN)", bin);
        return MR_EIO;
    }
    set_paths(s, o->name ? o->name : "server");
    mr_random_hex(s->secret, 24);
    snprintf(s->tmp, sizeof(s->tmp), "%s/medrelay-test-XXXXXX", g_get_tmp_dir());
    if (!mkdtemp(s->tmp)) {
        snprintf(err, err_len, "mkdtemp: %s", strerror(errno));
        s->tmp[0] = '\0';
        return MR_EIO;
    }
    char config[300];
    snprintf(config, sizeof(config), "%s/medrelay.conf", s->tmp);
    int rc = write_config(s, o, config);
    for (int attempt = 0; rc == 0; attempt++) {
        s->port = free_port();
        rc = spawn(s, bin, config);
        if (rc == 0)
            rc = wait_ready(s, o->ready_timeout_ms ? o->ready_timeout_ms : 15000, err, err_len);
        /* The port was free when we looked; a server that lost it to someone
         * else in between exits at once, and another port is tried. */
        if (rc == 0 || s->pid <= 0 || mr_test_server_alive(s) || attempt == 2)
            break;
        forget(s);
        s->pid = 0;
        rc = 0;
    }
    if (rc < 0) {
        mr_test_server_print_tail(s, 30);
        char why[160];
        mr_test_server_stop(s, 2000, why, sizeof(why));
    }
    return rc;
}

static bool log_has_sanitizer_report(const struct mr_test_server *s, char *found, size_t cap)
{
    static const char *const patterns[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                           "runtime error:", "ERROR: ThreadSanitizer"};
    gchar *text = NULL;
    if (!g_file_get_contents(s->log_path, &text, NULL, NULL))
        return false;
    bool hit = false;
    for (size_t i = 0; i < G_N_ELEMENTS(patterns) && !hit; i++) {
        if (strstr(text, patterns[i])) {
            snprintf(found, cap, "%s", patterns[i]);
            hit = true;
        }
    }
    g_free(text);
    return hit;
}

/* Waits up to ms for the process to exit; true when it did. */
static bool wait_exit(struct mr_test_server *s, int ms)
{
    int64_t end = mr_clock_mono_us() + (int64_t)ms * 1000;
    while (mr_test_server_alive(s) && mr_clock_mono_us() < end)
        g_usleep(20 * 1000);
    return !mr_test_server_alive(s);
}

int mr_test_server_stop(struct mr_test_server *s, int grace_ms, char *why, size_t why_len)
{
    char st[96] = "", san[64] = "";
    int rc = 0;
    why[0] = '\0';
    if (s->pid <= 0)
        return 0; /* never started, or stopped already */
    if (!mr_test_server_alive(s)) {
        describe_status(s->wstatus, st, sizeof(st));
        snprintf(why, why_len, "medrelay had already exited (%s)", st);
        rc = MR_EIO;
    } else {
        kill(s->pid, SIGTERM);
        if (!wait_exit(s, grace_ms)) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &s->wstatus, 0);
            s->exited = true;
            snprintf(why, why_len, "medrelay did not exit within %d ms of SIGTERM (killed)",
                     grace_ms);
            rc = MR_EIO;
        } else if (!WIFEXITED(s->wstatus) || WEXITSTATUS(s->wstatus) != 0) {
            describe_status(s->wstatus, st, sizeof(st));
            snprintf(why, why_len, "medrelay stopped badly after SIGTERM (%s)", st);
            rc = MR_EIO;
        }
    }
    if (log_has_sanitizer_report(s, san, sizeof(san))) {
        size_t n = strlen(why);
        snprintf(why + n, why_len - n, "%ssanitizer report in %s (%s)", n ? "; " : "", s->log_path,
                 san);
        rc = MR_EIO;
    }
    forget(s);
    s->pid = 0;
    remove_tree(s->tmp);
    return rc;
}

void mr_test_server_print_tail(const struct mr_test_server *s, int lines)
{
    gchar *text = NULL;
    if (!s->log_path[0] || !g_file_get_contents(s->log_path, &text, NULL, NULL))
        return;
    const char *start = text + strlen(text);
    for (int n = 0; start > text && n <= lines; start--)
        if (start[-1] == '\n')
            n++;
    fprintf(stderr, "--- last lines of %s ---\n%s\n---\n", s->log_path, start);
    g_free(text);
}

int mr_test_server_token(const struct mr_test_server *s, const char *room, const char *role,
                         const char *sub, int ttl_s, char *out, size_t cap)
{
    struct mr_claims c = {.exp = (int64_t)time(NULL) + ttl_s};
    snprintf(c.room, sizeof(c.room), "%s", room);
    snprintf(c.sub, sizeof(c.sub), "%s", sub);
    int rc = mr_role_from_name(role, &c.role);
    if (rc < 0)
        return rc;
    return mr_jwt_sign(&c, (const uint8_t *)s->secret, strlen(s->secret), out, cap);
}

int mr_test_server_health(const struct mr_test_server *s, struct mr_test_health *out,
                          int timeout_ms)
{
    struct mr_test_http_response r;
    char err[128];
    if (mr_test_http_request(s->host, s->port, "GET", "/healthz", NULL, NULL, 0, timeout_ms, &r,
                             err, sizeof(err)) < 0)
        return MR_EIO;
    json_t *j = r.status == 200 ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
    int rc = j ? 0 : MR_EIO;
    if (j) {
        out->publishers = (int)json_integer_value(json_object_get(j, "publishers"));
        out->subscribers = (int)json_integer_value(json_object_get(j, "subscribers"));
        out->streams = (int)json_integer_value(json_object_get(j, "streams"));
    }
    json_decref(j);
    mr_test_http_response_cleanup(&r);
    return rc;
}

int mr_test_server_metric(const struct mr_test_server *s, const char *sample, double *out)
{
    struct mr_test_http_response r;
    char err[128], tok[MR_JWT_MAX_LEN], auth[MR_JWT_MAX_LEN + 32];
    /* /metrics needs an operator token for every room. */
    if (mr_test_server_token(s, "*", "operator", "scraper", 600, tok, sizeof(tok)) < 0)
        return MR_EIO;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
    const char *const headers[] = {auth, NULL};
    if (mr_test_http_request(s->host, s->port, "GET", "/metrics", headers, NULL, 0, 5000, &r, err,
                             sizeof(err)) < 0)
        return MR_EIO;
    int rc = r.status == 200 ? MR_ENOENT : MR_EIO;
    size_t n = strlen(sample);
    for (const char *p = r.body; rc == MR_ENOENT && p && p < r.body + r.body_len;) {
        if (strncmp(p, sample, n) == 0 && p[n] == ' ') {
            *out = strtod(p + n + 1, NULL);
            rc = 0;
        }
        p = memchr(p, '\n', (size_t)(r.body + r.body_len - p));
        p = p ? p + 1 : NULL;
    }
    mr_test_http_response_cleanup(&r);
    return rc;
}

/* /proc/net/snmp holds a "Udp:" line of names, then one of values. */
int mr_test_udp_counters(struct mr_test_udp_counters *out)
{
    memset(out, 0, sizeof(*out));
    FILE *f = fopen("/proc/net/snmp", "r");
    if (!f)
        return MR_EIO;
    char names[512] = "", values[512] = "", line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Udp:", 4) != 0)
            continue;
        if (!names[0])
            snprintf(names, sizeof(names), "%s", line);
        else
            snprintf(values, sizeof(values), "%s", line);
    }
    fclose(f);
    if (!values[0])
        return MR_EIO;
    gchar **n = g_strsplit_set(g_strstrip(names), " ", -1);
    gchar **v = g_strsplit_set(g_strstrip(values), " ", -1);
    for (int i = 1; n[i] && v[i]; i++) {
        uint64_t x = g_ascii_strtoull(v[i], NULL, 10);
        if (strcmp(n[i], "InDatagrams") == 0)
            out->in_datagrams = x;
        else if (strcmp(n[i], "NoPorts") == 0)
            out->no_ports = x;
        else if (strcmp(n[i], "InErrors") == 0)
            out->in_errors = x;
        else if (strcmp(n[i], "OutDatagrams") == 0)
            out->out_datagrams = x;
        else if (strcmp(n[i], "RcvbufErrors") == 0)
            out->rcvbuf_errors = x;
        else if (strcmp(n[i], "SndbufErrors") == 0)
            out->sndbuf_errors = x;
    }
    g_strfreev(n);
    g_strfreev(v);
    return 0;
}
