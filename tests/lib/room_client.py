"""A scripted client of the room protocol (/ws, docs/protocol.md), for tests.

Built on Debian's python3-websocket (websocket-client). Messages that arrive
while the test waits for something else are kept, so a test can ask for
"the next stream-started event" without racing the server.

    c = RoomClient(srv, "/ws")
    joined = c.request({"type": "join", "token": tok})     # waits for its reply
    ev = c.wait_for("stream-started")
    c.close()
"""
import json
import os
import ssl
import time

import websocket


class RoomClient:
    def __init__(self, srv, path="/ws", timeout=5.0):
        tls = getattr(srv, "tls", None)
        self.url = f"{'wss' if tls else 'ws'}://{srv.host}:{srv.port}{path}"
        # The tests' certificates are self-signed.
        sslopt = {"cert_reqs": ssl.CERT_NONE, "check_hostname": False} if tls else None
        self.ws = websocket.create_connection(self.url, timeout=timeout, sslopt=sslopt)
        self.inbox = []
        self.next_id = 1
        self.closed = None        # (code, reason) once the server closed

    def send_raw(self, data, binary=False):
        if binary:
            self.ws.send_binary(data)
        else:
            self.ws.send(data)

    def send(self, msg):
        self.ws.send(json.dumps(msg))

    def _read_one(self, deadline):
        self.ws.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            op, data = self.ws.recv_data(control_frame=False)
        except websocket.WebSocketTimeoutException:
            return None
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            self.closed = self.closed or (None, "connection lost")
            return None
        if op == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            self.closed = (code, data[2:].decode(errors="replace"))
            return None
        return json.loads(data)

    def wait_for(self, pred, timeout=5.0):
        """The first message (kept or new) for which pred(msg) is true; pred may be a
        type name. Returns None on timeout or when the connection closed."""
        if isinstance(pred, str):
            want = pred
            pred = lambda m: m.get("type") == want  # noqa: E731
        for i, m in enumerate(self.inbox):
            if pred(m):
                return self.inbox.pop(i)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed:
            m = self._read_one(deadline)
            if m is None:
                continue
            if pred(m):
                return m
            self.inbox.append(m)
        return None

    def request(self, msg, timeout=5.0):
        """Sends msg with a fresh id and returns the reply that names it ("re")."""
        rid = self.next_id
        self.next_id += 1
        self.send(dict(msg, id=rid))
        return self.wait_for(lambda m: m.get("re") == rid, timeout)

    def drain(self, seconds=0.3):
        """Reads for a moment; returns everything kept so far and forgets it."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.closed:
            m = self._read_one(deadline)
            if m is not None:
                self.inbox.append(m)
        out, self.inbox = self.inbox, []
        return out

    def wait_closed(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed:
            m = self._read_one(deadline)
            if m is not None:
                self.inbox.append(m)
        return self.closed

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


def answer_for(offer):
    """A syntactically complete answer to the server's offer (a subscriber
    connection), accepting every live section: for tests of the signaling,
    with no ICE or DTLS behind it."""
    fpr = ":".join(f"{b:02X}" for b in os.urandom(32))
    out = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0"]
    out += [line for line in offer.split("\r\n") if line.startswith("a=group:BUNDLE")]
    for sec in offer.split("\r\nm=")[1:]:
        lines = ("m=" + sec).split("\r\n")
        mline = lines[0].split()
        mid = next(line[6:] for line in lines if line.startswith("a=mid:"))
        port = "0" if mline[1] == "0" else "9"
        out += [f"m={mline[0][2:]} {port} {mline[2]} {' '.join(mline[3:])}", "c=IN IP4 0.0.0.0", f"a=mid:{mid}"]
        if port == "0":
            continue
        out += ["a=recvonly", "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx",
                f"a=fingerprint:sha-256 {fpr}", "a=setup:active", "a=rtcp-mux"]
        out += [line for line in lines if line.startswith(("a=rtpmap:", "a=fmtp:", "a=extmap:"))]
    return "\r\n".join(out) + "\r\n"
