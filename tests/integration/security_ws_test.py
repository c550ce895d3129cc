#!/usr/bin/python3
"""Security: the room protocol at /ws (issue 13, finding 3, and /ws probes).

  F3  a steady flood is disconnected: a joined client sending ~150
      messages a second is closed with 1008 within 5 s (after server-busy
      errors); a client at ~40 a second for 5 s is never disconnected and
      gets every pong; a single burst of 80 then quiet gets some
      server-busy errors and stays connected
  P   upgrades only on /ws; requests before join are refused; non-string
      tokens; replies never echo a token; participants cannot act on each
      other's publications; a bystander is served during a flood

Not repeated here (ws_protocol_test.py covers it, test_abuse): a client that
never reads its messages is disconnected once ws_max_queue bytes wait for
it, and a flood of joins is refused and disconnected.

Checks are named "F3 ..." (finding 3) or "P ..." (held before the fix).
    MEDRELAY_BIN=build/medrelay /usr/bin/python3 tests/integration/security_ws_test.py
Server log: tests/artifacts/integration/security_ws/medrelay.log.
"""
import json
import os
import select
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from security_lib import (WHIP_OFFER, Fail, RoomClient, Suite, call, claims, closing,  # noqa: E402
                          expect_joined, expect_status, expect_ws_error, hs256_token, is_error, ws_join)

ROOM = "ward-ws"
OFFER = WHIP_OFFER.decode()


class Paced:
    """Sends pings at a steady rate on a joined client, reading whatever comes meanwhile."""

    def __init__(self, client):
        self.c = client
        self.sent = 0
        self.pongs = set()
        self.busy = 0
        self.first_busy_at = None
        self.closed_at = None
        self.other = []
        self.t0 = None

    def _take(self, m):
        if m is None:
            return
        if m.get("type") == "pong":
            self.pongs.add(m.get("re"))
        elif is_error(m, "server-busy"):
            self.busy += 1
            if self.first_busy_at is None:
                self.first_busy_at = time.monotonic() - self.t0
        else:
            self.other.append(m)

    def _read_until(self, deadline):
        sock = self.c.ws.sock
        while not self.c.closed:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                return
            r, _, _ = select.select([sock], [], [], timeout)
            if not r:
                return
            self._take(self.c._read_one(time.monotonic() + 0.2))
        if self.closed_at is None:
            self.closed_at = time.monotonic() - self.t0

    def run(self, rate, seconds, burst=0, linger=0.0, catch_up=True):
        """burst pings at once, or rate a second for seconds; then reads for linger seconds.
        Without catch_up a sender that fell behind (a stall on a loaded machine) does not send the
        missed pings in a rush: the rate never goes much over the one asked for."""
        self.t0 = time.monotonic()
        interval = 1.0 / rate if rate else 0
        nxt = self.t0
        while not self.c.closed:
            if burst:
                if self.sent >= burst:
                    break
            elif time.monotonic() - self.t0 >= seconds:
                break
            else:
                self._read_until(nxt)
                if self.c.closed or time.monotonic() - self.t0 >= seconds:
                    break
            try:
                self.c.send({"type": "ping", "id": self.sent})
            except Exception:
                self.c.closed = self.c.closed or (None, "send failed")
                break
            self.sent += 1
            nxt += interval
            if not catch_up:
                nxt = max(nxt, time.monotonic() + 0.9 * interval)
        self._read_until(time.monotonic() + linger)
        if self.c.closed and self.closed_at is None:
            self.closed_at = time.monotonic() - self.t0
        return self


def f3(s, srv):
    bystander, jb = ws_join(srv, srv.token(ROOM, "expert", "dr-bystander"))
    st = {}
    fast, jf = ws_join(srv, srv.token(ROOM, "viewer", "flooder-1"))

    def flood():
        expect_joined(jf, "the flooder's join: ")
        p = Paced(fast).run(150, 5.0, linger=0.6)
        st["flood"] = p
        code = fast.closed[0] if fast.closed else None
        if fast.closed is None or p.closed_at is None or p.closed_at > 5.5:
            raise Fail(f"still connected after {p.sent} pings at 150/s for 5 s ({p.busy} server-busy errors, "
                       f"{len(p.pongs)} pongs)")
        if code != 1008:
            raise Fail(f"closed after {p.closed_at:.1f} s with code {code} {fast.closed}, expected 1008")
        if not p.busy or p.first_busy_at > p.closed_at:
            raise Fail(f"closed after {p.closed_at:.1f} s without server-busy errors first ({p.busy})")
        print(f"     (closed after {p.closed_at:.1f} s, {p.sent} sent, {p.busy} server-busy, "
              f"first after {p.first_busy_at:.2f} s)", flush=True)
    s.check("F3 a joined client pinging ~150 times a second is closed with 1008 within 5 s, after server-busy "
            "errors", flood)

    def bystander_ok():
        expect_joined(jb, "the bystander's join: ")
        t = time.monotonic()
        r = bystander.request({"type": "ping"}, timeout=2)
        if not (r and r.get("type") == "pong") or time.monotonic() - t > 0.5:
            raise Fail(f"the bystander's ping: {r} after {time.monotonic() - t:.2f} s")
    s.check("P a bystander in the same room is answered within 0.5 s after the flood", bystander_ok)
    fast.close()

    steady, js = ws_join(srv, srv.token(ROOM, "viewer", "steady-1"))

    def steady_ok():
        expect_joined(js, "the steady client's join: ")
        p = Paced(steady).run(40, 5.0, linger=1.0, catch_up=False)
        if steady.closed:
            raise Fail(f"disconnected after {p.closed_at:.1f} s ({steady.closed}) at 40 messages a second; "
                       f"{p.busy} server-busy errors")
        missing = sorted(set(range(p.sent)) - p.pongs)
        if p.sent < 180 or missing or p.busy:
            raise Fail(f"{p.sent} pings sent, {len(p.pongs)} pongs, missing {missing[:10]}..., {p.busy} server-busy")
    s.check("F3 a client at ~40 messages a second for 5 s stays connected and gets a pong for each", steady_ok)
    steady.close()

    burst, jbu = ws_join(srv, srv.token(ROOM, "viewer", "burst-1"))

    def burst_ok():
        expect_joined(jbu, "the bursting client's join: ")
        p = Paced(burst).run(0, 0, burst=80, linger=2.0)
        if burst.closed:
            raise Fail(f"a single burst of 80 then quiet was disconnected ({burst.closed}); {p.busy} server-busy")
        if not p.busy:
            raise Fail(f"no server-busy error for a burst of 80 ({len(p.pongs)} pongs)")
        r = burst.request({"type": "ping"})
        if not (r and r.get("type") == "pong"):
            raise Fail(f"ping after the quiet: {r}")
        print(f"     ({len(p.pongs)} pongs, {p.busy} server-busy)", flush=True)
    s.check("F3 a single burst of 80 messages then quiet: some server-busy errors, not disconnected", burst_ok)
    closing(burst, bystander)


def probes(s, srv):
    for path in ("/wsx", "/ws/x", "/api/ws", "/whip/ws"):
        def other_path(path=path):
            try:
                c = RoomClient(srv, path)
            except Exception:
                return  # the upgrade was refused
            c.close()
            raise Fail(f"a WebSocket upgrade on {path} was accepted")
        s.check(f"P a WebSocket upgrade on {path} is refused", other_path)

    def before_join():
        c = RoomClient(srv)
        try:
            bad = []
            for msg in ({"type": "subscribe"}, {"type": "unpublish", "stream": "cam"},
                        {"type": "mute", "stream": "cam", "kind": "audio", "muted": True},
                        {"type": "remove", "participant": "0000000000000000"},
                        {"type": "record", "action": "start"}, {"type": "program", "stream": "cam"},
                        {"type": "answer", "pc": "subscriber", "sdp": "v=0\r\n"},
                        {"type": "candidate", "pc": "subscriber", "candidate": None}, {"type": "leave"}):
                r = c.request(msg)
                if not is_error(r, "unauthorized"):
                    bad.append(f"{msg['type']} → {r}")
            if bad:
                raise Fail("; ".join(bad))
            r = c.request({"type": "ping"})
            if not (r and r.get("type") == "pong"):
                raise Fail(f"ping before join: {r}")
        finally:
            c.close()
    s.check("P every request but join and ping before join → unauthorized (connection lives on)", before_join)

    def odd_tokens():
        c = RoomClient(srv)
        try:
            bad = []
            for tok in (12345, {"alg": "none"}, None, ["a", "b"], True, "", " "):
                r = c.request({"type": "join", "token": tok, "room": ROOM})
                if not (r and r.get("type") == "error" and r.get("code") in ("unauthorized", "bad-request")):
                    bad.append(f"{json.dumps(tok)} → {r}")
            if bad:
                raise Fail("; ".join(bad))
            r = c.request({"type": "ping"})
            if not (r and r.get("type") == "pong"):
                raise Fail(f"the connection no longer answers: {r}")
        finally:
            c.close()
    s.check("P a join whose token is not a string (number, object, null, array, bool, empty) → unauthorized "
            "or bad-request", odd_tokens)

    def no_echo():
        forged = hs256_token("not-the-secret-" * 3, claims(ROOM, "operator", "echo-probe"))
        expired = hs256_token(srv.secret, dict(claims(ROOM, "clinic", "echo-late"), exp=int(time.time()) - 60))
        good = srv.token(ROOM, "clinic", "echo-ok")
        texts = []
        for tok in (forged, expired, good):
            c = RoomClient(srv)
            try:
                c.send({"type": "join", "token": tok, "id": 1})
                texts += [json.dumps(m) for m in c.drain(0.4)]
            finally:
                c.close()
        leaked = [t[:120] for t in texts if any(tok in t or tok.rsplit(".", 1)[1] in t
                                                 for tok in (forged, expired, good))]
        if leaked:
            raise Fail(f"a reply carries the token: {leaked}")
        if not texts:
            raise Fail("no replies at all")
    s.check("P replies to join (refused or not) never echo the token", no_echo)

    clinic, jc = ws_join(srv, srv.token(ROOM, "clinic", "cart-ws"))
    expert, je = ws_join(srv, srv.token(ROOM, "expert", "dr-ws"))
    try:
        def setup():
            expect_joined(jc)
            expect_joined(je)
            r = clinic.request({"type": "publish", "stream": "cam", "sdp": OFFER})
            if not (r and r.get("type") == "answer"):
                raise Fail(f"publish: {r}")
        s.check("P (setup) a clinic publishes cam over /ws, an expert joins", setup)
        s.check("P an expert unpublishing the clinic's cam → stream-not-found",
                lambda: expect_ws_error(expert.request({"type": "unpublish", "stream": "cam"}), "stream-not-found"))
        s.check("P an expert trickling a candidate into the clinic's publisher connection → session-not-found",
                lambda: expect_ws_error(expert.request({"type": "candidate", "pc": "publisher", "stream": "cam",
                                                        "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 "
                                                                     "50000 typ host"}), "session-not-found"))
        s.check("P an expert publishing on the clinic's cam → stream-busy",
                lambda: expect_ws_error(expert.request({"type": "publish", "stream": "cam", "sdp": OFFER}),
                                        "stream-busy"))

        def still_up():
            r = call(srv, "GET", f"/api/rooms/{ROOM}/streams/cam", token=srv.token(ROOM, "viewer", "v-ws"))
            expect_status(r, 200)
            if (r.json() or {}).get("publisher") != "cart-ws":
                raise Fail(f"cam changed hands: {r.brief()}")
        s.check("P the clinic's cam is still its own after the expert's attempts", still_up)
    finally:
        closing(clinic, expert)


def run(s):
    srv = s.start()
    probes(s, srv)
    f3(s, srv)
    s.check("P medrelay answers /healthz after all of it", lambda: expect_status(call(srv, "GET", "/healthz"), 200))


if __name__ == "__main__":
    sys.exit(Suite("security_ws").main(run))
