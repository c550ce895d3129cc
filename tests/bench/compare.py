#!/usr/bin/env python3
"""Side by side: medrelay-bench CSVs of two targets (make bench-compare).

    compare.py MEDRELAY.csv JANUS.csv

For each subscriber count, the median over the valid rounds of every figure
for each target, and the ratio medrelay / Janus (below 1: medrelay spends
less, or waits less). Rounds that lost their publisher are counted apart.
Memory figures come from the first valid round only: later rounds run on
the same server process, whose heap already grew in the earlier ones.
"""
import csv
import statistics
import sys

# (column, label, unit, decimals)
FIGURES = [
    ("cpu_us_per_packet", "server CPU per forwarded packet", "us", 2),
    ("forwarded_pps", "forwarded packets per second", "/s", 0),
    ("server_cpu_pct", "server CPU", "% of a core", 1),
    ("rss_per_sub_kib", "RSS per subscriber (1st round)", "KiB", 1),
    ("rss_end_kib", "RSS at the end (1st round)", "KiB", 0),
    ("lat_video_p50_us", "transit latency video p50", "us", 0),
    ("lat_video_p99_us", "transit latency video p99", "us", 0),
    ("lat_video_max_us", "transit latency video max", "us", 0),
    ("loss_pct", "loss", "%", 4),
    ("first_keyframe_p50_ms", "subscribe to first key frame p50", "ms", 0),
    ("first_keyframe_max_ms", "subscribe to first key frame max", "ms", 0),
]


def load(path):
    """{subscribers: [row, ...]} and the ciphers seen."""
    runs, ciphers = {}, set()
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            runs.setdefault(int(row["subscribers"]), []).append(row)
            ciphers.add(row["cipher"])
    return runs, ciphers


def median(rows, col):
    vals = [float(r[col]) for r in rows if r.get("valid", "1") == "1"]
    if col.startswith("rss") and vals:
        return vals[0]
    return statistics.median(vals) if vals else None


def fmt(v, decimals):
    return "-" if v is None else f"{v:.{decimals}f}"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, ca = load(sys.argv[1])
    b, cb = load(sys.argv[2])
    print(f"\nmedrelay vs Janus: medians over rounds (SRTP: medrelay {', '.join(sorted(ca))}; "
          f"Janus {', '.join(sorted(cb))})")
    for n in sorted(set(a) | set(b)):
        ra, rb = a.get(n, []), b.get(n, [])
        va = sum(r.get("valid", "1") == "1" for r in ra)
        vb = sum(r.get("valid", "1") == "1" for r in rb)
        print(f"\n1 -> {n} subscribers: medrelay {va}/{len(ra)} valid rounds, "
              f"Janus {vb}/{len(rb)}")
        print(f"  {'figure':<36} {'medrelay':>12} {'Janus':>12} {'ratio':>8}")
        for col, label, unit, dec in FIGURES:
            ma, mb = median(ra, col), median(rb, col)
            ratio = f"{ma / mb:.3f}" if ma is not None and mb else "-"
            print(f"  {label + ' (' + unit + ')':<36} {fmt(ma, dec):>12} {fmt(mb, dec):>12} "
                  f"{ratio:>8}")
        print(f"BENCH_COMPARE_JSON {{\"subscribers\":{n},"
              + ",".join(f"\"{col}\":[{fmt(median(ra, col), dec) if median(ra, col) is not None else 'null'},"
                         f"{fmt(median(rb, col), dec) if median(rb, col) is not None else 'null'}]"
                         for col, _, _, dec in FIGURES)
              + "}")


if __name__ == "__main__":
    main()
