#!/usr/bin/python3
"""The room protocol at /ws (docs/protocol.md), message by message, with a
scripted WebSocket client against the real server.

Checks every message type and its errors: join (tokens, rooms, bans,
admission limits), state and events (participants, streams, mute,
recording, program), publish/unpublish with real browser offers,
subscribe/answer (the server's offer on one connection), candidates,
moderation by role, reconnection with the same sub (the old connection is
replaced and its publishers adopted), leave; bad input (garbage, binary,
huge and wrong-typed messages, floods, a client that never reads, a client
that never joins) leaves other clients untouched; WHEP past the viewer
limit gets 503 server-busy; the audit trail. Env: MEDRELAY_BIN.
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import Server, SetupError, artifact_dir, read_sdp, request  # noqa: E402
from room_client import RoomClient, answer_for  # noqa: E402

failures = 0
ROOM = "ward-1"


def check(name, cond, info=""):
    global failures
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else "  -- " + str(info)), flush=True)
    if not cond:
        failures += 1


def is_error(m, code):
    return bool(m) and m.get("type") == "error" and m.get("code") == code


def join(srv, role, name, room=ROOM, token_room=None):
    c = RoomClient(srv)
    tok = srv.token(token_room or room, role, name)
    msg = {"type": "join", "token": tok}
    if token_room == "*":
        msg["room"] = room
    return c, c.request(msg)


OFFER = read_sdp("chromium_whip_sendonly.sdp").decode()


def test_subscribe_before_publish(srv):
    """Nothing published: subscribe is acknowledged, the offer follows the
    first stream, and when the last one ends the server closes the
    subscriber connection."""
    room = "ward-9"
    ex, _ = join(srv, "expert", "dr-early", room=room)
    r = ex.request({"type": "subscribe"})
    check("subscribe with nothing published -> ok, no offer", r and r.get("type") == "ok"
          and r.get("request") == "subscribe", r)
    cl, _ = join(srv, "clinic", "clinic-early", room=room)
    r = cl.request({"type": "publish", "stream": "cam", "sdp": OFFER})
    check("publish in the second room", r and r.get("type") == "answer", r)
    offer = ex.wait_for("offer")
    check("the offer follows the first stream (new connection)", offer and offer.get("new") is True
          and offer.get("streams") == ["cam"], offer)
    r = ex.request({"type": "answer", "pc": "subscriber", "sdp": answer_for(offer["sdp"]) if offer else ""})
    check("a well-formed answer -> ok", r and r.get("type") == "ok", r)
    r = ex.request({"type": "answer", "pc": "subscriber", "sdp": answer_for(offer["sdp"]) if offer else ""})
    check("answering twice -> bad-request", is_error(r, "bad-request"), r)
    r = cl.request({"type": "publish", "stream": "ecg", "sdp": OFFER})
    check("a second stream", r and r.get("type") == "answer", r)
    again = ex.wait_for("offer")
    check("re-offer on the same connection when a stream starts", again and again.get("new") is False
          and again.get("streams") == ["cam", "ecg"], again)
    if again:
        ex.request({"type": "answer", "pc": "subscriber", "sdp": answer_for(again["sdp"])})
    r = ex.request({"type": "subscribe", "streams": ["ecg"]})
    check("narrowing the set -> a re-offer", r and r.get("type") == "offer" and r.get("new") is False
          and r.get("streams") == ["ecg"], r)
    if r and r.get("sdp"):
        check("the dropped stream's sections are retired (port 0)", "m=audio 0 " in r["sdp"], r["sdp"][:300])
        ex.request({"type": "answer", "pc": "subscriber", "sdp": answer_for(r["sdp"])})
    r = cl.request({"type": "unpublish", "stream": "ecg"})
    closed = ex.wait_for("subscriber-closed")
    check("the last wanted stream ends -> subscriber-closed", closed is not None, ex.inbox[-3:])
    r = ex.request({"type": "subscribe", "streams": "*", "restart": True})
    check("subscribe again (restart) -> a new connection", r and r.get("type") == "offer"
          and r.get("new") is True and r.get("streams") == ["cam"], r)
    # A flood of joins from many connections: refused past the viewer limit,
    # nobody else disturbed.
    crowd = []
    for i in range(40):
        c = RoomClient(srv)
        c.send({"type": "join", "token": srv.token(room, "viewer", f"rush-{i}"), "id": 1})
        crowd.append(c)
    replies = [c.wait_for(lambda m: m.get("re") == 1, 5) for c in crowd]
    busy = sum(1 for m in replies if is_error(m, "server-busy"))
    joined = sum(1 for m in replies if m and m.get("type") == "joined")
    check("a rush of 40 viewers: 2 admitted, the rest server-busy", joined == 2 and busy == 38, (joined, busy))
    r = ex.request({"type": "ping"})
    check("the expert is undisturbed by the rush", r and r.get("type") == "pong", r)
    for c in crowd + [ex, cl]:
        c.close()


def test_bad_input(srv):
    c = RoomClient(srv)
    c.send_raw("this is not json")
    check("garbage -> bad-request", is_error(c.wait_for("error"), "bad-request"))
    c.send_raw(b"\x00\x01binary", binary=True)
    check("binary -> bad-request", is_error(c.wait_for("error"), "bad-request"))
    c.send_raw("[1,2,3]")
    check("non-object -> bad-request", is_error(c.wait_for("error"), "bad-request"))
    c.send_raw(json.dumps({"type": "join", "token": "x" * 70000}))
    m = c.wait_for("error")
    check("oversized message -> too-large", is_error(m, "too-large"), m)
    c.send_raw(json.dumps({"type": 5}))
    check("type not a string -> bad-request", is_error(c.wait_for("error"), "bad-request"))
    r = c.request({"type": "no-such-thing"})
    check("unknown type -> bad-request, echoes id", is_error(r, "bad-request"), r)
    c.send({"type": "ping", "id": {"x": 1}})
    check("object id -> bad-request", is_error(c.wait_for("error"), "bad-request"))
    r = c.request({"type": "publish", "stream": "cam", "sdp": OFFER})
    check("publish before join -> unauthorized", is_error(r, "unauthorized"), r)
    r = c.request({"type": "ping"})
    check("connection lives on after bad input (pong)", r and r.get("type") == "pong", r)
    r = c.request({"type": "join"})
    check("join without token -> unauthorized", is_error(r, "unauthorized"), r)
    r = c.request({"type": "join", "token": "a.b.c"})
    check("join with a forged token -> unauthorized", is_error(r, "unauthorized"), r)
    c.close()
    c = RoomClient(srv)
    r = c.request({"type": "join", "token": srv.token("ward-2", "expert", "e9"), "room": ROOM})
    check("token for another room -> forbidden", is_error(r, "forbidden"), r)
    r = c.request({"type": "join", "token": srv.token("*", "operator", "op9")})
    check("all-rooms token without a room -> bad-name", is_error(r, "bad-name"), r)
    r = c.request({"type": "join", "token": srv.token("*", "operator", "op9"), "room": "../etc"})
    check("bad room name -> bad-name", is_error(r, "bad-name"), r)
    c.close()


def test_publish_and_events(srv):
    clinic, j = join(srv, "clinic", "clinic-a")
    check("clinic joins", j and j.get("type") == "joined", j)
    check("joined carries you and room state",
          j and j["you"]["role"] == "clinic" and j["room"]["name"] == ROOM
          and any(p["id"] == j["you"]["id"] for p in j["room"]["participants"]), j)
    expert, je = join(srv, "expert", "expert-b")
    ev = clinic.wait_for("participant-joined")
    check("clinic sees the expert join", ev and ev["participant"]["id"] == je["you"]["id"], ev)
    r = clinic.request({"type": "join", "token": srv.token(ROOM, "clinic", "clinic-a")})
    check("second join on one connection -> bad-request", is_error(r, "bad-request"), r)

    r = clinic.request({"type": "publish", "stream": "bad/name", "sdp": OFFER})
    check("publish bad stream name -> bad-name", is_error(r, "bad-name"), r)
    r = clinic.request({"type": "publish", "stream": "cam", "sdp": "v=0\r\nnot sdp"})
    check("publish malformed SDP -> bad-sdp", is_error(r, "bad-sdp"), r)
    r = clinic.request({"type": "publish", "stream": "cam"})
    check("publish without sdp -> bad-request", is_error(r, "bad-request"), r)
    r = clinic.request({"type": "publish", "stream": "cam", "sdp": OFFER})
    check("publish -> answer", r and r.get("type") == "answer" and r.get("pc") == "publisher"
          and "a=setup:" in r.get("sdp", "") and r.get("stream") == "cam", r)
    ev = expert.wait_for("stream-started")
    check("expert sees stream-started", ev and ev["stream"] == "cam"
          and ev["info"]["publisher"] == "clinic-a" and ev["info"]["video"] is True, ev)
    r = expert.request({"type": "publish", "stream": "cam", "sdp": OFFER})
    check("another sub publishing the same stream -> stream-busy", is_error(r, "stream-busy"), r)
    return clinic, expert, j, je


def test_candidates(clinic):
    r = clinic.request({"type": "candidate", "pc": "publisher", "stream": "cam",
                        "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host"})
    check("publisher candidate -> ok", r and r.get("type") == "ok", r)
    r = clinic.request({"type": "candidate", "pc": "publisher", "stream": "cam", "candidate": None})
    check("end of candidates -> ok", r and r.get("type") == "ok", r)
    r = clinic.request({"type": "candidate", "pc": "publisher", "stream": "cam",
                        "candidate": "candidate:garbage\r\na=ice-ufrag:x"})
    check("candidate with a line break -> bad-request", is_error(r, "bad-request"), r)
    r = clinic.request({"type": "candidate", "pc": "publisher", "stream": "nope", "candidate": None})
    check("candidate for a stream not published -> session-not-found", is_error(r, "session-not-found"), r)
    r = clinic.request({"type": "candidate", "pc": "sideways", "candidate": None})
    check("candidate with a bad pc -> bad-request", is_error(r, "bad-request"), r)


def test_subscribe(expert):
    r = expert.request({"type": "answer", "pc": "subscriber", "sdp": "v=0\r\n"})
    check("answer with no offer out -> bad-request", is_error(r, "bad-request"), r)
    r = expert.request({"type": "subscribe", "streams": ["ok", "not a name"]})
    check("subscribe bad name -> bad-name", is_error(r, "bad-name"), r)
    r = expert.request({"type": "subscribe", "streams": 7})
    check("subscribe bad streams -> bad-request", is_error(r, "bad-request"), r)
    for bad in ("huge", 2, "", None):
        r = expert.request({"type": "subscribe", "layer": bad})
        check(f"subscribe layer {bad!r} -> bad-request", is_error(r, "bad-request"), r)
    r = expert.request({"type": "subscribe", "layer": "medium"})
    ok = r and r.get("type") == "offer" and r.get("pc") == "subscriber" and r.get("new") is True
    check("subscribe -> the server's offer", ok, r)
    sdp = r.get("sdp", "") if r else ""
    check("offer names the stream and sends only", "a=msid:cam " in sdp and "a=sendonly" in sdp
          and r.get("streams") == ["cam"], sdp[:400])
    # A viewer's downlink is estimated from its congestion feedback: the
    # offer proposes it, with one id for the sequence number everywhere.
    check("offer proposes transport-cc",
          "transport-cc" in sdp and sdp.count("a=extmap:3 http://www.ietf.org/id/"
                                                "draft-holmer-rmcat-transport-wide-cc-extensions-01")
          == sdp.count("m="), sdp[:800])
    r2 = expert.request({"type": "answer", "pc": "subscriber", "sdp": "v=0\r\ngarbage\r\n"})
    check("malformed answer -> bad-sdp", is_error(r2, "bad-sdp"), r2)
    return sdp


def test_moderation(srv, clinic, expert, j_clinic, j_expert):
    op, jo = join(srv, "operator", "op-1", token_room="*")
    check("operator with an all-rooms token joins a named room", jo and jo.get("type") == "joined", jo)
    r = expert.request({"type": "mute", "stream": "cam", "kind": "audio", "muted": True})
    check("expert muting the clinic's stream -> forbidden", is_error(r, "forbidden"), r)
    r = clinic.request({"type": "mute", "stream": "cam", "kind": "audio", "muted": True})
    check("clinic mutes its own audio -> ok", r and r.get("type") == "ok", r)
    ev = expert.wait_for("stream-muted")
    check("stream-muted event", ev and ev["stream"] == "cam" and ev["kind"] == "audio"
          and ev["muted"] is True, ev)
    r = op.request({"type": "mute", "stream": "cam", "kind": "video", "muted": True})
    check("operator mutes anyone's video -> ok", r and r.get("type") == "ok", r)
    ev = clinic.wait_for(lambda m: m.get("type") == "stream-muted" and m.get("kind") == "video")
    check("owner hears of the operator's mute", ev and ev["muted"] is True, ev)
    r = op.request({"type": "mute", "stream": "cam", "kind": "smell", "muted": True})
    check("mute bad kind -> bad-request", is_error(r, "bad-request"), r)
    r = op.request({"type": "mute", "stream": "nothing", "kind": "audio", "muted": True})
    check("mute unknown stream -> stream-not-found", is_error(r, "stream-not-found"), r)

    r = expert.request({"type": "record", "action": "start", "stream": "cam"})
    check("expert recording -> forbidden", is_error(r, "forbidden"), r)
    r = op.request({"type": "record", "action": "start", "stream": "cam"})
    check("operator starts recording -> ok", r and r.get("type") == "ok", r)
    ev = expert.wait_for("recording-started")
    check("recording-started event", ev and ev["stream"] == "cam", ev)
    r = op.request({"type": "record", "action": "stop"})
    check("operator stops the room's recordings -> ok", r and r.get("type") == "ok", r)
    ev = expert.wait_for("recording-stopped")
    check("recording-stopped event", ev and ev["stream"] == "cam", ev)
    r = op.request({"type": "record", "action": "pause"})
    check("record bad action -> bad-request", is_error(r, "bad-request"), r)

    r = expert.request({"type": "program", "stream": "cam"})
    check("expert choosing the program -> forbidden", is_error(r, "forbidden"), r)
    r = op.request({"type": "program", "stream": "cam", "pin": "yes"})
    check("program with a pin that is not a boolean -> bad-request", is_error(r, "bad-request"), r)
    r = op.request({"type": "program", "stream": "cam", "pin": True})
    check("operator picks the program, pinned at its top layer -> ok", r and r.get("type") == "ok", r)
    ev = clinic.wait_for("program")
    check("program event, pinned", ev and ev["stream"] == "cam" and ev.get("pin") is True, ev)
    viewer, jv = join(srv, "viewer", "viewer-1")
    check("viewer sees the program in the state", jv and jv["room"]["program"] == "cam"
          and jv["room"].get("program_pinned") is True, jv)
    check("viewers are counted, not listed", jv and jv["room"]["viewers"] == 1
          and all(p["role"] != "viewer" for p in jv["room"]["participants"]), jv)
    seen = [m for m in clinic.drain(0.5) if m.get("type") == "participant-joined"
            and m["participant"]["role"] == "viewer"]
    check("a viewer's join is not announced", not seen, seen)
    r = viewer.request({"type": "publish", "stream": "v", "sdp": OFFER})
    check("viewer publishing -> forbidden", is_error(r, "forbidden"), r)
    r = viewer.request({"type": "subscribe"})
    check("viewer subscribes to the program by default", r and r.get("type") == "offer"
          and r.get("streams") == ["cam"], r)
    r = viewer.request({"type": "remove", "participant": j_expert["you"]["id"]})
    check("viewer removing -> forbidden", is_error(r, "forbidden"), r)

    r = op.request({"type": "remove", "participant": "0000000000000000"})
    check("remove unknown participant -> not-found", is_error(r, "not-found"), r)
    r = op.request({"type": "remove", "participant": j_expert["you"]["id"]})
    check("operator removes the expert -> ok", r and r.get("type") == "ok", r)
    m = expert.wait_for("removed")
    check("expert is told it was removed", m is not None, expert.inbox)
    check("expert's connection is closed", expert.wait_closed() is not None)
    ev = clinic.wait_for(lambda m: m.get("type") == "participant-left" and m.get("id") == j_expert["you"]["id"])
    check("others see participant-left (removed)", ev and ev["reason"] == "removed", ev)
    again, jr = join(srv, "expert", "expert-b")
    check("removed sub cannot rejoin -> forbidden", is_error(jr, "forbidden"), jr)
    again.close()
    other, jo2 = join(srv, "expert", "expert-c")
    check("another expert may join", jo2 and jo2.get("type") == "joined", jo2)
    return op, viewer, other


def test_admission(srv):
    v2, j2 = join(srv, "viewer", "viewer-2")
    check("second viewer admitted (limit 2)", j2 and j2.get("type") == "joined", j2)
    v3, j3 = join(srv, "viewer", "viewer-3")
    check("third viewer -> server-busy", is_error(j3, "server-busy"), j3)
    tok = srv.token(ROOM, "viewer", "whep-viewer")
    r = request(srv.host, srv.port, "POST", f"/whep/{ROOM}/cam",
                headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/sdp"},
                body=read_sdp("chromium_whep_recvonly.sdp"))
    check("WHEP past the viewer limit -> 503 server-busy",
          r.status == 503 and r.json().get("error") == "server-busy", r.brief())
    v3.close()
    return v2


def test_replace_and_leave(srv, clinic, j_clinic, others):
    again, j = join(srv, "clinic", "clinic-a")
    check("the same sub joins again", j and j.get("type") == "joined", j)
    m = clinic.wait_for("replaced")
    check("the old connection is told it was replaced", m is not None, clinic.inbox)
    check("the old connection is closed", clinic.wait_closed() is not None)
    streams = {s["name"]: s for s in j["room"]["streams"]} if j else {}
    check("its stream lives on for the new connection", "cam" in streams, j)
    check("the stream names the new participant id",
          streams.get("cam", {}).get("participant") == j["you"]["id"], streams)
    r = again.request({"type": "unpublish", "stream": "cam"})
    check("the new connection unpublishes the adopted stream -> ok", r and r.get("type") == "ok", r)
    ev = others[0].wait_for("stream-stopped")
    check("stream-stopped event", ev and ev["stream"] == "cam", ev)
    r = again.request({"type": "unpublish", "stream": "cam"})
    check("unpublish twice -> stream-not-found", is_error(r, "stream-not-found"), r)
    r = again.request({"type": "leave"})
    check("leave -> ok", r and r.get("type") == "ok", r)
    check("leave closes the connection", again.wait_closed() is not None)
    ev = others[0].wait_for(lambda m: m.get("type") == "participant-left" and m.get("id") == j["you"]["id"])
    check("participant-left (left)", ev and ev["reason"] == "left", ev)


def test_abuse(srv, bystander):
    flood = RoomClient(srv)
    tok = srv.token(ROOM, "viewer", "flooder")
    for i in range(400):
        try:
            flood.send({"type": "join", "token": tok, "id": i})
        except Exception:
            break
    closed = flood.wait_closed(timeout=5)
    check("a flood of joins is refused and the flooder disconnected", closed is not None, flood.inbox[-3:])
    r = bystander.request({"type": "ping"})
    check("bystander unaffected by the flood", r and r.get("type") == "pong", r)

    idle = RoomClient(srv)
    closed = idle.wait_closed(timeout=13)
    check("a client that never joins is closed after 10 s", closed is not None and closed[0] == 1008, closed)

    slow = RoomClient(srv)
    # Pongs echo the id: each is ~30 KB; the client never reads them, so once the
    # socket buffers fill the server's queue passes ws_max_queue (64 KiB here).
    big = "x" * 30000
    t0 = time.monotonic()
    sent = 0
    try:
        while time.monotonic() - t0 < 20:
            slow.send({"type": "ping", "id": big})
            sent += 1
            time.sleep(0.025)
            if sent % 40 == 0 and "too slow" in open(srv.log_path, errors="replace").read():
                break
    except Exception:
        pass
    log = open(srv.log_path, errors="replace").read()
    check("a client that never reads is disconnected (bounded queue)", "too slow" in log, f"sent {sent}")
    slow.close()
    r = bystander.request({"type": "ping"})
    check("bystander unaffected by the slow client", r and r.get("type") == "pong", r)


def main():
    art = artifact_dir("integration", "ws_protocol")
    try:
        srv = Server.start(art, config={
            "rooms": {"room_viewers": 2, "ws_max_queue": 65536, "ban_seconds": 60},
            "recording": {"policy": "on-demand"},
        })
    except SetupError as e:
        print(f"SETUP {e}")
        return 2
    try:
        test_bad_input(srv)
        test_subscribe_before_publish(srv)
        clinic, expert, jc, je = test_publish_and_events(srv)
        test_candidates(clinic)
        test_subscribe(expert)
        op, viewer, other = test_moderation(srv, clinic, expert, jc, je)
        v2 = test_admission(srv)
        test_replace_and_leave(srv, clinic, jc, [other, op])
        test_abuse(srv, op)
        r = request(srv.host, srv.port, "GET", "/healthz")
        check("server healthy at the end", r.status == 200, r.brief())
        scraper = {"Authorization": "Bearer " + srv.token("*", "operator", "scraper")}
        m = request(srv.host, srv.port, "GET", "/metrics", headers=scraper).body.decode()

        def metric(name):
            hit = re.search(r"^%s (\d+)$" % re.escape(name), m, re.M)
            return int(hit.group(1)) if hit else None
        check("metrics: connections gauge", metric("medrelay_ws_connections") is not None, m[-800:])
        check("metrics: refused joins counted", (metric('medrelay_room_joins_total{result="refused"}') or 0) >= 38)
        check("metrics: flood disconnect counted", (metric('medrelay_ws_disconnects_total{cause="flood"}') or 0) >= 1)
        check("metrics: no-join disconnect counted", (metric('medrelay_ws_disconnects_total{cause="no_join"}') or 0) >= 1)
        check("metrics: removal counted", metric('medrelay_ws_disconnects_total{cause="removed"}') == 1)
        check("metrics: error replies counted", (metric("medrelay_ws_errors_total") or 0) > 30)
        audit = open(os.path.join(srv.tmp, "medrelay-audit.log")).read()
        for action in ("join", "join-refused", "publish", "mute", "remove", "program", "leave",
                       "unpublish", "record-start", "record-stop"):
            check(f"audit log has {action}", re.search(r'"action":\s*"%s"' % action, audit), audit[-500:])
        for c in (op, viewer, other, v2):
            c.close()
    finally:
        problem = srv.stop()
        check("server stopped cleanly", problem is None, problem)
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
