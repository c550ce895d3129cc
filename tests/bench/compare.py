#!/usr/bin/env python3
"""Side by side: medrelay-bench CSVs of several targets (make bench-compare).

    compare.py MEDRELAY.csv JANUS.csv [JANUS-ON-OPENSSL-SRTP.csv ...]

For each subscriber count, the median over the valid rounds of every figure
for each target and kind of peers (the CSV's client column: synthetic,
real, ...; "synthetic" where a CSV predates it; with the loss of the
publishers' leg when not 0, "real publoss2": bench.sh --pub-loss; with
subscribers over ICE-TCP, "real subtcp": --sub-transport tcp), and the
ratio medrelay / Janus between series of the same kind of peers (below 1:
medrelay spends less, or waits less). Rounds that lost their publisher are counted apart.
Every round ran against a server started for it (scripts/bench.sh --sweep),
so memory figures are medians like the others.
"""
import csv
import json
import statistics
import sys

# (column, label, unit, decimals)
FIGURES = [
    ("cpu_us_per_packet", "server CPU per forwarded packet", "us", 2),
    ("forwarded_pps", "forwarded packets per second", "/s", 0),
    ("server_cpu_pct", "server CPU", "% of a core", 1),
    ("rss_per_sub_kib", "RSS per subscriber", "KiB", 1),
    ("rss_end_kib", "RSS at the end", "KiB", 0),
    ("lat_video_p50_us", "transit latency video p50", "us", 0),
    ("lat_video_p99_us", "transit latency video p99", "us", 0),
    ("lat_video_max_us", "transit latency video max", "us", 0),
    ("loss_pct", "loss", "%", 4),
    ("first_keyframe_p50_ms", "subscribe to first key frame p50", "ms", 0),
    ("first_keyframe_max_ms", "subscribe to first key frame max", "ms", 0),
]


def load(path):
    """[({subscribers: [row, ...]}, ciphers seen, client)], one per kind of
    peers in the file, in the order they first appear."""
    series = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            client = row.get("client") or "synthetic"
            loss = row.get("pub_loss_pct") or "0"
            if loss != "0":
                client += f" publoss{loss}"
            if row.get("sub_transport") == "tcp":
                client += " subtcp"
            if row.get("layers") not in (None, "", "1"):
                client += f" layers{row['layers']}"
            runs, ciphers = series.setdefault(client, ({}, set()))
            runs.setdefault(int(row["subscribers"]), []).append(row)
            ciphers.add(row["cipher"])
    return [(runs, ciphers, client) for client, (runs, ciphers) in series.items()]


def median(rows, col):
    vals = [float(r[col]) for r in rows if r.get("valid", "1") == "1"]
    return statistics.median(vals) if vals else None


def fmt(v, decimals):
    return "-" if v is None else f"{v:.{decimals}f}"


def name(rows_by_n, client):
    for rows in rows_by_n.values():
        return f"{rows[0]['target']} {rows[0]['label']} {client}"
    return "?"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    loaded = [load(p) for p in sys.argv[1:]]
    sets = [(runs, ciphers) for file in loaded for runs, ciphers, _ in file]
    clients = [client for file in loaded for _, _, client in file]
    names = [name(runs, c) for (runs, _), c in zip(sets, clients)]
    # The reference of each series: the first file's (medrelay's) of its kind.
    first = {client: i for i, (_, _, client) in enumerate(loaded[0])}
    others = [i for i in range(len(sets)) if i >= len(loaded[0])]
    print("\nmedians over rounds; ratio = medrelay / other, same kind of peers. SRTP: "
          + "; ".join(f"{n}: {', '.join(sorted(c))}" for n, (_, c) in zip(names, sets)))
    counts = sorted(set().union(*(runs.keys() for runs, _ in sets)))
    for n in counts:
        rows = [runs.get(n, []) for runs, _ in sets]
        valid = [sum(r.get("valid", "1") == "1" for r in rs) for rs in rows]
        print(f"\n1 -> {n} subscribers; valid rounds: "
              + ", ".join(f"{nm} {v}/{len(rs)}" for nm, v, rs in zip(names, valid, rows)))
        head = f"  {'figure':<40}" + "".join(f"{nm[-30:]:>32}" for nm in names)
        head += "".join(f"{'ratio ' + str(i + 1):>10}" for i in others)
        print(head)
        out = {}
        for col, label, unit, dec in FIGURES:
            meds = [median(rs, col) for rs in rows]
            line = f"  {label + ' (' + unit + ')':<40}" + "".join(f"{fmt(m, dec):>32}" for m in meds)
            for i in others:
                ref = meds[first[clients[i]]] if clients[i] in first else None
                ratio = f"{ref / meds[i]:.3f}" if ref is not None and meds[i] else "-"
                line += f"{ratio:>10}"
            print(line)
            out[col] = [None if m is None else round(m, dec) for m in meds]
        print("BENCH_COMPARE_JSON " + json.dumps({"subscribers": n, "series": names, **out}))


if __name__ == "__main__":
    main()
