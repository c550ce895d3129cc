#!/usr/bin/python3
"""DELETE of a WHIP or WHEP session is idempotent (ARCHITECTURE.md section 1).

"DELETE <session URL> ends that session (200 or 204); a session that has
already ended (the peer closed DTLS first, as some WHIP clients do before
their DELETE, or ICE failed) is answered the same for a while." The
authorization stays that of a live DELETE: a token for the session's room,
of the identity that opened it (same sub and role) or of an operator; a
refusal is audited. Checked here, against the real server:

  - DELETE twice, and a third time by an operator: the same success;
  - DELETE of a session a reconnect of the same publisher replaced;
  - DELETE of a WHEP and of a WHIP session the relay closed because their
    peers never answered ICE (reaped when libnice's checks fail, ~8 s);
  - an ended session and another identity (other sub, same sub with
    another role, a viewer), another room's token, no token: 403 (audited)
    or 401, as for a live session;
  - an ended session under another URL, an id never seen: 404
    session-not-found; PATCH of an ended session: 404 session-not-found
    (only DELETE is idempotent).

The sessions come from tests/data/sdp/chromium_*.sdp offers: the server
answers without the peer ever connecting. Standard library only; run with
/usr/bin/python3 (MEDRELAY_BIN names the server binary). Artifacts:
tests/artifacts/integration/whip_delete/.
"""
import json
import os
import secrets
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in tests/lib
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from security_lib import (SDP, SDPFRAG, WHEP_OFFER, WHIP_OFFER, AuditFile, Fail, Suite, call,  # noqa: E402
                          expect_error, expect_status, request, sdpfrag, session_path, whip_publish)

ROOM = "ward-del"
REAP_LIMIT_S = 40   # a peer that never answers ICE is reaped well within the contract's ~30 s


def run(s):
    audit_path = os.path.join(s.art, "audit.log")
    if os.path.exists(audit_path):
        os.remove(audit_path)
    srv = s.start(config={"server": {"audit_log": audit_path}})
    audit = AuditFile(audit_path)
    t_clinic = srv.token(ROOM, "clinic", "cart-a")
    t_clinic_b = srv.token(ROOM, "clinic", "cart-b")
    t_expert_a = srv.token(ROOM, "expert", "cart-a")          # same sub, another role: someone else
    t_viewer = srv.token(ROOM, "viewer", "viewer-1")
    t_operator = srv.token(ROOM, "operator", "op-1")
    t_other_room = srv.token("other-ward", "clinic", "cart-a")
    st = {}

    def need(key):
        if key not in st:
            raise Fail("skipped: needs the session an earlier check should have created")
        return st[key]

    def refused_once(what, status, sub, role, path):
        """Exactly one new "refused" audit line, for this request and identity."""
        lines = [x for x in audit.read_new(wait=1.0) if x.get("action") == "refused"]
        if len(lines) != 1:
            raise Fail(f"{what}: expected one \"refused\" audit line, found {len(lines)}: "
                       f"{json.dumps(lines)[:400]}")
        e = lines[0]
        want = {"status": status, "sub": sub, "role": role, "room": ROOM, "request": f"DELETE {path}"}
        wrong = {k: (e.get(k), v) for k, v in want.items() if e.get(k) != v}
        if wrong:
            raise Fail(f"{what}: audit line got/expected " +
                       ", ".join(f"{k}={g!r}/{w!r}" for k, (g, w) in wrong.items()))

    def refused(what, token, status, code, sub, role, key="a"):
        def fn():
            path = need(key)
            audit.mark()
            expect_error(call(srv, "DELETE", path, token=token), status, code)
            refused_once(what, status, sub, role, path)
        return fn

    # ---- DELETE twice ----
    def publish():
        st["a"] = whip_publish(srv, ROOM, "cam", t_clinic)
    s.check("P (setup) a clinic publishes over WHIP → 201", publish)

    def first_delete():
        r = expect_status(call(srv, "DELETE", need("a"), token=t_clinic), (200, 204), "the owner's DELETE: ")
        st["status"] = r.status
    s.check("the owner's DELETE of its live session → 200/204", first_delete)

    def same_again(token, who):
        def fn():
            want = need("status")
            r = call(srv, "DELETE", need("a"), token=token)
            if r.status != want:
                raise Fail(f"{who} DELETE of the ended session → {r.brief()}, expected {want} like the first")
            if r.status == 204 and r.body:
                raise Fail(f"a 204 with a body: {r.body[:100]!r}")
        return fn
    s.check("the owner's second DELETE of the same session → the same status (idempotent)",
            same_again(t_clinic, "the owner's second"))
    s.check("an operator's DELETE of that ended session → the same status",
            same_again(t_operator, "an operator's"))
    s.check("PATCH of the ended session → 404 session-not-found (only DELETE is idempotent)",
            lambda: expect_error(call(srv, "PATCH", need("a"), token=t_clinic, ctype=SDPFRAG, body=sdpfrag(53200)),
                                 404, "session-not-found"))

    # ---- the same authorization as a live DELETE ----
    s.check("DELETE of the ended session by another sub of the room → 403 forbidden, audited",
            refused("other sub", t_clinic_b, 403, "forbidden", "cart-b", "clinic"))
    s.check("DELETE of the ended session by the same sub with another role → 403 forbidden, audited",
            refused("same sub, expert", t_expert_a, 403, "forbidden", "cart-a", "expert"))
    s.check("DELETE of the ended session by a viewer of the room → 403 forbidden, audited",
            refused("viewer", t_viewer, 403, "forbidden", "viewer-1", "viewer"))
    s.check("DELETE of the ended session with a token for another room → 403 forbidden, audited",
            refused("other room", t_other_room, 403, "forbidden", "cart-a", "clinic"))

    def no_token():
        path = need("a")
        audit.mark()
        expect_error(call(srv, "DELETE", path), 401, "unauthorized")
        lines = [x for x in audit.read_new(wait=1.0) if x.get("action") == "refused"]
        if len(lines) != 1 or lines[0].get("status") != 401:
            raise Fail(f"expected one refused line with status 401, got {json.dumps(lines)[:300]}")
    s.check("DELETE of the ended session without a token → 401 unauthorized, audited", no_token)

    # ---- only under its own URL; unknown ids stay 404 ----
    def other_url(transform, what):
        def fn():
            head, _, sid = need("a").rpartition("/")
            expect_error(call(srv, "DELETE", transform(head, sid), token=t_clinic), 404, "session-not-found")
        return fn
    s.check("DELETE of the ended session's id under another stream → 404 session-not-found",
            other_url(lambda head, sid: f"/whip/{ROOM}/other-cam/{sid}", "other stream"))
    s.check("DELETE of the ended WHIP session's id under /whep → 404 session-not-found",
            other_url(lambda head, sid: f"/whep/{ROOM}/cam/{sid}", "whep"))
    s.check("DELETE of an id never seen → 404 session-not-found",
            lambda: expect_error(call(srv, "DELETE", f"/whip/{ROOM}/cam/{secrets.token_hex(16)}", token=t_clinic),
                                 404, "session-not-found"))

    # ---- replaced by a reconnect ----
    def replaced():
        old = whip_publish(srv, ROOM, "cam2", t_clinic)
        new = whip_publish(srv, ROOM, "cam2", t_clinic)
        if new == old:
            raise Fail(f"the reconnect got the same session URL {old}")
        st["old"], st["new"] = old, new
        expect_error(call(srv, "PATCH", old, token=t_clinic, ctype=SDPFRAG, body=sdpfrag(53201)),
                     404, "session-not-found")
    s.check("P (setup) the same publisher POSTs twice: the second session replaces the first "
            "(PATCH of the first → 404 session-not-found)", replaced)
    s.check("DELETE of the replaced session by another sub → 403 forbidden, audited",
            refused("replaced, other sub", t_clinic_b, 403, "forbidden", "cart-b", "clinic", key="old"))
    s.check("the owner's DELETE of the replaced session → 200/204",
            lambda: expect_status(call(srv, "DELETE", need("old"), token=t_clinic), (200, 204)))

    def new_still_live():
        # The replacement was not touched by the DELETE of the old URL.
        r = call(srv, "PATCH", need("new"), token=t_clinic, ctype=SDPFRAG, body=sdpfrag(53202))
        expect_status(r, 204, "PATCH of the replacing session: ")
    s.check("the replacing session is still live (PATCH → 204)", new_still_live)

    # ---- reaped: the peer never answers ICE ----
    def healthz(key):
        r = request(srv.host, srv.port, "GET", "/healthz")
        return json.loads(r.body).get(key)

    def wait_reaped(key, what):
        t0 = time.monotonic()
        while healthz(key) != 0:
            if time.monotonic() - t0 > REAP_LIMIT_S:
                raise Fail(f"{what} that never answered ICE was not reaped within {REAP_LIMIT_S} s")
            time.sleep(0.5)
        print(f"     ({what} reaped after {time.monotonic() - t0:.1f} s)", flush=True)

    def viewer_reaped():
        if healthz("subscribers") != 0:
            raise Fail(f"expected no subscribers before this check, /healthz says {healthz('subscribers')}")
        viewer = whip_publish(srv, ROOM, "cam2", t_viewer, kind="whep")
        wait_reaped("subscribers", "a viewer")
        expect_status(call(srv, "DELETE", viewer, token=t_viewer), (200, 204),
                      "the viewer's DELETE after the relay closed its session: ")
        expect_status(call(srv, "DELETE", viewer, token=t_viewer), (200, 204), "and once more: ")
        expect_status(call(srv, "DELETE", need("new"), token=t_clinic), (200, 204), "the publisher's DELETE: ")
    s.check("a WHEP session reaped because its peer never answered ICE: the viewer's DELETE → 200/204, twice",
            viewer_reaped)

    def reaped():
        if healthz("publishers") != 0:
            raise Fail(f"expected no publishers before this check, /healthz says {healthz('publishers')}")
        path = whip_publish(srv, ROOM, "cam3", t_clinic)
        wait_reaped("publishers", "a publisher")
        audit.mark()
        expect_error(call(srv, "DELETE", path, token=t_clinic_b), 403, "forbidden")
        refused_once("reaped, other sub", 403, "cart-b", "clinic", path)
        expect_status(call(srv, "DELETE", path, token=t_clinic), (200, 204), "the owner's DELETE: ")
        expect_status(call(srv, "DELETE", path, token=t_operator), (200, 204), "an operator's DELETE: ")
    s.check("a WHIP session reaped because its peer never answered ICE: another sub → 403 (audited), "
            "the owner's and an operator's DELETE → 200/204", reaped)


if __name__ == "__main__":
    sys.exit(Suite("whip_delete", watchdog_s=110).main(run))
