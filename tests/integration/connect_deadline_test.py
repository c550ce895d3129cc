#!/usr/bin/python3
"""A WHIP or WHEP client that never sends a candidate is closed.

ICE has nothing to check for such a peer, so ICE never fails it; without
a deadline its session would stay for ever (seen: still there after 45 s).
The relay fails a WHIP/WHEP peer that is not secure 30 s after it was
created (MR_PEER_CONNECT_S). This test POSTs a publisher and a viewer whose
offers carry no candidate (and never PATCHes any), and expects /healthz to
count them until about 30 s, and not after 40 s; their DELETE then answers
200 (DELETE is idempotent).

Exit 0: passed; 1: failed; 2: could not run.
"""

import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import Server, SetupError, artifact_dir, call, read_sdp  # noqa: E402

ROOM = "ward-9"
SDP = "application/sdp"
EARLIEST_S, LATEST_S = 25.0, 40.0


def without_candidates(name):
    lines = read_sdp(name).decode().split("\r\n")
    return "\r\n".join(l for l in lines if not l.startswith("a=candidate")
                       and not l.startswith("a=end-of-candidates")).encode()


def counts(srv):
    h = json.loads(call(srv, "GET", "/healthz").body)
    return h.get("publishers"), h.get("subscribers")


def main():
    try:
        srv = Server.start(artifact_dir("integration", "connect_deadline"))
    except SetupError as e:
        print(f"ERROR: {e}")
        return 2
    fails = []
    try:
        t_pub = srv.token(ROOM, "clinic", "cart-9")
        t_view = srv.token(ROOM, "expert", "dr-9")
        r = call(srv, "POST", f"/whip/{ROOM}/cam", t_pub, SDP,
                 without_candidates("chromium_whip_sendonly.sdp"))
        pub = r.header("location") if r.status == 201 else None
        r2 = call(srv, "POST", f"/whep/{ROOM}/cam", t_view, SDP,
                  without_candidates("chromium_whep_recvonly.sdp"))
        view = r2.header("location") if r2.status == 201 else None
        if not pub or not view:
            print(f"FAIL setup: WHIP {r.status}, WHEP {r2.status}")
            return 1
        t0 = time.monotonic()
        gone = None
        while time.monotonic() - t0 < LATEST_S:
            if counts(srv) == (0, 0):
                gone = time.monotonic() - t0
                break
            time.sleep(0.5)
        if gone is None:
            fails.append(f"still counted {LATEST_S:.0f} s later: {counts(srv)}")
        elif gone < EARLIEST_S:
            fails.append(f"closed after {gone:.1f} s, before the deadline")
        else:
            print(f"PASS both sessions closed {gone:.1f} s after they were opened")
        for path, tok in ((pub, t_pub), (view, t_view)):
            d = call(srv, "DELETE", path, tok)
            if d.status not in (200, 204):
                fails.append(f"DELETE {path} after the deadline: {d.status}")
        with open(srv.log_path, errors="replace") as f:
            log = f.read()
        if "no secure connection within 30 s" not in log:
            fails.append("the log does not say why the sessions ended")
    finally:
        srv.stop()
    for f in fails:
        print("FAIL " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
