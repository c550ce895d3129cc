#!/usr/bin/python3
"""Reads capture.sh's capture (DIR/capture.pcap, DIR/*.sdp.json) and says
what each client sent: RTP per SSRC (packet and frame sizes, packets per
frame, the spread inside a frame, header extensions), and RTCP by the kind
of the compound's first packet (the rest of an SRTCP compound is
encrypted; its total length tells the rest). SRTP and SRTCP headers are in
the clear, payloads are not. The tag's length comes from the cipher the
publisher's getStats() reported (stats.jsonl): 10 bytes for
AES_CM_128_HMAC_SHA1_80, 16 for AEAD_AES_128_GCM; SRTCP adds its 4-byte
index. Chromium offers both, and medrelay picks GCM.

    analyze.py DIR [--from S] [--ports P,P,...] [--tag 10|16] [--json]

--ports names the server's media ports when DIR has no answers (a capture
of medrelay-bench: `ss -uanp` in the server's namespace lists them); --tag
gives the SRTP tag length when DIR has no stats.jsonl.

--from S leaves out the first S seconds (Chromium's send rate climbs for
about 30 s: without transport-cc or REMB its estimate grows only on
receiver reports without loss). Datagrams the relay sends are counted as
the capture saw them: on loopback a GSO send (UDP_SEGMENT) is one large
datagram there, so only the clients' side (up) is packet-exact.
"""
import glob
import json
import os
import re
import struct
import sys
from collections import Counter, defaultdict

TAG = 10
RTCP_NAMES = {200: "SR", 201: "RR", 202: "SDES", 203: "BYE", 204: "APP",
              (205, 1): "NACK", (205, 15): "TWCC", (206, 1): "PLI", (206, 4): "FIR",
              (206, 15): "REMB/ALFB"}


def pct(v, p):
    if not v:
        return 0
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    link = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        t = sec + frac / (1e9 if nano else 1e6)
        if link == 1:
            if len(pkt) < 14 or struct.unpack(">H", pkt[12:14])[0] != 0x0800:
                continue
            ip = pkt[14:]
        elif link == 113:  # Linux cooked
            ip = pkt[16:]
        else:
            ip = pkt
        if len(ip) < 20 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        yield t, sport, dport, ulen - 8, udp[8:]


def server_ports(d):
    """{server media port: session name} from the answers' candidates."""
    ports = {}
    for f in sorted(glob.glob(os.path.join(d, "*.sdp.json"))):
        name = os.path.basename(f)[:-len(".sdp.json")]
        ans = json.load(open(f))["answer"]
        for m in re.finditer(r"a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host", ans, re.I):
            ports[int(m.group(1))] = name
    return ports


def rtp_exts(p, cc):
    """[(id, len)] of the header extension block, and its total length."""
    off = 12 + 4 * cc
    if len(p) < off + 4:
        return [], 0
    prof, words = struct.unpack(">HH", p[off:off + 4])
    blen = 4 + 4 * words
    body = p[off + 4:off + blen]
    out = []
    i = 0
    if prof == 0xBEDE:
        while i < len(body):
            b = body[i]
            if b == 0:
                i += 1
                continue
            eid, ln = b >> 4, (b & 15) + 1
            if eid == 15:
                break
            out.append((eid, ln))
            i += 1 + ln
    elif prof & 0xFFF0 == 0x1000:
        while i + 1 < len(body):
            if body[i] == 0:
                i += 1
                continue
            out.append((body[i], body[i + 1]))
            i += 2 + body[i + 1]
    return out, blen


def srtp_tag(d):
    try:
        for line in open(os.path.join(d, "stats.jsonl")):
            for k, v in json.loads(line)["s"].items():
                if k.startswith("transport") and v.get("srtpCipher"):
                    return 16 if "GCM" in v["srtpCipher"] else 10
    except OSError:
        pass
    return 10


def main():
    global TAG
    d = sys.argv[1]
    TAG = srtp_tag(d)
    if "--tag" in sys.argv:
        TAG = int(sys.argv[sys.argv.index("--tag") + 1])
    ports = server_ports(d)
    if "--ports" in sys.argv:
        ports = {int(x): f"port-{x}" for x in sys.argv[sys.argv.index("--ports") + 1].split(",")}
    skip = float(sys.argv[sys.argv.index("--from") + 1]) if "--from" in sys.argv else 0
    flows = defaultdict(list)  # (session, 'up'|'down') -> [(t, len, payload)]
    start = None
    for t, sp, dp, ln, pl in packets(os.path.join(d, "capture.pcap")):
        start = t if start is None else start
        if t - start < skip:
            continue
        if dp in ports:
            flows[(ports[dp], "up")].append((t, ln, pl))
        elif sp in ports:
            flows[(ports[sp], "down")].append((t, ln, pl))
    report = {}
    for (name, way), pkts in sorted(flows.items()):
        report[f"{name} {way}"] = flow_report(pkts)
    if "--json" in sys.argv:
        print(json.dumps(report, indent=1))
        return
    for k, r in report.items():
        print(f"== {k}: {r['duration_s']:.1f} s")
        for ssrc, s in r["rtp"].items():
            print(f"  RTP ssrc {ssrc} pt {s['pt']}: {s['pps']:.1f} pkt/s, {s['kbps']:.0f} kbit/s "
                  f"(payload), payload p5/p50/p95/max {s['payload_p']}, marker {s['marker_frac']:.2f}, "
                  f"padding bit {s['padding']}")
            print(f"    header: extensions {s['ext']} ; ext block bytes {s['ext_block']}")
            if s.get("frames"):
                f = s["frames"]
                print(f"    frames {f['fps']:.1f}/s, bytes p5/p50/p95/max {f['bytes_p']}, "
                      f"packets/frame {f['pkts_hist']}, large frames (>3x median) {f['large']} "
                      f"({f['large_per_s']:.2f}/s, p50 {f['large_p50']} B)")
                print(f"    within a frame: payload max/min p50 {f['spread_p50']:.2f}, "
                      f"packet gap p50/p90/p99 {f['gap_us']} us, frame span p50/p90/max "
                      f"{f['span_us']} us, frame interval p50/p10/p90 {f['ival_us']} us")
        for kind, c in r["rtcp"].items():
            print(f"  RTCP {kind}: {c['n']} ({c['per_s']:.2f}/s), compound bytes {c['sizes']}, "
                  f"interval ms p10/p50/p90 by sender {c['interval_ms_p10_p50_p90_by_sender']}")
        print(f"  other: {r['other']}")


def flow_report(pkts):
    t0, t1 = pkts[0][0], pkts[-1][0]
    dur = max(t1 - t0, 1e-3)
    rtp = defaultdict(list)
    rtcp = defaultdict(list)
    other = Counter()
    for t, ln, p in pkts:
        if len(p) < 12 or not 128 <= p[0] <= 191:
            other["stun" if p and p[0] < 4 else "dtls" if p and 20 <= p[0] <= 63 else "?"] += 1
            continue
        if 192 <= p[1] <= 223:
            pt = p[1]
            fmt = p[0] & 31
            key = RTCP_NAMES.get((pt, fmt)) or RTCP_NAMES.get(pt) or f"PT{pt}/{fmt}"
            rtcp[key].append((t, ln - 4 - TAG, struct.unpack(">I", p[4:8])[0]))
            continue
        rtp[struct.unpack(">I", p[8:12])[0]].append((t, ln, p))
    out = {"duration_s": dur, "rtp": {}, "rtcp": {}, "other": dict(other)}
    for ssrc, lst in rtp.items():
        sizes, exts, blocks = [], Counter(), Counter()
        marker = pad = 0
        frames = defaultdict(list)
        for t, ln, p in lst:
            cc = p[0] & 15
            x = p[0] & 16
            ex, blen = rtp_exts(p, cc) if x else ([], 0)
            for e in ex:
                exts[f"id{e[0]}:{e[1]}B"] += 1
            blocks[blen] += 1
            pay = ln - 12 - 4 * cc - blen - TAG
            sizes.append(pay)
            marker += p[1] >> 7
            pad += (p[0] >> 5) & 1
            frames[struct.unpack(">I", p[4:8])[0]].append((t, pay))
        n = len(lst)
        s = {"pt": lst[0][2][1] & 127, "packets": n, "pps": n / dur,
             "kbps": sum(sizes) * 8 / dur / 1000,
             "payload_p": [pct(sizes, 5), pct(sizes, 50), pct(sizes, 95), max(sizes)],
             "marker_frac": marker / n, "padding": pad,
             "ext": {k: f"{v / n:.2f}" for k, v in sorted(exts.items())},
             "ext_block": dict(blocks)}
        if (lst[0][2][1] & 127) != 111 and len(frames) > 10:
            s["frames"] = frame_report(frames, dur)
        out["rtp"][str(ssrc)] = s
    for k, v in rtcp.items():
        by_ssrc = defaultdict(list)
        for t, _, ssrc in v:
            by_ssrc[ssrc].append(t)
        ivals = {str(ssrc): [int(pct([(b - a) * 1000 for a, b in zip(ts, ts[1:])], q))
                             for q in (10, 50, 90)] for ssrc, ts in by_ssrc.items() if len(ts) > 2}
        out["rtcp"][k] = {"n": len(v), "per_s": len(v) / dur,
                          "sizes": dict(Counter(x[1] for x in v).most_common(6)),
                          "interval_ms_p10_p50_p90_by_sender": ivals}
    return out


def frame_report(frames, dur):
    fl = sorted(frames.values(), key=lambda v: v[0][0])
    fbytes = [sum(x[1] for x in f) for f in fl]
    med = pct(fbytes, 50)
    large = [b for b in fbytes if b > 3 * med]
    gaps, spans, spread = [], [], []
    for f in fl:
        ts = sorted(x[0] for x in f)
        gaps += [(b - a) * 1e6 for a, b in zip(ts, ts[1:])]
        spans.append((ts[-1] - ts[0]) * 1e6)
        if len(f) > 1:
            ps = [x[1] for x in f]
            spread.append(max(ps) / max(1, min(ps)))
    starts = [f[0][0] for f in fl]
    ival = [(b - a) * 1e6 for a, b in zip(starts, starts[1:])]
    hist = Counter(len(f) for f in fl)
    return {"fps": len(fl) / dur, "bytes_p": [pct(fbytes, 5), med, pct(fbytes, 95), max(fbytes)],
            "pkts_hist": dict(sorted(hist.items())), "large": len(large),
            "large_per_s": len(large) / dur, "large_p50": pct(large, 50),
            "spread_p50": pct(spread, 50) if spread else 1,
            "gap_us": [int(pct(gaps, 50)), int(pct(gaps, 90)), int(pct(gaps, 99))],
            "span_us": [int(pct(spans, 50)), int(pct(spans, 90)), int(max(spans))],
            "ival_us": [int(pct(ival, 50)), int(pct(ival, 10)), int(pct(ival, 90))]}


if __name__ == "__main__":
    main()
