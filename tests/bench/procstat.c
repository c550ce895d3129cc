/* Reading the server process's CPU time, memory and UDP counters from /proc. */
#include "procstat.h"

#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

/* Reads a small /proc file whole into buf (NUL-terminated). */
static int read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return MR_EIO;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (int)n;
}

int mr_bench_proc_cpu(pid_t pid, double *seconds)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_file(path, buf, sizeof(buf)) < 0)
        return MR_EIO;
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses,
     * so fields are counted from the last ')'. utime and stime are fields
     * 14 and 15; after ')' comes field 3. */
    char *p = strrchr(buf, ')');
    if (!p)
        return MR_EIO;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return MR_EIO;
    long hz = sysconf(_SC_CLK_TCK);
    *seconds = (double)(utime + stime) / (double)(hz > 0 ? hz : 100);
    return 0;
}

int mr_bench_proc_rss_kib(pid_t pid, uint64_t *kib)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (read_file(path, buf, sizeof(buf)) < 0)
        return MR_EIO;
    const char *p = strstr(buf, "\nVmRSS:");
    if (!p)
        return MR_EIO;
    *kib = strtoull(p + 7, NULL, 10);
    return 0;
}

int mr_bench_proc_udp(pid_t pid, struct mr_bench_udp *out)
{
    char path[64], buf[8192];
    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "/proc/%d/net/snmp", (int)pid);
    if (read_file(path, buf, sizeof(buf)) < 0)
        return MR_EIO;
    /* Two "Udp:" lines: the names, then the values. */
    char *names = strstr(buf, "\nUdp:");
    char *values = names ? strstr(names + 1, "\nUdp:") : NULL;
    if (!values)
        return MR_EIO;
    char *nend = strchr(names + 1, '\n'), *vend = strchr(values + 1, '\n');
    if (nend)
        *nend = '\0';
    if (vend)
        *vend = '\0';
    char *ns = NULL, *vs = NULL;
    char *n = strtok_r(names + 5, " ", &ns), *v = strtok_r(values + 5, " ", &vs);
    for (; n && v; n = strtok_r(NULL, " ", &ns), v = strtok_r(NULL, " ", &vs)) {
        uint64_t x = strtoull(v, NULL, 10);
        if (strcmp(n, "InDatagrams") == 0)
            out->in_datagrams = x;
        else if (strcmp(n, "OutDatagrams") == 0)
            out->out_datagrams = x;
        else if (strcmp(n, "RcvbufErrors") == 0)
            out->rcvbuf_errors = x;
        else if (strcmp(n, "SndbufErrors") == 0)
            out->sndbuf_errors = x;
        else if (strcmp(n, "InErrors") == 0)
            out->in_errors = x;
    }
    return 0;
}

static bool matches(const char *pid_dir, const char *comm, const char *needle)
{
    char path[300], buf[4096];
    snprintf(path, sizeof(path), "/proc/%s/comm", pid_dir);
    if (read_file(path, buf, sizeof(buf)) < 0)
        return false;
    buf[strcspn(buf, "\n")] = '\0';
    if (strcmp(buf, comm) != 0)
        return false;
    if (!needle)
        return true;
    snprintf(path, sizeof(path), "/proc/%s/cmdline", pid_dir);
    int n = read_file(path, buf, sizeof(buf));
    for (int i = 0; i < n; i++) /* arguments are NUL-separated */
        if (buf[i] == '\0')
            buf[i] = ' ';
    return n > 0 && strstr(buf, needle) != NULL;
}

int mr_bench_find_pid(const char *comm, const char *needle, pid_t *pid)
{
    DIR *d = opendir("/proc");
    if (!d)
        return MR_EIO;
    unsigned found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]) || !matches(e->d_name, comm, needle))
            continue;
        *pid = (pid_t)atoi(e->d_name);
        found++;
    }
    closedir(d);
    return found == 1 ? 0 : found == 0 ? MR_ENOENT : MR_EBUSY;
}
