#!/usr/bin/python3
"""GET /metrics: Prometheus text format, counters that move with real media,
and the token rule (operator for all rooms, by default from loopback too;
loopback open only when [server] metrics_loopback_open allows it, and then
never for a request that came through a proxy).

A real aiortc publisher streams for a few seconds so the packet counters
have something to count. Env: MEDRELAY_BIN.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import Server, SetupError, artifact_dir, request  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PUBLISHER = os.path.join(HERE, "..", "interop", "aiortc_whip_publish.py")
failures = 0
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-z_]+="[^"\\\n]*",?)*\})? (-?[0-9.e+]+)$')
REQUIRED = [
    "medrelay_sessions", "medrelay_streams", "medrelay_packets_received_total",
    "medrelay_received_bytes_total", "medrelay_packets_sent_total", "medrelay_sent_bytes_total",
    "medrelay_rtp_forwarded_packets_total", "medrelay_packets_dropped_total",
    "medrelay_srtp_errors_total", "medrelay_keyframe_requests_received_total",
    "medrelay_keyframe_requests_sent_total", "medrelay_worker_streams", "medrelay_worker_peers",
    "medrelay_worker_cpu_seconds_total", "medrelay_nack_packets_received_total",
    "medrelay_retransmitted_packets_total", "medrelay_retransmissions_missed_total",
    "medrelay_retransmissions_limited_total", "medrelay_retransmissions_pending_total",
    "medrelay_nack_packets_sent_total",
    "medrelay_recovered_packets_total", "medrelay_nack_giveups_total",
    "medrelay_recording_lost_packets_total",
]


def check(name, cond, info=""):
    global failures
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else "  -- " + str(info)), flush=True)
    if not cond:
        failures += 1


def parse(text):
    """Returns ({family: type}, {'name{labels}': value}, [bad lines])."""
    types, samples, bad = {}, {}, []
    helps = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            types[name] = kind
        elif line:
            m = SAMPLE.match(line)
            if not m:
                bad.append(line)
                continue
            samples[line.rsplit(" ", 1)[0]] = float(m.group(4))
    missing_help = [t for t in types if t not in helps]
    return types, samples, bad + [f"no HELP for {t}" for t in missing_help]


def scrape(srv, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return request(srv.host, srv.port, "GET", "/metrics", headers=headers)


def test_format_and_counters(srv):
    r = scrape(srv)
    check("default: no token, even from loopback → 401", r.status == 401, r.brief())
    r = scrape(srv, srv.token("ward-1", "operator", "op"))
    check("operator of one room → 403", r.status == 403, r.brief())
    r = scrape(srv, srv.token("*", "expert", "ex"))
    check("expert of all rooms → 403", r.status == 403, r.brief())
    op = srv.token("*", "operator", "scraper")
    r = scrape(srv, op)
    check("GET /metrics with an operator token for all rooms → 200", r.status == 200, r.brief())
    check("content type is the Prometheus text format",
          (r.header("Content-Type") or "").startswith("text/plain; version=0.0.4"),
          r.header("Content-Type"))
    types, before, bad = parse(r.body.decode())
    check("every line parses, every family has HELP and TYPE", not bad, bad[:5])
    check("all required families are present", all(f in types for f in REQUIRED),
          [f for f in REQUIRED if f not in types])
    check("no room or participant names in metrics", "metrics-room" not in r.body.decode())

    tok = srv.token("metrics-room", "clinic", "cart-1")
    pub = subprocess.run(["/usr/bin/python3", PUBLISHER, f"{srv.url}/whip/metrics-room/cam", tok,
                          "4"], capture_output=True, text=True, timeout=60)
    check("aiortc published for 4 s", pub.returncode == 0, pub.stdout + pub.stderr[-2000:])
    _, after, _ = parse(scrape(srv, op).body.decode())
    rtp = 'medrelay_packets_received_total{type="rtp"}'
    check("RTP packets received counted (> 100)", after.get(rtp, 0) - before.get(rtp, 0) > 100,
          (before.get(rtp), after.get(rtp)))
    check("bytes received counted", after.get("medrelay_received_bytes_total", 0) >
          before.get("medrelay_received_bytes_total", 0))
    check("RTCP sent to the publisher (receiver reports)",
          after.get('medrelay_packets_sent_total{type="rtcp"}', 0) > 0)
    check("no SRTP errors", after.get("medrelay_srtp_errors_total", 1) == 0)
    check("the session is gone after DELETE",
          after.get('medrelay_sessions{kind="publish"}', -1) == 0)
    cpu = [v for k, v in after.items() if k.startswith("medrelay_worker_cpu_seconds_total")]
    check("worker CPU time reported and moving", cpu and sum(cpu) > 0, cpu)


def test_token_rule(art):
    srv = Server.start(art, config={"server": {"metrics_loopback_open": "true"}})
    try:
        r = scrape(srv)
        check("loopback open: no token → 200", r.status == 200, r.brief())
        # A TLS proxy on the same host connects from loopback for everyone.
        for h in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"},
                  {"X-Real-IP": "203.0.113.9"}, {"Via": "1.1 proxy"}):
            r = request(srv.host, srv.port, "GET", "/metrics", headers=h)
            check(f"loopback open, but proxied ({list(h)[0]}): no token → 401",
                  r.status == 401 and (r.json() or {}).get("error") == "unauthorized", r.brief())
        r = scrape(srv, srv.token("*", "operator", "op"))
        check("loopback open: operator of all rooms → 200", r.status == 200, r.brief())
    finally:
        problem = srv.stop()
        check("server stopped cleanly", problem is None, problem)


def main():
    art = artifact_dir("integration", "metrics")
    try:
        srv = Server.start(art)
    except SetupError as e:
        print(f"SETUP FAIL {e}")
        return 2
    try:
        test_format_and_counters(srv)
    finally:
        problem = srv.stop()
        check("server stopped cleanly", problem is None, problem)
    test_token_rule(artifact_dir("integration", "metrics-closed"))
    print(f"metrics: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
