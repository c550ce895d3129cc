/*
 * What the benchmark reads about the server process from /proc: its CPU
 * time (all threads), its resident memory, its network namespace's UDP
 * counters, and its pid when none was given.
 *
 * Plain reads of text files; every function returns 0 or a negative MR_E*
 * code (MR_EIO when the file cannot be read or parsed).
 */
#ifndef MR_BENCH_PROCSTAT_H
#define MR_BENCH_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

/* utime + stime of every thread of the process (/proc/PID/stat fields 14
 * and 15, which the kernel sums over the thread group), in seconds. The
 * resolution is one clock tick (10 ms at USER_HZ 100). */
int mr_bench_proc_cpu(pid_t pid, double *seconds);

/* VmRSS from /proc/PID/status, in KiB. */
int mr_bench_proc_rss_kib(pid_t pid, uint64_t *kib);

/* UDP counters of the network namespace the process lives in
 * (/proc/PID/net/snmp): with the server and the benchmark in two
 * namespaces, each side's socket-buffer overflows show separately. */
struct mr_bench_udp {
    uint64_t in_datagrams, out_datagrams, rcvbuf_errors, sndbuf_errors, in_errors;
};
int mr_bench_proc_udp(pid_t pid, struct mr_bench_udp *out);

/* A process whose command name is `comm` and whose command line contains
 * `needle` (e.g. "10.77.0.1:8080"; NULL: any). Returns 0 with *pid when
 * exactly one matches, MR_ENOENT when none does, MR_EBUSY when several do. */
int mr_bench_find_pid(const char *comm, const char *needle, pid_t *pid);

#endif
