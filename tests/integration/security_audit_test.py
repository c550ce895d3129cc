#!/usr/bin/python3
"""Security: every refusal of a protected action is audited (issue 13,
finding 2).

Each refusal (401 or 403, over HTTP or /ws) appends one JSON line to
[server] audit_log with at least: time, "action": "refused", room (the room
the request named, or null), sub and role (the identity when the token was
valid, or validly signed but expired; null for a missing, forged or
malformed token), addr (the client's IP), status (401 or 403, an integer),
request ("<METHOD> <path>" without the query for HTTP, "ws <type>" for
/ws) and detail (the reason). No line ever carries a token. Refusals are
itemised up to about 50 a second; beyond that they are counted and
summarised as {"action": "refused-suppressed", "count": N} with the next
audit entry after the one-second window, and at shutdown.

The audit log is written into this test's artifact folder
(tests/artifacts/integration/security_audit/audit.log), an absolute path.
Checks are named "F2 ..." (finding 2) or "P ..." (held before the fix).
    MEDRELAY_BIN=build/medrelay /usr/bin/python3 tests/integration/security_audit_test.py
"""
import json
import os
import secrets
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from security_lib import (NOT_SDP, SDP, SDPFRAG, WHIP_OFFER, AuditFile, Fail, RoomClient, Suite,  # noqa: E402
                          call, claims, closing, expect_error, expect_joined, expect_ws_error, hs256_token,
                          sdpfrag, token_parts_in, whip_publish, ws_join)

ROOM = "ward-audit"
OFFER = WHIP_OFFER.decode()
REQUIRED_KEYS = ("time", "action", "room", "sub", "role", "addr", "status", "request", "detail")


def expect_refusal(audit, what, room, sub, role, status, req, wait=0.5):
    """The lines appended since the last read hold exactly one "refused" line, with these values."""
    lines = audit.read_new(wait=wait)
    refused = [x for x in lines if x.get("action") == "refused"]
    if len(refused) != 1:
        others = [x.get("action", x.get("_raw")) for x in lines]
        raise Fail(f"{what}: expected one \"refused\" audit line, found {len(refused)} "
                   f"(new lines' actions: {others})")
    e = refused[0]
    missing = [k for k in REQUIRED_KEYS if k not in e]
    want = {"room": room, "sub": sub, "role": role, "addr": "127.0.0.1", "status": status, "request": req}
    wrong = {k: (e.get(k), v) for k, v in want.items() if k in e and (e.get(k) != v or
                                                                      (k == "status" and type(e.get(k)) is not int))}
    problems = []
    if missing:
        problems.append(f"keys missing: {missing}")
    if wrong:
        problems.append("got/expected: " + ", ".join(f"{k}={g!r} (expected {w!r})" for k, (g, w) in wrong.items()))
    if not isinstance(e.get("time"), str) or not e.get("time"):
        problems.append(f"time {e.get('time')!r}")
    if not isinstance(e.get("detail"), str) or not e.get("detail"):
        problems.append(f"detail {e.get('detail')!r} (the reason, a non-empty string)")
    if problems:
        raise Fail(f"{what}: " + "; ".join(problems) + f"; the line: {json.dumps(e)[:400]}")


def refusals(s, srv, audit, sent):
    now = int(time.time())
    t_clinic = srv.token(ROOM, "clinic", "cart-1")
    t_clinic2 = srv.token(ROOM, "clinic", "cart-2")
    t_expert = srv.token(ROOM, "expert", "dr-audit")
    t_viewer = srv.token(ROOM, "viewer", "viewer-audit")
    t_other_room = srv.token("ward-elsewhere", "expert", "dr-away")
    t_forged = hs256_token(secrets.token_hex(24), claims(ROOM, "operator", "mallory"))
    t_expired = hs256_token(srv.secret, dict(claims(ROOM, "expert", "dr-late"), exp=now - 120))
    sent += [t_clinic, t_clinic2, t_expert, t_viewer, t_other_room, t_forged, t_expired]

    # ---- /ws ----
    def ws_case(what, token, room_field, code, room, sub, role, status):
        def fn():
            audit.mark()
            msg = {"type": "join", "token": token}
            if room_field:
                msg["room"] = room_field
            c = RoomClient(srv)
            try:
                expect_ws_error(c.request(msg), code, f"{what}: ")
            finally:
                c.close()
            expect_refusal(audit, what, room, sub, role, status, "ws join")
        return fn
    s.check("F2 /ws join with a badly signed token is audited (status 401, sub and role null, ws join)",
            ws_case("bad signature", t_forged, ROOM, "unauthorized", ROOM, None, None, 401))
    s.check("F2 /ws join with an expired token is audited (401, with the expired token's sub and role)",
            ws_case("expired", t_expired, ROOM, "unauthorized", ROOM, "dr-late", "expert", 401))
    s.check("F2 /ws join with a token for another room is audited (403, room = the room asked for)",
            ws_case("another room", t_other_room, ROOM, "forbidden", ROOM, "dr-away", "expert", 403))

    clinic, jc = ws_join(srv, t_clinic)
    expert, je = ws_join(srv, t_expert)
    viewer, jv = ws_join(srv, t_viewer)
    try:
        def ws_joined_case(what, client, msg, code, sub, role, status, req):
            def fn():
                for j in (jc, je, jv):
                    expect_joined(j, "setup: ")
                audit.mark()
                expect_ws_error(client.request(msg), code, f"{what}: ")
                expect_refusal(audit, what, ROOM, sub, role, status, req)
            return fn
        s.check("F2 an expert's /ws remove is audited (403, ws remove)",
                ws_joined_case("expert remove", expert, {"type": "remove", "participant": (jc or {}).get(
                    "you", {}).get("id", "0000000000000000")}, "forbidden", "dr-audit", "expert", 403, "ws remove"))
        s.check("F2 a viewer's /ws publish is audited (403, ws publish)",
                ws_joined_case("viewer publish", viewer, {"type": "publish", "stream": "v", "sdp": OFFER},
                               "forbidden", "viewer-audit", "viewer", 403, "ws publish"))
    finally:
        closing(clinic, expert, viewer)

    def before_join():
        audit.mark()
        c = RoomClient(srv)
        try:
            expect_ws_error(c.request({"type": "subscribe"}), "unauthorized", "subscribe before join: ")
        finally:
            c.close()
        expect_refusal(audit, "request before join", None, None, None, 401, "ws subscribe")
    s.check("F2 a /ws request before join is audited (401, room/sub/role null, ws subscribe)", before_join)

    # ---- HTTP ----
    def http_case(what, method, path, token, room, sub, role, status, req, code=None, **kw):
        def fn():
            audit.mark()
            r = call(srv, method, path, token=token, **kw)
            expect_error(r, status, code or ("unauthorized" if status == 401 else "forbidden"))
            expect_refusal(audit, what, room, sub, role, status, req)
        return fn
    whip = f"/whip/{ROOM}/cam"
    s.check("F2 a viewer's WHIP POST is audited (403, POST /whip/<room>/cam)",
            http_case("viewer WHIP", "POST", whip, t_viewer, ROOM, "viewer-audit", "viewer", 403, f"POST {whip}",
                      ctype=SDP, body=WHIP_OFFER))
    s.check("F2 a WHIP POST without a token is audited (401, sub and role null)",
            http_case("WHIP without token", "POST", whip, None, ROOM, None, None, 401, f"POST {whip}",
                      ctype=SDP, body=WHIP_OFFER))
    s.check("F2 the audited request leaves out the query string (POST /whip/<room>/cam?...)",
            http_case("WHIP with a query", "POST", whip + "?note=private-query", None, ROOM, None, None, 401,
                      f"POST {whip}", ctype=SDP, body=WHIP_OFFER))
    st = {}

    def publish():
        st["loc"] = whip_publish(srv, ROOM, "cam2", t_clinic)
    s.check("P (setup) a clinic publishes over WHIP → 201", publish)

    def other_identity(method):
        def fn():
            if "loc" not in st:
                raise Fail("skipped: no session (setup failed)")
            kw = {"ctype": SDPFRAG, "body": sdpfrag(53300)} if method == "PATCH" else {}
            http_case(f"{method} of another's session", method, st["loc"], t_clinic2, ROOM, "cart-2", "clinic",
                      403, f"{method} {st['loc']}", **kw)()
        return fn
    s.check("F2 a PATCH of another identity's WHIP session is audited (403, PATCH <session path>)",
            other_identity("PATCH"))
    s.check("F2 a DELETE of another identity's WHIP session is audited (403, DELETE <session path>)",
            other_identity("DELETE"))
    rec = "0123456789abcdef-1"
    s.check("F2 an expert's DELETE /api/recordings/<id> is audited (403, room null: no room named)",
            http_case("expert DELETE recording", "DELETE", f"/api/recordings/{rec}", t_expert, None, "dr-audit",
                      "expert", 403, f"DELETE /api/recordings/{rec}"))
    rpath = f"/api/rooms/{ROOM}/streams/cam2/recording"
    s.check("F2 an expert's POST /api/rooms/<room>/streams/<stream>/recording is audited (403)",
            http_case("expert start recording", "POST", rpath, t_expert, ROOM, "dr-audit", "expert", 403,
                      f"POST {rpath}"))
    s.check("F2 GET /metrics without a token is audited (401, room null)",
            http_case("metrics without token", "GET", "/metrics", None, None, None, None, 401, "GET /metrics"))
    if "loc" in st:
        call(srv, "DELETE", st["loc"], token=t_clinic)

    def no_tokens():
        text = open(audit.path, encoding="utf-8", errors="replace").read() if os.path.exists(audit.path) else ""
        n = sum(1 for x in audit.all() if x.get("action") == "refused")
        if n < 10:
            raise Fail(f"only {n} \"refused\" lines in the audit log: nothing to search for tokens")
        leaked = token_parts_in(text, sent)
        if leaked:
            raise Fail(f"the audit log contains {len(leaked)} of the tokens sent (or their signatures): {leaked}")
    s.check("F2 no audit line contains a token that was sent (whole, or its signature)", no_tokens)


def flood(srv, n, path, token_text):
    """n quick refusals (WHIP POST with a bad token), each on its own connection."""
    statuses = {}
    for _ in range(n):
        r = call(srv, "POST", path, auth=f"Bearer {token_text}", ctype=SDP, body=NOT_SDP)
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return statuses


def count(lines):
    itemised = sum(1 for x in lines if x.get("action") == "refused")
    sup = [x for x in lines if x.get("action") == "refused-suppressed"]
    return itemised, sup, sum(x.get("count", 0) for x in sup if type(x.get("count")) is int)


def rate_limit(s, main_srv, audit, flush_srv, flush_audit):
    st = {}

    def run_flood():
        time.sleep(1.2)          # a window of its own, away from the refusals above
        audit.mark()
        t = time.monotonic()
        st1 = flood(main_srv, 300, "/whip/flood-room/cam", "not.a.token")
        st["took"] = time.monotonic() - t
        time.sleep(1.5)
        st2 = flood(main_srv, 1, "/whip/flood-room/cam", "not.a.token")
        if set(st1) | set(st2) != {401}:
            raise Fail(f"the refusals were answered {st1} then {st2}, expected 401 each")
        print(f"     (300 refusals sent in {st['took']:.2f} s)", flush=True)
    s.check("F2 (setup) 300 quick refusals (bad token WHIP POSTs), 1.5 s pause, 1 more: all answered 401",
            run_flood)
    s.stop(main_srv)             # the summary of what was suppressed is written by now, or at shutdown
    lines = audit.read_new()
    itemised, sup, suppressed = count(lines)

    def accounted():
        if itemised + suppressed != 301:
            raise Fail(f"itemised {itemised} + suppressed {suppressed} (in {len(sup)} refused-suppressed lines) "
                       f"= {itemised + suppressed}, expected 301")
    s.check("F2 rate limit: itemised \"refused\" lines + refused-suppressed counts == 301", accounted)

    def bounded():
        if itemised > 200:
            raise Fail(f"{itemised} of 301 refusals sent in {st.get('took', 0):.2f} s + 1 were itemised, "
                       "expected at most 200 (about 50 a second)")
        if not sup:
            raise Fail(f"no refused-suppressed line ({itemised} itemised)")
        bad = [x for x in sup if type(x.get("count")) is not int or x["count"] <= 0 or "time" not in x]
        if bad:
            raise Fail(f"refused-suppressed lines without a positive integer count or a time: {bad[:3]}")
    s.check("F2 rate limit: at most 200 itemised, the rest in refused-suppressed lines with a count", bounded)

    def at_shutdown():
        flush_audit.mark()
        statuses = flood(flush_srv, 150, "/whip/flood-room/cam", "not.a.token")
        if set(statuses) != {401}:
            raise Fail(f"the refusals were answered {statuses}")
        problem = s.stop(flush_srv)
        if problem:
            raise Fail(f"the server did not stop cleanly: {problem}")
        i, sup2, n = count(flush_audit.read_new())
        if i + n != 150 or not sup2:
            raise Fail(f"after 150 quick refusals and an immediate shutdown: itemised {i} + suppressed {n} "
                       f"(in {len(sup2)} refused-suppressed lines) = {i + n}, expected 150 with a summary line")
    s.check("F2 rate limit: refusals suppressed just before shutdown are summarised at shutdown (150 → 150)",
            at_shutdown)


def run(s):
    path = os.path.join(s.art, "audit.log")
    flush_path = os.path.join(s.art, "flush", "audit.log")
    os.makedirs(os.path.dirname(flush_path), exist_ok=True)
    for p in (path, flush_path):
        if os.path.exists(p):
            os.remove(p)
    # metrics_loopback_open false: GET /metrics without a token is a refusal whatever the default.
    cfg = {"server": {"audit_log": path, "metrics_loopback_open": "false"}, "recording": {"policy": "on-demand"}}
    srv = s.start(config=cfg)
    audit = AuditFile(path)
    sent = []
    refusals(s, srv, audit, sent)
    flush_srv = s.start("flush", config={"server": {"audit_log": flush_path}})
    rate_limit(s, srv, audit, flush_srv, AuditFile(flush_path))


if __name__ == "__main__":
    sys.exit(Suite("security_audit").main(run))
