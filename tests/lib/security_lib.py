"""Shared helpers of the security tests (tests/integration/security_*_test.py).

Built on medrelay_harness (the server, HTTP over raw sockets, JWTs) and
room_client (the /ws client); standard library + python3-websocket only.

    s = Suite("security_http")                   # artifacts in tests/artifacts/integration/security_http/
    srv = s.start()                              # a server, stopped (and its stop checked) at the end
    s.check("F4 ... → 431", lambda: expect_error(call(srv, "GET", "/"), 431, "bad-request"))
    sys.exit(s.main(run))                        # watchdog, summary, exit code

Each check is a function that raises Fail(message) when the server's answer
is not the expected one; the message says what was expected and what came.
The script exits 0 when every check passed, 1 when one failed, 2 when the
test could not run, 3 when the watchdog fired.
"""
import hashlib
import hmac
import json
import os
import re
import select
import signal
import socket
import sys
import time
import traceback
from urllib.parse import urljoin, urlsplit

sys.dont_write_bytecode = True  # no __pycache__ in tests/lib
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from medrelay_harness import (HttpError, Server, SetupError, artifact_dir, b64url, call,  # noqa: E402,F401
                              hs256_token, read_sdp, request)
from room_client import RoomClient  # noqa: E402,F401

SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"
WHIP_OFFER = read_sdp("chromium_whip_sendonly.sdp")
WHEP_OFFER = read_sdp("chromium_whep_recvonly.sdp")
# A body that is not SDP: a request whose token passes gets 400 bad-sdp,
# one whose token is refused 401, and no session is ever created.
NOT_SDP = b"this is not an SDP offer\r\n"


class Fail(Exception):
    """A check's expectation was not met."""


class Watchdog(BaseException):
    """The whole file took too long (BaseException: not swallowed by the checks)."""


# ---- the suite: named checks, servers, summary ----

class Suite:
    def __init__(self, name, watchdog_s=100):
        self.name = name
        self.watchdog_s = watchdog_s
        self.art = artifact_dir("integration", name)
        self.results = []          # (name, ok, message)
        self.servers = []          # (label, Server) still to stop
        self.t0 = time.monotonic()

    # -- servers --

    def start(self, label="main", config=None, **kw):
        """A server whose log goes to <art>/<label>/medrelay.log (main: <art>/medrelay.log).
        Raises SetupError like Server.start."""
        d = self.art if label == "main" else os.path.join(self.art, label)
        os.makedirs(d, exist_ok=True)
        srv = Server.start(d, config=config, **kw)
        self.servers.append((label, srv))
        return srv

    def stop(self, srv):
        """Stops srv and records whether it stopped cleanly (no sanitizer report)."""
        for i, (label, s) in enumerate(self.servers):
            if s is srv:
                del self.servers[i]
                problem = srv.stop()
                self._record(f"P the {label} server stops cleanly on SIGTERM", problem is None, problem or "")
                return problem
        return srv.stop()

    # -- checks --

    def check(self, name, fn, srv=None):
        """Runs fn(); PASS unless it raises. srv: a server that must still be running after."""
        t = time.monotonic()
        try:
            fn()
            ok, msg = True, ""
        except Fail as e:
            ok, msg = False, str(e)
        except HttpError as e:
            ok, msg = False, f"no HTTP response: {e}"
        except Exception as e:  # a bug in the test or an odd answer: this check's failure
            where = traceback.extract_tb(e.__traceback__)[-1]
            ok, msg = False, f"{type(e).__name__}: {e} (at line {where.lineno})"
        for label, s in self.servers:
            if (srv is None or s is srv) and not s.alive():
                ok = False
                msg = (msg + "; " if msg else "") + f"the {label} server is no longer running ({s.proc.returncode})"
                break
        dt = time.monotonic() - t
        self._record(name, ok, msg, dt)
        return ok

    def fail(self, name, msg):
        self._record(name, False, msg)

    def _record(self, name, ok, msg, dt=None):
        self.results.append((name, ok, msg))
        took = f" ({dt:.1f} s)" if dt is not None and dt >= 2 else ""
        print(("PASS " if ok else "FAIL ") + name + took + ("" if ok else f"\n     -- {msg}"), flush=True)

    # -- main --

    def main(self, body):
        def on_alarm(signum, frame):
            raise Watchdog()

        def on_term(signum, frame):
            raise KeyboardInterrupt()
        signal.signal(signal.SIGALRM, on_alarm)
        signal.signal(signal.SIGTERM, on_term)
        signal.alarm(self.watchdog_s)
        code = None
        try:
            body(self)
        except SetupError as e:
            print(f"SETUP FAIL {self.name}: {e}", flush=True)
            code = 2
        except Watchdog:
            print(f"FAIL {self.name}: watchdog: not finished within {self.watchdog_s} s", flush=True)
            code = 3
        except KeyboardInterrupt:
            print(f"FAIL {self.name}: interrupted", flush=True)
            code = 1
        finally:
            signal.alarm(0)
            for label, srv in list(self.servers):
                self.stop(srv)
        failed = [r for r in self.results if not r[1]]
        print(f"\n{self.name}: {len(self.results) - len(failed)} passed, {len(failed)} failed of "
              f"{len(self.results)} checks in {time.monotonic() - self.t0:.1f} s; artifacts in {self.art}")
        if failed:
            print("failed checks:")
            for name, _, msg in failed:
                print(f"  - {name}: {msg}")
        if code is not None:
            return code
        return 1 if failed else 0


# ---- HTTP (requests: medrelay_harness.call) ----

def expect_error(r, status, codes, detail_re=None):
    """status and {"error": one of codes, "detail": str} (detail matching detail_re, case-insensitive)."""
    codes = (codes,) if isinstance(codes, str) else tuple(codes)
    if r.status != status:
        raise Fail(f"expected {status} {'/'.join(codes)}, got {r.brief()}")
    j = r.json()
    if not isinstance(j, dict) or not isinstance(j.get("error"), str) or not isinstance(j.get("detail"), str):
        raise Fail(f"status {status} is right but the body is not {{\"error\": str, \"detail\": str}}: {r.brief()}")
    if j["error"] not in codes:
        raise Fail(f"status {status} is right but error is {j['error']!r}, expected {' or '.join(codes)}: "
                   f"{r.brief()}")
    if detail_re and not re.search(detail_re, j["detail"], re.I):
        raise Fail(f"{status} {j['error']} is right but the detail {j['detail']!r} does not match /{detail_re}/")
    return j


def expect_status(r, statuses, what=""):
    statuses = (statuses,) if isinstance(statuses, int) else tuple(statuses)
    if r.status not in statuses:
        raise Fail(f"{what}expected {' or '.join(map(str, statuses))}, got {r.brief()}")
    return r


def session_path(srv, location, post_path):
    """The path of a Location header, resolved against the POST URL."""
    if not location:
        raise Fail("201 without a Location header")
    u = urlsplit(urljoin(f"{srv.url}{post_path}", location))
    return u.path + (f"?{u.query}" if u.query else "")


def whip_publish(srv, room, stream, token, kind="whip", offer=None):
    """POST a real offer; returns the session path. Raises Fail unless 201."""
    post = f"/{kind}/{room}/{stream}"
    r = call(srv, "POST", post, token=token, ctype=SDP,
             body=offer if offer is not None else (WHIP_OFFER if kind == "whip" else WHEP_OFFER))
    expect_status(r, 201, f"{kind.upper()} POST {post}: ")
    return session_path(srv, r.header("Location"), post)


def sdpfrag(candidate_port, ufrag=None, pwd=None):
    """A trickle-ICE fragment (RFC 8840) with one host candidate, for the WHIP offer's credentials."""
    text = WHIP_OFFER.decode()
    ufrag = ufrag or re.search(r"^a=ice-ufrag:(\S+)", text, re.M).group(1)
    pwd = pwd or re.search(r"^a=ice-pwd:(\S+)", text, re.M).group(1)
    return (f"a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
            f"a=candidate:1 1 udp 2122194687 127.0.0.1 {candidate_port} typ host generation 0\r\n"
            "a=end-of-candidates\r\n").encode()


def no_media_offer():
    """A valid SDP session part (v, o, s, t, ICE credentials, fingerprint, setup) without any m= line."""
    text = WHIP_OFFER.decode()
    keep = [line for line in text.split("\r\n")
            if line.startswith(("v=", "o=", "s=", "t=", "a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:",
                                "a=setup:"))]
    out, seen = [], set()
    for line in keep:                      # the offer repeats them per m-section: once each
        key = line.split(":", 1)[0] if line.startswith("a=") else line[:2]
        if key not in seen:
            seen.add(key)
            out.append(line)
    return ("\r\n".join(out) + "\r\n").encode()


# ---- raw HTTP exchanges ----

def raw_exchange(srv, data, timeout=4.0, chunk=1024):
    """Sends data (bytes) on a fresh connection, in chunks, stopping early if the server answers
    (so that a server that refuses early is heard rather than reset), then reads until the
    server closes or timeout. Returns (received bytes, closed) where closed tells whether the
    server closed the connection (EOF or reset) within timeout."""
    deadline = time.monotonic() + timeout
    s = socket.create_connection((srv.host, srv.port), timeout=timeout)
    got = b""
    closed = False
    try:
        off = 0
        while off < len(data):
            r, _, _ = select.select([s], [], [], 0)
            if r:
                break
            try:
                off += s.send(data[off:off + chunk])
            except (BrokenPipeError, ConnectionResetError):
                break
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            s.settimeout(remaining)
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not b:
                closed = True
                break
            got += b
    finally:
        s.close()
    return got, closed


def parse_responses(data):
    """The HTTP/1.1 responses in a byte stream, in order: [(status, {header: value}, body)].
    A trailing incomplete response is returned with what there is of it."""
    out = []
    while data.startswith(b"HTTP/"):
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            out.append((_status(head), {}, b""))
            break
        lines = head.decode("iso-8859-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                k = k.strip().lower()
                headers[k] = (headers[k] + ", " + v.strip()) if k in headers else v.strip()
        status = _status(head)
        if status in (204, 304) or 100 <= status < 200:
            n = 0
        elif "content-length" in headers and headers["content-length"].isdigit():
            n = int(headers["content-length"])
        else:
            n = len(rest)
        out.append((status, headers, rest[:n]))
        data = rest[n:]
    return out


def _status(head):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(m.group(1)) if m else 0


def raw_brief(data, closed):
    return f"{data[:300]!r}{' (then closed)' if closed else ' (connection left open)'}"


def expect_raw_error(data, closed, status, code, must_close=False):
    """The first response of a raw exchange is status with {"error": code}; with must_close, the
    server closed the connection after it."""
    resp = parse_responses(data)
    if not resp:
        raise Fail(f"expected {status} {code}, got no HTTP response: {raw_brief(data, closed)}")
    st, hdrs, body = resp[0]
    if st != status:
        raise Fail(f"expected {status} {code}, got {raw_brief(data, closed)}")
    try:
        j = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError):
        j = None
    if not isinstance(j, dict) or j.get("error") != code:
        raise Fail(f"status {status} is right but the body is not {{\"error\": \"{code}\", ...}}: "
                   f"{raw_brief(data, closed)}")
    if must_close and not closed:
        raise Fail(f"{status} {code} is right but the server left the connection open")
    return resp


# ---- tokens ----

def claims(room, role, sub, ttl=600, **extra):
    now = int(time.time())
    c = {"room": room, "role": role, "sub": sub, "exp": now + ttl}
    c.update(extra)
    return c


def jwt_raw(secret, header_json, payload_json, digest=hashlib.sha256):
    """A JWT over header and payload given as JSON text (so that keys may repeat), MAC'd with
    secret (str or bytes) with digest."""
    signing_input = b64url(header_json) + "." + b64url(payload_json)
    key = secret.encode() if isinstance(secret, str) else secret
    return signing_input + "." + b64url(hmac.new(key, signing_input.encode(), digest).digest())


def with_payload(token, new_claims):
    """token with its payload replaced by new_claims, keeping its header and signature."""
    h, _, s = token.split(".")
    return h + "." + b64url(json.dumps(new_claims, separators=(",", ":"))) + "." + s


def token_parts_in(text, tokens):
    """The tokens (or their signatures) that occur in text."""
    found = []
    for t in tokens:
        if not t:
            continue
        sig = t.rsplit(".", 1)[-1]
        if t in text or (len(sig) >= 16 and sig in text):
            found.append(t[:24] + "...")
    return found


# ---- /ws ----

def ws_join(srv, token, room=None, timeout=5.0):
    """A new /ws connection that sends join; returns (client, reply)."""
    c = RoomClient(srv, timeout=timeout)
    msg = {"type": "join", "token": token}
    if room is not None:
        msg["room"] = room
    return c, c.request(msg, timeout=timeout)


def is_error(m, code):
    return bool(m) and m.get("type") == "error" and m.get("code") == code


def expect_ws_error(m, code, what=""):
    if not is_error(m, code):
        raise Fail(f"{what}expected an error with code {code!r}, got {json.dumps(m)[:300] if m else m}")
    return m


def expect_joined(m, what=""):
    if not (m and m.get("type") == "joined"):
        raise Fail(f"{what}expected joined, got {json.dumps(m)[:300] if m else m}")
    return m


def closing(*clients):
    for c in clients:
        if c is not None:
            c.close()


# ---- the audit trail ----

class AuditFile:
    """Reads the JSON lines a server appends to its audit log, from where the last read ended."""

    def __init__(self, path):
        self.path = path
        self.pos = 0

    def mark(self):
        self.pos = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def read_new(self, wait=0.0, want=1):
        """The complete lines appended since the last read (waiting up to wait seconds for at
        least want of them), parsed; a line that is not JSON is returned as {"_raw": text}."""
        deadline = time.monotonic() + wait
        while True:
            text = ""
            if os.path.exists(self.path):
                with open(self.path, "rb") as f:
                    f.seek(self.pos)
                    text = f.read().decode("utf-8", "replace")
            complete = text[:text.rfind("\n") + 1] if "\n" in text else ""
            lines = [ln for ln in complete.split("\n") if ln.strip()]
            if len(lines) >= want or time.monotonic() >= deadline:
                self.pos += len(complete.encode("utf-8"))
                out = []
                for ln in lines:
                    try:
                        out.append(json.loads(ln))
                    except ValueError:
                        out.append({"_raw": ln})
                return out
            time.sleep(0.05)

    def all(self):
        if not os.path.exists(self.path):
            return []
        out = []
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for ln in f:
                if ln.strip():
                    try:
                        out.append(json.loads(ln))
                    except ValueError:
                        out.append({"_raw": ln.rstrip("\n")})
        return out


# ---- recordings (for the download probes) ----

def seed_recording(root, room, rec_id, segment, stream, start, end, media, ext="webm"):
    """A finished recording in the recorder's layout (docs/api.md): the media file and its JSON
    sidecar under <root>/<room>/<date>/. Returns the media path."""
    folder = os.path.join(root, room, start[:10])
    os.makedirs(folder, exist_ok=True)
    name = f"{stream}_{start[:19].replace('-', '').replace(':', '')}Z_{rec_id[:8]}"
    if segment:
        name += f"_{segment}"
    media_path = os.path.join(folder, f"{name}.{ext}")
    with open(media_path, "wb") as f:
        f.write(media)
    side = {"id": rec_id, "room": room, "stream": stream, "publisher": f"{stream}-publisher",
            "state": "complete", "error": "", "file": f"{name}.{ext}",
            "container": "webm" if ext == "webm" else "matroska",
            "codecs": {"audio": "opus", "video": "VP8"}, "width": 320, "height": 240,
            "start": start, "end": end, "segment": segment, "dropped_packets": 0, "duration_s": 60,
            "size": len(media), "sha256": hashlib.sha256(media).hexdigest()}
    with open(os.path.join(folder, name + ".json"), "w") as f:
        json.dump(side, f)
    return media_path
