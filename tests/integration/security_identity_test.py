#!/usr/bin/python3
"""Security: who is who (issue 13). An identity is a token's sub AND role
(ARCHITECTURE.md section 1): a token with the same sub but another role is
someone else, over /ws and over WHIP/WHEP. Plus the probes that guard the
edges of identity: rooms (a token for room A never acts in room B), roles
(no escalation), and forged or odd tokens (refused on HTTP and /ws alike).

Checks are named after what they guard: "F1 ..." is finding 1 of issue 13,
"P ..." a probe that held when the suite was written and must stay green.

One server; no media flows (WHIP/WHEP and /ws publish answer real Chromium
offers without the peer ever connecting). Standard library +
python3-websocket; run with /usr/bin/python3:
    MEDRELAY_BIN=build/medrelay /usr/bin/python3 tests/integration/security_identity_test.py
Server log: tests/artifacts/integration/security_identity/medrelay.log.
"""
import json
import os
import secrets
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from security_lib import (NOT_SDP, SDP, SDPFRAG, WHEP_OFFER, WHIP_OFFER, Fail, Suite, call,  # noqa: E402
                          claims, closing, expect_error, expect_joined, expect_status, expect_ws_error,
                          hs256_token, is_error, jwt_raw, sdpfrag, session_path, whip_publish,
                          with_payload, ws_join)

OFFER = WHIP_OFFER.decode()


def f1_ws(s, srv):
    """F1 over /ws: a viewer token carrying a clinic's sub is someone else."""
    room, sub = "ward-id", "cart-s"
    clinic, jc = ws_join(srv, srv.token(room, "clinic", sub))
    st = {}

    def setup():
        expect_joined(jc, "the clinic's join: ")
        st["clinic_id"] = jc["you"]["id"]
        r = clinic.request({"type": "publish", "stream": "cam", "sdp": OFFER})
        if not (r and r.get("type") == "answer"):
            raise Fail(f"publish cam: expected an answer, got {r}")
    s.check("F1 (setup) a clinic (sub cart-s) joins over /ws and publishes cam → answer", setup)

    viewer, jv = ws_join(srv, srv.token(room, "viewer", sub))

    def viewer_joined():
        expect_joined(jv, "the viewer's join: ")
        if jv["you"].get("role") != "viewer":
            raise Fail(f"joined as {jv['you']}")
        if jv["you"].get("id") == st.get("clinic_id"):
            raise Fail(f"the viewer got the clinic's participant id {jv['you']['id']}")
    s.check("F1 a viewer token with the clinic's sub joins with a participant id of its own", viewer_joined)

    def clinic_not_replaced():
        msgs = clinic.drain(0.7)
        replaced = [m for m in msgs if m.get("type") == "replaced"]
        clinic.inbox = [m for m in msgs if m.get("type") != "replaced"]
        if replaced or clinic.closed:
            st["clinic_gone"] = True
            raise Fail(f"the clinic's connection was taken over by the viewer: got {replaced}, "
                       f"closed {clinic.closed}")
        r = clinic.request({"type": "ping"})
        if not (r and r.get("type") == "pong"):
            st["clinic_gone"] = True
            raise Fail(f"the clinic's ping after the viewer joined: {r}, closed {clinic.closed}")
    s.check("F1 viewer with a clinic's sub cannot take over its /ws sessions (no 'replaced', no close)",
            clinic_not_replaced)

    def clinic_listed():
        expect_joined(jv)
        parts = jv["room"].get("participants", [])
        if not any(p.get("id") == st.get("clinic_id") and p.get("role") == "clinic" for p in parts):
            raise Fail(f"the clinic {st.get('clinic_id')} is not among the participants the viewer sees: {parts}")
        streams = {x.get("name"): x for x in jv["room"].get("streams", [])}
        cam = streams.get("cam")
        if not cam or cam.get("participant") != st.get("clinic_id"):
            raise Fail(f"cam should be published by the clinic's participant {st.get('clinic_id')}: {streams}")
    s.check("F1 the viewer's room state still lists the clinic and its cam", clinic_listed)

    def viewer_mute():
        r = viewer.request({"type": "mute", "stream": "cam", "kind": "audio", "muted": True})
        expect_ws_error(r, "forbidden", "the viewer's mute of the clinic's cam: ")
    s.check("F1 the viewer with the clinic's sub muting cam → error forbidden", viewer_mute)

    def viewer_unpublish():
        r = viewer.request({"type": "unpublish", "stream": "cam"})
        expect_ws_error(r, "stream-not-found", "the viewer's unpublish of the clinic's cam: ")
    s.check("F1 the viewer with the clinic's sub unpublishing cam → error stream-not-found", viewer_unpublish)

    def cam_still_up():
        op = srv.token(room, "operator", "op-check")
        r = call(srv, "GET", f"/api/rooms/{room}/streams/cam", token=op)
        expect_status(r, 200, "GET the stream: ")
        j = r.json() or {}
        if not j.get("published") or j.get("publisher") != sub:
            raise Fail(f"cam is not published by {sub} any more: {r.brief()}")
        if st.get("clinic_gone"):
            return  # the clinic's messages are gone with it; the stream check above is what is left
        events = clinic.drain(0.4)
        bad = [m for m in events if (m.get("type") == "stream-stopped" and m.get("stream") == "cam") or
               (m.get("type") == "stream-muted" and m.get("muted"))]
        if bad:
            raise Fail(f"the clinic was told {bad}")
    s.check("F1 cam is still published and unmuted after the viewer's attempts", cam_still_up)

    clinic2, jc2 = ws_join(srv, srv.token(room, "clinic", sub))

    def reconnect():
        expect_joined(jc2, "the clinic's second join: ")
        if st.get("clinic_gone"):
            raise Fail("the first clinic connection had already been replaced by the viewer, so its "
                       "reconnect cannot be told apart")
        m = clinic.wait_for("replaced", 3)
        closed = clinic.wait_closed(3)
        if not m or not closed:
            raise Fail(f"the first clinic connection got replaced={m}, closed={closed}")
        streams = {x.get("name"): x for x in jc2["room"].get("streams", [])}
        if streams.get("cam", {}).get("participant") != jc2["you"]["id"]:
            raise Fail(f"the reconnected clinic should have adopted cam: {streams}")
    s.check("F1 a second clinic token (same sub and role) replaces the first connection ('replaced', closed)",
            reconnect)

    def viewer_survives():
        msgs = viewer.drain(0.4)
        replaced = [m for m in msgs if m.get("type") == "replaced"]
        if replaced or viewer.closed:
            raise Fail(f"the clinic's reconnect replaced the viewer: {replaced}, closed {viewer.closed}")
        r = viewer.request({"type": "ping"})
        if not (r and r.get("type") == "pong"):
            raise Fail(f"the viewer's ping: {r}")
    s.check("F1 the clinic's reconnect leaves the viewer with the same sub connected", viewer_survives)
    closing(clinic, viewer, clinic2)

    # Reconnect semantics on their own (no viewer around): they must survive the fix.
    room2 = "ward-id2"
    first, j1 = ws_join(srv, srv.token(room2, "clinic", sub))
    second = None
    try:
        def plain_reconnect():
            nonlocal second
            expect_joined(j1, "the first join: ")
            r = first.request({"type": "publish", "stream": "cam", "sdp": OFFER})
            if not (r and r.get("type") == "answer"):
                raise Fail(f"publish: {r}")
            second, j2 = ws_join(srv, srv.token(room2, "clinic", sub))
            expect_joined(j2, "the second join: ")
            m = first.wait_for("replaced", 3)
            closed = first.wait_closed(3)
            if not m or not closed:
                raise Fail(f"the first connection got replaced={m}, closed={closed}")
            streams = {x.get("name"): x for x in j2["room"].get("streams", [])}
            if streams.get("cam", {}).get("participant") != j2["you"]["id"]:
                raise Fail(f"the new connection should have adopted cam: {streams}")
        s.check("F1 reconnect kept: the same sub and role joining again replaces the old connection and "
                "adopts its stream", plain_reconnect)
    finally:
        closing(first, second)


def f1_http(s, srv):
    """F1 over WHIP: PATCH/DELETE need the same sub AND role (or an operator); a publishing role
    with the same sub is someone else (409)."""
    room, sub = "ward-idh", "cart-s"
    t_clinic = srv.token(room, "clinic", sub)
    t_viewer = srv.token(room, "viewer", sub)
    t_expert = srv.token(room, "expert", sub)
    t_op = srv.token(room, "operator", "op-1")
    post = f"/whip/{room}/hcam"
    st = {}

    def need(k):
        if k not in st:
            raise Fail("skipped: the setup step that makes this session failed")
        return st[k]

    def publish():
        st["l1"] = whip_publish(srv, room, "hcam", t_clinic)
    s.check("F1 (setup) a clinic (sub cart-s) publishes over WHIP → 201 with Location", publish)
    s.check("F1 a viewer token with the clinic's sub cannot PATCH the clinic's WHIP session → 403 forbidden",
            lambda: expect_error(call(srv, "PATCH", need("l1"), token=t_viewer, ctype=SDPFRAG,
                                      body=sdpfrag(53200)), 403, "forbidden"))
    s.check("F1 a viewer token with the clinic's sub cannot DELETE the clinic's WHIP session → 403 forbidden",
            lambda: expect_error(call(srv, "DELETE", need("l1"), token=t_viewer), 403, "forbidden"))

    def own_delete():
        r = call(srv, "DELETE", need("l1"), token=t_clinic)
        if r.status == 404:
            raise Fail(f"the clinic's own DELETE → {r.brief()}: the session was already gone (ended by the "
                       "viewer's DELETE)")
        expect_status(r, (200, 204), "the clinic's own DELETE: ")
    s.check("F1 the clinic's own DELETE of its session → 200", own_delete)

    def publish_again():
        st["l2"] = whip_publish(srv, room, "hcam", t_clinic)
    s.check("F1 (setup) the clinic publishes hcam again → 201", publish_again)

    def expert_busy():
        need("l2")
        r = call(srv, "POST", post, token=t_expert, ctype=SDP, body=WHIP_OFFER)
        if r.status == 201:
            # Today's answer: the expert replaced the clinic's session. Leave it to the clinic's POST below.
            raise Fail(f"expected 409 stream-busy, got 201: the expert with the clinic's sub took over the "
                       f"clinic's stream (Location {r.header('Location')})")
        expect_error(r, 409, "stream-busy")
    s.check("F1 an expert token with the clinic's sub POSTing WHIP to the clinic's stream → 409 stream-busy",
            expert_busy)

    def clinic_replaces():
        need("l2")
        r = call(srv, "POST", post, token=t_clinic, ctype=SDP, body=WHIP_OFFER)
        expect_status(r, 201, "the clinic's second POST: ")
        st["l3"] = session_path(srv, r.header("Location"), post)
        if st["l3"] != st["l2"]:
            # The replaced session is gone (PATCH → 404); a late DELETE of it still succeeds
            # (DELETE is idempotent).
            expect_error(call(srv, "PATCH", st["l2"], token=t_clinic, ctype=SDPFRAG, body=sdpfrag(53310)),
                         404, "session-not-found")
            expect_status(call(srv, "DELETE", st["l2"], token=t_clinic), (200, 204), "DELETE of the replaced one: ")
    s.check("F1 the clinic's own second WHIP POST (same sub and role) → 201, replacing its session",
            clinic_replaces)
    s.check("F1 an operator of the room may DELETE the clinic's session → 200",
            lambda: expect_status(call(srv, "DELETE", need("l3"), token=t_op), (200, 204)))

    # The same on WHEP: a viewer's session is the viewer's, not its sub's.
    def whep_owner():
        loc = whip_publish(srv, room, "wcam", t_clinic)
        try:
            vloc = whip_publish(srv, room, "wcam", t_viewer, kind="whep")
            r = call(srv, "DELETE", vloc, token=t_clinic)
            expect_error(r, 403, "forbidden")
            expect_status(call(srv, "DELETE", vloc, token=t_viewer), (200, 204), "the viewer's own DELETE: ")
        finally:
            call(srv, "DELETE", loc, token=t_clinic)
    s.check("F1 a clinic token with a viewer's sub cannot DELETE that viewer's WHEP session → 403 forbidden",
            whep_owner)


def cross_room(s, srv):
    a, b = "room-a", "room-b"
    t_b = srv.token(b, "clinic", "cart-b")
    t_b_view = srv.token(b, "viewer", "viewer-b")
    t_a_same = srv.token(a, "clinic", "cart-b")      # same sub and role as B's publisher, room A
    t_a_op = srv.token(a, "operator", "op-a")
    t_a_view = srv.token(a, "viewer", "viewer-a")
    st = {}

    def need(k):
        if k not in st:
            raise Fail("skipped: the setup step failed")
        return st[k]

    def setup():
        st["lb"] = whip_publish(srv, b, "bcam", t_b)
        st["la"] = whip_publish(srv, a, "acam", srv.token(a, "clinic", "cart-a"))
        st["vb"] = whip_publish(srv, b, "bcam", t_b_view, kind="whep")
    s.check("P (setup) room B publishes bcam (WHIP) and has a WHEP viewer; room A publishes acam", setup)

    s.check("P cross-room WHIP POST to room B with a room-A token → 403 forbidden",
            lambda: expect_error(call(srv, "POST", f"/whip/{b}/other", token=t_a_same, ctype=SDP,
                                      body=WHIP_OFFER), 403, "forbidden"))
    s.check("P cross-room WHEP POST to room B's published stream with a room-A token → 403 forbidden",
            lambda: expect_error(call(srv, "POST", f"/whep/{b}/bcam", token=t_a_view, ctype=SDP,
                                      body=WHEP_OFFER), 403, "forbidden"))
    s.check("P cross-room PATCH of room B's session with a room-A token of the same sub and role → 403",
            lambda: expect_error(call(srv, "PATCH", need("lb"), token=t_a_same, ctype=SDPFRAG,
                                      body=sdpfrag(53210)), 403, "forbidden"))
    s.check("P cross-room DELETE of room B's session with a room-A token of the same sub and role → 403",
            lambda: expect_error(call(srv, "DELETE", need("lb"), token=t_a_same), 403, "forbidden"))
    s.check("P cross-room DELETE of room B's session by room A's operator → 403",
            lambda: expect_error(call(srv, "DELETE", need("lb"), token=t_a_op), 403, "forbidden"))
    s.check("P cross-room DELETE of room B's WHEP session by room A's operator → 403",
            lambda: expect_error(call(srv, "DELETE", need("vb"), token=t_a_op), 403, "forbidden"))

    def ws_join_b():
        c, r = ws_join(srv, t_a_same, room=b)
        try:
            expect_ws_error(r, "forbidden")
        finally:
            c.close()
    s.check("P cross-room /ws join of room B with a room-A token → forbidden", ws_join_b)
    s.check("P cross-room GET /api/rooms/room-b/streams with a room-A token → 403",
            lambda: expect_error(call(srv, "GET", f"/api/rooms/{b}/streams", token=t_a_op), 403, "forbidden"))
    s.check("P cross-room GET /api/rooms/room-b/streams/bcam with a room-A token → 403",
            lambda: expect_error(call(srv, "GET", f"/api/rooms/{b}/streams/bcam", token=t_a_op), 403,
                                 "forbidden"))
    s.check("P cross-room POST /api/rooms/room-b/streams/bcam/recording by room A's operator → 403",
            lambda: expect_error(call(srv, "POST", f"/api/rooms/{b}/streams/bcam/recording", token=t_a_op),
                                 403, "forbidden"))

    def rooms_list():
        need("la")
        r = call(srv, "GET", "/api/rooms", token=t_a_op)
        expect_status(r, 200)
        rooms = [x.get("room") for x in (r.json() or {}).get("rooms", [])]
        if rooms != [a]:
            raise Fail(f"room A's operator sees rooms {rooms}, expected only {a!r}")
        if b"room-b" in r.body or b"bcam" in r.body:
            raise Fail(f"room B appears in room A's listing: {r.brief()}")
    s.check("P cross-room room A's GET /api/rooms lists room A only (room B and bcam absent)", rooms_list)
    s.check("P cross-room GET /api/streams (every room) with a room-A operator token → 403",
            lambda: expect_error(call(srv, "GET", "/api/streams", token=t_a_op), 403, "forbidden"))

    def remove_other_room():
        cb, jb = ws_join(srv, srv.token(b, "expert", "dr-b"))
        ca, ja = ws_join(srv, t_a_op)
        try:
            expect_joined(jb, "B's expert: ")
            expect_joined(ja, "A's operator: ")
            r = ca.request({"type": "remove", "participant": jb["you"]["id"]})
            expect_ws_error(r, "not-found", "A's operator removing B's participant: ")
            if cb.drain(0.3) and cb.closed:
                raise Fail(f"B's participant was disconnected: {cb.closed}")
            r = cb.request({"type": "ping"})
            if not (r and r.get("type") == "pong"):
                raise Fail(f"B's participant no longer answers: {r}")
        finally:
            closing(ca, cb)
    s.check("P cross-room /ws remove of a room-B participant by room A's operator → not-found, B undisturbed",
            remove_other_room)

    def b_survived():
        expect_status(call(srv, "DELETE", need("vb"), token=t_b_view), (200, 204), "B's viewer's DELETE: ")
        expect_status(call(srv, "DELETE", need("lb"), token=t_b), (200, 204), "B's publisher's DELETE: ")
        call(srv, "DELETE", need("la"), token=srv.token(a, "clinic", "cart-a"))
    s.check("P cross-room room B's sessions survived every attempt (their owners' DELETE → 200)", b_survived)


def escalation(s, srv):
    room = "ward-esc"
    cl, jc = ws_join(srv, srv.token(room, "clinic", "cart-e"))
    ex, je = ws_join(srv, srv.token(room, "expert", "dr-e"))
    vw, jv = ws_join(srv, srv.token(room, "viewer", "viewer-e"))

    def setup():
        for j in (jc, je, jv):
            expect_joined(j)
        r = cl.request({"type": "publish", "stream": "cam", "sdp": OFFER})
        if not (r and r.get("type") == "answer"):
            raise Fail(f"the clinic's publish: {r}")
    s.check("P (setup) a clinic (publishing cam), an expert and a viewer join over /ws", setup)
    s.check("P role escalation: a viewer's /ws publish → forbidden",
            lambda: expect_ws_error(vw.request({"type": "publish", "stream": "v", "sdp": OFFER}), "forbidden"))
    s.check("P role escalation: an expert's /ws record → forbidden",
            lambda: expect_ws_error(ex.request({"type": "record", "action": "start", "stream": "cam"}),
                                    "forbidden"))
    s.check("P role escalation: an expert's /ws program → forbidden",
            lambda: expect_ws_error(ex.request({"type": "program", "stream": "cam"}), "forbidden"))
    s.check("P role escalation: an expert's /ws remove of the clinic → forbidden",
            lambda: expect_ws_error(ex.request({"type": "remove", "participant": (jc or {}).get("you", {})
                                                .get("id", "0000000000000000")}), "forbidden"))
    s.check("P role escalation: a viewer's WHIP POST → 403 forbidden",
            lambda: expect_error(call(srv, "POST", f"/whip/{room}/vcam", token=srv.token(room, "viewer", "v2"),
                                      ctype=SDP, body=WHIP_OFFER), 403, "forbidden"))
    t_view = srv.token(room, "viewer", "viewer-x")
    raised = with_payload(t_view, claims(room, "operator", "viewer-x", ttl=3000))
    s.check("P role escalation: a viewer token whose payload says operator, not re-signed → WHIP 401",
            lambda: expect_error(call(srv, "POST", f"/whip/{room}/xcam", token=raised, ctype=SDP, body=NOT_SDP),
                                 401, "unauthorized"))
    s.check("P role escalation: a viewer token whose payload says operator, not re-signed → GET /api/streams 401",
            lambda: expect_error(call(srv, "GET", "/api/streams", token=with_payload(
                t_view, claims("*", "operator", "viewer-x", ttl=3000))), 401, "unauthorized"))

    def ws_raised():
        c, r = ws_join(srv, raised)
        try:
            expect_ws_error(r, "unauthorized")
        finally:
            c.close()
    s.check("P role escalation: the same re-encoded token on /ws join → unauthorized", ws_raised)
    s.check("P role escalation: the clinic still publishes cam (none of the above touched it)",
            lambda: expect_status(call(srv, "GET", f"/api/rooms/{room}/streams/cam",
                                       token=srv.token(room, "viewer", "v3")), 200))
    closing(cl, ex, vw)


class JkuTrap:
    """A listener where a forged token's jku/x5u point: the server must never connect to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.hits += 1
                c.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.t.join(1)
        self.sock.close()


def forged(s, srv):
    room = "ward-tok"
    now = int(time.time())
    good = claims(room, "clinic", "cart-t")
    sec = srv.secret
    other = secrets.token_hex(24)
    trap = JkuTrap()
    jku = f"http://127.0.0.1:{trap.port}/jwks.json"
    ok_tok = hs256_token(sec, good)
    h, p, sig = ok_tok.split(".")
    payload_dup_role = json.dumps(good)[:-1] + ', "role": "operator"}'
    payload_dup_room = '{"room": "%s", "room": "*", "role": "clinic", "sub": "cart-t", "exp": %d}' % (room, now + 600)
    cases = [
        ("alg none", hs256_token(sec, good, {"alg": "none", "typ": "JWT"})),
        ("alg none with a signature", hs256_token(sec, good, {"alg": "none", "typ": "JWT"}) + sig),
        ("alg HS512 signed with the secret", hs256_token(sec, good, {"alg": "HS512", "typ": "JWT"})),
        ("alg 'hs256' (lower case)", hs256_token(sec, good, {"alg": "hs256", "typ": "JWT"})),
        ("RS256 header with an HS256 signature", hs256_token(sec, good, {"alg": "RS256", "typ": "JWT"})),
        ("a 'crit' header (signed with the secret)",
         hs256_token(sec, good, {"alg": "HS256", "typ": "JWT", "crit": ["exp"]})),
        ("jku and kid pointing elsewhere, signed with another key",
         hs256_token(other, good, {"alg": "HS256", "typ": "JWT", "jku": jku, "kid": "attacker"})),
        ("x5u pointing elsewhere, signed with another key",
         hs256_token(other, good, {"alg": "HS256", "typ": "JWT", "x5u": jku})),
        ("an embedded jwk, signed with that key",
         hs256_token(other, good, {"alg": "HS256", "typ": "JWT",
                                   "jwk": {"kty": "oct", "k": other}})),
        ("an empty signature", f"{h}.{p}."),
        ("the signature of another secret", hs256_token(other, good)),
        ("duplicate role claim (clinic, then operator)", jwt_raw(sec, '{"alg":"HS256","typ":"JWT"}',
                                                                 payload_dup_role)),
        ("duplicate room claim (room, then *)", jwt_raw(sec, '{"alg":"HS256","typ":"JWT"}', payload_dup_room)),
        ("nbf 10 minutes in the future", hs256_token(sec, dict(good, nbf=now + 600))),
        ("exp as a string", hs256_token(sec, dict(good, exp=str(now + 600)))),
        ("exp as a float", hs256_token(sec, dict(good, exp=now + 600.0))),
        ("four segments", ok_tok + "." + sig),
        ("a space inside the payload", f"{h}.{p[:10]} {p[10:]}.{sig}"),
        ("a tab inside the signature", f"{h}.{p}.{sig[:10]}\t{sig[10:]}"),
        ("padding '=' in the signature", f"{h}.{p}.{sig}="),
    ]
    for what, tok in cases:
        s.check(f"P forged token: {what} → WHIP 401 unauthorized",
                lambda tok=tok: expect_error(call(srv, "POST", f"/whip/{room}/tcam", token=tok, ctype=SDP,
                                                  body=NOT_SDP), 401, "unauthorized"))
    ws_cases = cases + [("a newline inside the payload", f"{h}.{p[:10]}\n{p[10:]}.{sig}")]

    def ws_all():
        bad = []
        for what, tok in ws_cases:
            c, r = ws_join(srv, tok)
            if not is_error(r, "unauthorized"):
                bad.append(f"{what}: {json.dumps(r)[:160] if r else r}")
            c.close()
        if bad:
            raise Fail(f"{len(bad)} of {len(ws_cases)} forged tokens were not refused as unauthorized on /ws: "
                       + "; ".join(bad))
    s.check(f"P forged tokens: the {len(ws_cases)} tokens above on /ws join → unauthorized each", ws_all)

    def never_fetched():
        time.sleep(0.3)
        if trap.hits:
            raise Fail(f"the server connected {trap.hits} time(s) to the jku/x5u URL of a forged token")
    s.check("P forged tokens: the server never fetches a token's jku/x5u URL", never_fetched)
    trap.close()

    # What is accepted (tests/unit/test_auth_jwt.c documents a kid header with the right MAC as fine).
    s.check("P a 'kid' header with the right signature is accepted (WHIP → 400 bad-sdp, not 401)",
            lambda: expect_error(call(srv, "POST", f"/whip/{room}/tcam", ctype=SDP, body=NOT_SDP,
                                      token=hs256_token(sec, good, {"alg": "HS256", "typ": "JWT", "kid": "k1"})),
                                 400, "bad-sdp"))
    s.check("P 'bearer' in lower case is accepted (WHIP → 400 bad-sdp, not 401)",
            lambda: expect_error(call(srv, "POST", f"/whip/{room}/tcam", auth=f"bearer {ok_tok}", ctype=SDP,
                                      body=NOT_SDP), 400, "bad-sdp"))
    s.check("P the Basic scheme → 401 unauthorized",
            lambda: expect_error(call(srv, "POST", f"/whip/{room}/tcam", auth="Basic Y2FydC10OnNlY3JldA==",
                                      ctype=SDP, body=NOT_SDP), 401, "unauthorized"))
    s.check("P a Bearer token after the Basic scheme name (\"Basic Bearer <token>\") → 401",
            lambda: expect_error(call(srv, "POST", f"/whip/{room}/tcam", auth=f"Basic Bearer {ok_tok}",
                                      ctype=SDP, body=NOT_SDP), 401, "unauthorized"))

    def ws_good():
        c, r = ws_join(srv, ok_tok)
        try:
            expect_joined(r, "control (a good token): ")
        finally:
            c.close()
    s.check("P control: the same claims correctly signed join over /ws", ws_good)


def run(s):
    srv = s.start()
    f1_ws(s, srv)
    f1_http(s, srv)
    cross_room(s, srv)
    escalation(s, srv)
    forged(s, srv)
    s.check("P medrelay answers /healthz after all of it",
            lambda: expect_status(call(srv, "GET", "/healthz"), 200))
    s.stop(srv)


if __name__ == "__main__":
    sys.exit(Suite("security_identity").main(run))
