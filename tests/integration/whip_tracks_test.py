#!/usr/bin/python3
"""WHIP offers of real encoders, answered over HTTP by the real server.

- A clinic sends a camera, a microphone and device screens: 8 audio/video
  sections are accepted (each answered recvonly with a port or as
  bundle-only), a 9th is refused with 400 bad-sdp naming the limit.
- webrtcbin's max-bundle form (every section after the first "port 0,
  a=bundle-only", RFC 8843 §6) is accepted and answered as §7.3 says.

Exit 0: all passed; 1: a check failed; 2: could not run.
The server log is tests/artifacts/integration/whip_tracks/medrelay.log.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import Server, SetupError, artifact_dir, call, read_sdp  # noqa: E402

ROOM = "ward-3"
SDP = "application/sdp"
FAILS = []


def check(name, ok, msg=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + msg), flush=True)
    if not ok:
        FAILS.append(name)


def sections(sdp):
    """(session part, [section texts]) of an SDP with CRLF lines."""
    parts = sdp.split("\r\nm=")
    return parts[0] + "\r\n", ["m=" + p + ("" if p.endswith("\r\n") else "\r\n") for p in parts[1:]]


def offer_with(n_video, bundle_only=False):
    """Chromium's WHIP offer with its video section repeated n_video times
    (fresh mids and SSRCs): one audio and n_video video sections."""
    head, secs = sections(read_sdp("chromium_whip_sendonly.sdp").decode())
    audio, video = secs[0], secs[1]
    out, mids = [audio], ["0"]
    for i in range(n_video):
        mid = str(i + 1)
        v = video.replace("a=mid:1\r\n", f"a=mid:{mid}\r\n")
        v = "".join(l + "\r\n" for l in v.split("\r\n") if l and not l.startswith("a=ssrc"))
        if bundle_only and i >= 0:
            first, rest = v.split("\r\n", 1)
            f = first.split(" ")
            f[1] = "0"
            v = " ".join(f) + "\r\na=bundle-only\r\n" + rest
        out.append(v)
        mids.append(mid)
    lines = [l for l in head.split("\r\n") if l and not l.startswith("a=group:BUNDLE")]
    lines.append("a=group:BUNDLE " + " ".join(mids))
    return "\r\n".join(lines) + "\r\n" + "".join(out)


def answer_sections(body):
    _, secs = sections(body)
    return [s.split("\r\n", 1)[0] for s in secs], secs


def main():
    try:
        srv = Server.start(artifact_dir("integration", "whip_tracks"))
    except SetupError as e:
        print(f"SKIP/ERROR: {e}")
        return 2
    try:
        tok = srv.token(ROOM, "clinic", "clinic-ward3")
        r = call(srv, "POST", f"/whip/{ROOM}/eight", tok, SDP, offer_with(7).encode())
        check("8 sections (audio + 7 video) accepted", r.status == 201, f"{r.status} {r.body[:200]!r}")
        if r.status == 201:
            mlines, _ = answer_sections(r.body.decode())
            live = [m for m in mlines if m.split(" ")[1] != "0"]
            check("every one of the 8 answered with a port", len(mlines) == 8 and len(live) == 8,
                  repr(mlines))
            call(srv, "DELETE", r.header("location"), tok)
        r = call(srv, "POST", f"/whip/{ROOM}/nine", tok, SDP, offer_with(8).encode())
        body = r.body.decode(errors="replace")
        check("a 9th section refused 400 bad-sdp", r.status == 400 and '"bad-sdp"' in body,
              f"{r.status} {body[:200]}")
        check("the refusal names the limit", "at most 8" in body, body[:300])
        r = call(srv, "GET", "/healthz")
        check("the server goes on", r.status == 200, str(r.status))

        r = call(srv, "POST", f"/whip/{ROOM}/bundled", tok, SDP,
                 offer_with(2, bundle_only=True).encode())
        check("bundle-only sections accepted", r.status == 201, f"{r.status} {r.body[:200]!r}")
        if r.status == 201:
            mlines, secs = answer_sections(r.body.decode())
            check("the tagged section has a port", mlines[0].split(" ")[1] != "0", mlines[0])
            check("the others: the bundle's port, a fingerprint, no bundle-only",
                  all(m.split(" ")[1] == mlines[0].split(" ")[1] for m in mlines[1:]) and
                  all("a=bundle-only" not in s and "a=fingerprint:" in s and "a=recvonly" in s
                      for s in secs[1:]), repr(secs[1:])[:400])
            check("one BUNDLE group with all three", "a=group:BUNDLE 0 1 2\r\n" in r.body.decode(),
                  r.body.decode()[:300])
            call(srv, "DELETE", r.header("location"), tok)
    finally:
        srv.stop()
    print(f"{len(FAILS)} failed" if FAILS else "all passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
