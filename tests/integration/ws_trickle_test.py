#!/usr/bin/python3
"""Trickle ICE from the server to room-protocol clients (docs/protocol.md).

With a STUN server configured, gathering waits for the STUN transaction,
and for its timeout when the STUN server does not answer. Over /ws the
server's answer (publish) and offer (subscribe) must not wait: they carry
the host candidates and no a=end-of-candidates, then the server-reflexive
candidate follows in a `candidate` message, then `"candidate": null`.
WHIP answers stay complete (every candidate and a=end-of-candidates).

A small STUN server (RFC 5389 Binding) runs inside the test. It maps every
request to 127.0.0.2 and the source port + 1, so the server-reflexive
candidate differs from the host one and libnice keeps it. A second one is
a bound socket that never answers. Env: MEDRELAY_BIN.
"""
import os
import re
import socket
import struct
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import Server, SetupError, artifact_dir, read_sdp, request  # noqa: E402
from room_client import RoomClient, answer_for  # noqa: E402

failures = 0
ROOM = "ward-5"
OFFER = read_sdp("chromium_whip_sendonly.sdp").decode()
MAGIC = 0x2112A442
MAPPED_IP = "127.0.0.2"
# What the answers must beat against a silent STUN server; libnice gives up
# on it only after several seconds of retransmissions.
PROMPT_S = 1.0


def check(name, cond, info=""):
    global failures
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else "  -- " + str(info)), flush=True)
    if not cond:
        failures += 1


# ---- a STUN server (RFC 5389) ----

def stun_attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def binding_response(request_bytes, mapped_ip, mapped_port):
    """A Binding success response, or None when request_bytes is not a
    Binding request. An RFC 5389 request (with the magic cookie) gets
    XOR-MAPPED-ADDRESS (§15.2) and FINGERPRINT (§15.5); a classic RFC 3489
    one, which libnice sends for server-reflexive discovery so that old
    servers answer too, gets MAPPED-ADDRESS with its 16-byte transaction id
    echoed (RFC 5389 §12.2)."""
    if len(request_bytes) < 20:
        return None
    kind, _, cookie = struct.unpack("!HHI", request_bytes[:8])
    if kind != 0x0001:
        return None
    ip = struct.unpack("!I", socket.inet_aton(mapped_ip))[0]
    if cookie != MAGIC:
        attrs = stun_attr(0x0001, struct.pack("!BBHI", 0, 1, mapped_port, ip))
        return struct.pack("!HH", 0x0101, len(attrs)) + request_bytes[4:20] + attrs
    txn = request_bytes[8:20]
    xma = struct.pack("!BBHI", 0, 1, mapped_port ^ (MAGIC >> 16), ip ^ MAGIC)
    attrs = stun_attr(0x0020, xma)
    # The length covers the FINGERPRINT attribute (8 bytes) that follows.
    head = struct.pack("!HHI", 0x0101, len(attrs) + 8, MAGIC) + txn
    crc = (zlib.crc32(head + attrs) & 0xFFFFFFFF) ^ 0x5354554E
    return head + attrs + stun_attr(0x8028, struct.pack("!I", crc))


class StunServer:
    """Answers Binding requests on 127.0.0.1 (answer=False: ignores them)."""

    def __init__(self, answer=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.requests = 0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            try:
                data, src = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            self.requests += 1
            reply = binding_response(data, MAPPED_IP, (src[1] + 1) & 0xFFFF) if self.answer else None
            if reply:
                self.sock.sendto(reply, src)

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


def test_stun_encoding():
    """The response against RFC 5769 §2.2's sample (its XOR-MAPPED-ADDRESS
    192.0.2.1:32853), so the STUN server itself is known to be right."""
    txn = bytes.fromhex("b7e7a701bc34d686fa87dfae")
    req = struct.pack("!HHI", 0x0001, 0, MAGIC) + txn
    r = binding_response(req, "192.0.2.1", 32853)
    check("STUN: XOR-MAPPED-ADDRESS as in RFC 5769 §2.2",
          r is not None and r[20:32] == bytes.fromhex("002000080001a147e112a643"), r and r.hex())
    classic = bytes.fromhex("00010000") + bytes(range(16))
    r = binding_response(classic, "127.0.0.2", 5000)
    check("STUN: an RFC 3489 request gets MAPPED-ADDRESS and its transaction id",
          r is not None and r[4:20] == bytes(range(16)) and r[20:32] == bytes.fromhex("0001000800011388" "7f000002"),
          r and r.hex())
    check("STUN: not a Binding request -> no answer", binding_response(b"\x01\x11" + b"\0" * 30, "1.2.3.4", 1) is None)


# ---- helpers ----

def join(srv, role, name):
    c = RoomClient(srv)
    r = c.request({"type": "join", "token": srv.token(ROOM, role, name)})
    check(f"{name} joins", r and r.get("type") == "joined", r)
    return c


def candidates(sdp):
    return re.findall(r"^a=(candidate:.*?)\r?$", sdp, re.M)


def timed_request(c, msg, timeout=15.0):
    t0 = time.monotonic()
    r = c.request(msg, timeout=timeout)
    return r, time.monotonic() - t0


def early_candidates(c):
    """Candidate messages that arrived before the reply just awaited."""
    return [m for m in c.inbox if m.get("type") == "candidate"]


def wait_candidates(c, pc, timeout):
    """The candidate messages for pc up to and including the null one."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = c.wait_for(lambda m: m.get("type") == "candidate" and m.get("pc") == pc,
                       max(0.05, deadline - time.monotonic()))
        if m is None:
            break
        got.append(m)
        if m.get("candidate") is None:
            break
    return got


def check_trickled_sdp(what, sdp, elapsed):
    cands = candidates(sdp or "")
    check(f"{what}: carries host candidates", any(" typ host" in c for c in cands), cands)
    check(f"{what}: no srflx yet (not waited for)", not any(" typ srflx" in c for c in cands), cands)
    check(f"{what}: no a=end-of-candidates", "a=end-of-candidates" not in (sdp or ""), sdp)
    check(f"{what}: a=ice-options:trickle", "a=ice-options:trickle" in (sdp or ""))
    print(f"  {what}: {elapsed * 1000:.0f} ms", flush=True)


def check_trickled(what, msgs, pc, mid, stream=None, expect_srflx=True):
    lines = [m.get("candidate") for m in msgs]
    # With ICE-TCP (on by default) libnice also derives TCP srflx
    # candidates from the same STUN mapping: one UDP srflx, TCP ones beside.
    srflx = [l for l in lines if l and " typ srflx" in l and " UDP " in l.upper()]
    tcp_srflx = [l for l in lines if l and " typ srflx" in l and " TCP " in l.upper()]
    check(f"{what}: TCP srflx candidates carry the same mapping",
          all(f" {MAPPED_IP} " in l for l in tcp_srflx), tcp_srflx)
    if expect_srflx:
        check(f"{what}: a srflx candidate trickled", len(srflx) == 1, msgs)
        check(f"{what}: srflx is the STUN server's mapping",
              bool(srflx) and f" {MAPPED_IP} " in srflx[0] and " raddr 127.0.0.1 " in srflx[0], srflx)
        check(f"{what}: srflx candidate first", bool(lines) and lines[0] is not None and " typ srflx" in lines[0], lines)
    else:
        check(f"{what}: no srflx candidate (STUN silent)", not srflx and not tcp_srflx, msgs)
    check(f"{what}: no host candidate trickled again",
          not any(l and " typ host" in l for l in lines), lines)
    check(f"{what}: ends with candidate null", bool(msgs) and msgs[-1].get("candidate", 0) is None, msgs)
    check(f"{what}: pc is {pc}", all(m.get("pc") == pc for m in msgs), msgs)
    check(f"{what}: mid {mid}", all(m.get("mid") == mid for m in msgs), msgs)
    if stream:
        check(f"{what}: names the stream", all(m.get("stream") == stream for m in msgs), msgs)


def first_mid(sdp):
    m = re.search(r"^a=mid:(\S+)", sdp or "", re.M)
    return m.group(1) if m else None


def whip(srv, stream):
    tok = srv.token(ROOM, "clinic", "whip-enc")
    t0 = time.monotonic()
    r = request(srv.host, srv.port, "POST", f"/whip/{ROOM}/{stream}",
                headers={"Authorization": "Bearer " + tok, "Content-Type": "application/sdp"},
                body=OFFER.encode(), timeout=20.0)
    return r, time.monotonic() - t0


# ---- with a STUN server that answers ----

def test_answering(srv):
    clinic = join(srv, "clinic", "clinic-1")
    r, dt = timed_request(clinic, {"type": "publish", "stream": "cam", "sdp": OFFER})
    check("publish -> answer", r and r.get("type") == "answer", r)
    sdp = (r or {}).get("sdp", "")
    check("no candidate before the answer", not early_candidates(clinic), clinic.inbox)
    check_trickled_sdp("publish answer", sdp, dt)
    got = wait_candidates(clinic, "publisher", 10.0)
    check_trickled("publisher", got, "publisher", first_mid(sdp), stream="cam")

    expert = join(srv, "expert", "dr-1")
    r, dt = timed_request(expert, {"type": "subscribe", "streams": ["cam", "ecg"]})
    check("subscribe -> offer", r and r.get("type") == "offer", r)
    offer = (r or {}).get("sdp", "")
    check("no subscriber candidate before the offer", not early_candidates(expert), expert.inbox)
    check_trickled_sdp("subscriber offer", offer, dt)
    got = wait_candidates(expert, "subscriber", 10.0)
    check_trickled("subscriber", got, "subscriber", first_mid(offer))

    # A re-offer on the same transport lists what was trickled, complete.
    a = expert.request({"type": "answer", "pc": "subscriber", "sdp": answer_for(offer)})
    check("subscriber answer -> ok", a and a.get("type") == "ok", a)
    r = clinic.request({"type": "publish", "stream": "ecg", "sdp": OFFER})
    check("second publish -> answer", r and r.get("type") == "answer", r)
    re_offer = expert.wait_for(lambda m: m.get("type") == "offer" and "ecg" in m.get("streams", []), 5.0)
    sdp2 = (re_offer or {}).get("sdp", "")
    check("re-offer carries the srflx candidate", any(" typ srflx" in c for c in candidates(sdp2)), sdp2)
    check("re-offer says a=end-of-candidates", "a=end-of-candidates" in sdp2, sdp2)
    check("re-offer: nothing trickled again",
          expert.wait_for(lambda m: m.get("type") == "candidate", 0.5) is None)

    # WHIP: complete answer, with the srflx candidate in it.
    r, dt = whip(srv, "door")
    body = r.body.decode() if r.status == 201 else ""
    check("WHIP -> 201", r.status == 201, r.brief())
    check("WHIP answer carries the srflx candidate", any(" typ srflx" in c for c in candidates(body)), body)
    check("WHIP answer says a=end-of-candidates", "a=end-of-candidates" in body, body)
    print(f"  WHIP answer: {dt * 1000:.0f} ms", flush=True)
    clinic.close()
    expert.close()


# ---- with a STUN server that never answers ----

def test_silent(srv):
    clinic = join(srv, "clinic", "clinic-2")
    r, ws_dt = timed_request(clinic, {"type": "publish", "stream": "cam", "sdp": OFFER})
    check("publish -> answer", r and r.get("type") == "answer", r)
    check(f"publish answer within {PROMPT_S} s of a silent STUN server", ws_dt < PROMPT_S, ws_dt)
    sdp = (r or {}).get("sdp", "")
    check_trickled_sdp("publish answer (silent STUN)", sdp, ws_dt)

    expert = join(srv, "expert", "dr-2")
    r, sub_dt = timed_request(expert, {"type": "subscribe", "streams": ["cam"]})
    check("subscribe -> offer", r and r.get("type") == "offer", r)
    check(f"subscriber offer within {PROMPT_S} s of a silent STUN server", sub_dt < PROMPT_S, sub_dt)
    check_trickled_sdp("subscriber offer (silent STUN)", (r or {}).get("sdp", ""), sub_dt)

    r, whip_dt = whip(srv, "door")
    body = r.body.decode() if r.status == 201 else ""
    check("WHIP -> 201", r.status == 201, r.brief())
    check("WHIP answer says a=end-of-candidates (complete)", "a=end-of-candidates" in body, body)
    check("WHIP answer waited for the STUN timeout", whip_dt > PROMPT_S, whip_dt)
    print(f"  silent STUN: /ws answer {ws_dt * 1000:.0f} ms, /ws offer {sub_dt * 1000:.0f} ms, "
          f"WHIP answer {whip_dt * 1000:.0f} ms", flush=True)

    # Gathering ends (after the STUN timeout) with end-of-candidates only.
    got = wait_candidates(clinic, "publisher", 20.0)
    check_trickled("publisher (silent STUN)", got, "publisher", first_mid(sdp), stream="cam",
                   expect_srflx=False)
    got = wait_candidates(expert, "subscriber", 20.0)
    check("subscriber (silent STUN): ends with candidate null",
          bool(got) and got[-1].get("candidate", 0) is None and len(got) == 1, got)

    # Closed before gathering ends: the late end-of-candidates is not sent.
    r = clinic.request({"type": "publish", "stream": "cam2", "sdp": OFFER})
    check("publish cam2 -> answer", r and r.get("type") == "answer", r)
    u = clinic.request({"type": "unpublish", "stream": "cam2"})
    check("unpublish cam2 -> ok", u and u.get("type") == "ok", u)
    late = clinic.wait_for(lambda m: m.get("type") == "candidate", 12.0)
    check("no candidate after unpublish", late is None, late)
    clinic.close()
    expert.close()


def run(art, stun, test):
    try:
        srv = Server.start(art, config={"media": {"stun_server": "127.0.0.1", "stun_port": stun.port}})
    except SetupError as e:
        print(f"SETUP {e}")
        return False
    try:
        test(srv)
        r = request(srv.host, srv.port, "GET", "/healthz")
        check("server healthy at the end", r.status == 200, r.brief())
    finally:
        problem = srv.stop()
        check("server stopped cleanly", problem is None, problem)
    return True


def main():
    test_stun_encoding()
    stun = StunServer(answer=True)
    try:
        if not run(artifact_dir("integration", "ws_trickle"), stun, test_answering):
            return 2
        check("the STUN server was asked", stun.requests > 0, stun.requests)
    finally:
        stun.stop()
    silent = StunServer(answer=False)
    try:
        if not run(artifact_dir("integration", "ws_trickle_silent"), silent, test_silent):
            return 2
        check("the silent STUN server was asked", silent.requests > 0, silent.requests)
    finally:
        silent.stop()
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
