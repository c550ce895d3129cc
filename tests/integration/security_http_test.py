#!/usr/bin/python3
"""Security: the HTTP edges (issue 13, findings 4 to 8) and the HTTP probes.

  F4  request heads: an over-long token, heads over 8 KB (431), long
      targets (414), %00 and bad escapes in paths, Content-Length abuse
      (duplicates, lists, signs, hex, with chunked; a smuggling probe),
      zero-padded Content-Length
  F5  the token lifetime cap ([auth] max_token_ttl, default 86400 s) on
      HTTP, /ws and `medrelay token --ttl`
  F6  /metrics needs an operator token for "*" by default; with
      metrics_loopback_open a loopback request still needs one when it came
      through a same-host proxy (X-Forwarded-For, Forwarded, X-Real-IP)
  F7  the sub grammar [A-Za-z0-9._@:+-]{1,128}, on HTTP, /ws and the CLI
  F8  an SDP offer without any media section is bad-sdp (WHIP, WHEP, /ws)
  P   path traversal, range requests on a signed recording download, and a
      client that trickles its request head one byte a second (run in the
      background while the other checks go on)

Heads are sent on raw sockets, exactly as written here. Three servers: the
main one (defaults, a record directory seeded with one small recording and
its sidecar), one with [auth] max_token_ttl = 600 and one with
[server] metrics_loopback_open = true. Logs in
tests/artifacts/integration/security_http/ (and its ttl600/, loopback/).
    MEDRELAY_BIN=build/medrelay /usr/bin/python3 tests/integration/security_http_test.py
"""
import os
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from security_lib import (NOT_SDP, SDP, WHIP_OFFER, Fail, SetupError, Suite, call,  # noqa: E402
                          claims, expect_error, expect_joined, expect_raw_error, expect_status,
                          expect_ws_error, hs256_token, no_media_offer, parse_responses, raw_brief, raw_exchange,
                          request, seed_recording, session_path, whip_publish, ws_join)

ROOM = "ward-http"
REC_ID = "abcdefab12345678-1"
LIFETIME_RE = r"lifetime|ttl|too far|too long|max_token"


# ---- a client that trickles its head (runs in the background) ----

class SlowClient(threading.Thread):
    """Sends a request head one byte a second; notes when the server closes the connection."""

    def __init__(self, srv, limit_s=16.0):
        super().__init__(daemon=True)
        self.srv = srv
        self.limit_s = limit_s
        self.started = None
        self.closed_after = None
        self.sent = 0
        self.got = b""
        self.error = None

    def run(self):
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100 + b"\r\n\r\n"
        try:
            s = socket.create_connection((self.srv.host, self.srv.port), timeout=2)
        except OSError as e:
            self.error = str(e)
            return
        self.started = time.monotonic()
        try:
            while time.monotonic() - self.started < self.limit_s:
                try:
                    s.send(head[self.sent:self.sent + 1])
                    self.sent += 1
                except OSError:
                    self.closed_after = time.monotonic() - self.started
                    return
                r, _, _ = select.select([s], [], [], 1.0)
                if r:
                    try:
                        b = s.recv(4096)
                    except OSError:
                        b = b""
                    if not b:
                        self.closed_after = time.monotonic() - self.started
                        return
                    self.got += b
        finally:
            s.close()


# ---- F4 ----

def raw_whip(token, cl_lines, body, close=True, path=f"/whip/{ROOM}/cl-cam"):
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/sdp\r\n" + "".join(f"{x}\r\n" for x in cl_lines) +
            ("Connection: close\r\n" if close else "") + "\r\n")
    return head.encode() + body


def f4(s, srv):
    tok = srv.token(ROOM, "clinic", "cart-h")

    for n in (5000, 7000):
        long_tok = (secrets.token_urlsafe(n) * 2)[:n]

        def too_long(long_tok=long_tok):
            j = expect_error(call(srv, "GET", "/api/rooms", auth="Bearer " + long_tok), 401, "unauthorized",
                             detail_re="too long")
            if "missing" in j["detail"].lower():
                raise Fail(f"the detail says the token is missing: {j['detail']!r}")
        s.check(f"F4 an Authorization header with a {n}-character token → 401 unauthorized 'too long' "
                "(not 'missing')", too_long)

    def big_head(extra, what):
        def fn():
            data, closed = raw_exchange(srv, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + extra +
                                        b"Connection: close\r\n\r\n")
            expect_raw_error(data, closed, 431, "bad-request")
        s.check(f"F4 a request head over 8 KB ({what}) → 431 bad-request (JSON)", fn)
    big_head(b"X-Pad: " + b"a" * 9000 + b"\r\n", "one 9000-byte X-Pad header")
    big_head(b"".join(b"X-Pad-%d: " % i + b"b" * 4000 + b"\r\n" for i in range(3)), "three 4000-byte headers")
    big_head(b"X-Pad: " + b"c" * 20000 + b"\r\n", "one 20 KB header")

    def long_target(n, status):
        def fn():
            data, closed = raw_exchange(srv, b"GET /" + b"t" * (n - 1) + b" HTTP/1.1\r\nHost: x\r\n"
                                        b"Connection: close\r\n\r\n")
            expect_raw_error(data, closed, status, "bad-request")
        return fn
    s.check("F4 a request target of 9000 characters → 431 bad-request", long_target(9000, 431))
    s.check("F4 a request target of 2000 characters (head under 8 KB) → 414 bad-request", long_target(2000, 414))
    s.check("F4 the server keeps serving after the oversized heads (/healthz → 200)",
            lambda: expect_status(call(srv, "GET", "/healthz"), 200))

    for method, path in (("POST", "/whip/ro%00om/cam"), ("GET", "/%00"), ("GET", "/whip/room/%00x"),
                         ("POST", "/whip/r%zzm/cam")):
        what = "an invalid escape" if "%zz" in path else "%00"
        s.check(f"F4 {what} in the path: {method} {path} → 400 bad-request",
                lambda method=method, path=path: expect_error(
                    call(srv, method, path, token=tok, ctype=SDP if method == "POST" else None,
                         body=NOT_SDP if method == "POST" else None), 400, "bad-request"))

    def cl_case(what, cl_lines, body, must_close=False, **kw):
        def fn():
            data, closed = raw_exchange(srv, raw_whip(tok, cl_lines, body, close=not must_close), timeout=3)
            expect_raw_error(data, closed, 400, "bad-request", must_close=must_close)
        s.check(f"F4 {what} → 400 bad-request" + (" and the connection is closed" if must_close else ""), fn)
    cl_case("two Content-Length headers with different values (5 and 6)",
            ["Content-Length: 5", "Content-Length: 6"], b"hello!", must_close=True)
    cl_case("'Content-Length: 5, 6'", ["Content-Length: 5, 6"], b"hello!")
    cl_case("Content-Length with 'Transfer-Encoding: chunked'",
            ["Content-Length: 5", "Transfer-Encoding: chunked"], b"5\r\nhello\r\n0\r\n\r\n")
    for v in ("+5", "-1", "5a", "0x10"):
        cl_case(f"'Content-Length: {v}'", [f"Content-Length: {v}"], b"hello")

    def cl_accepted(cl_values, what):
        def fn():
            data, closed = raw_exchange(srv, raw_whip(tok, [f"Content-Length: {v}" for v in cl_values],
                                                      WHIP_OFFER, path=f"/whip/{ROOM}/cl-ok"), timeout=5)
            resp = parse_responses(data)
            if not resp or resp[0][0] != 201:
                raise Fail(f"expected 201, got {raw_brief(data, closed)}")
            loc = resp[0][1].get("location")
            if loc:
                call(srv, "DELETE", session_path(srv, loc, f"/whip/{ROOM}/cl-ok"), token=tok)
        s.check(f"F4 {what} carrying a real WHIP offer → 201", fn)
    n = len(WHIP_OFFER)
    cl_accepted([str(n), str(n)], "two identical Content-Length headers (RFC 9112 §6.3)")
    cl_accepted([str(n).zfill(40)], "a Content-Length zero-padded to 40 characters")

    def smuggle():
        payload = (raw_whip(tok, ["Content-Length: 5", "Content-Length: 6"], b"hello!", close=False) +
                   b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        data, closed = raw_exchange(srv, payload, timeout=3, chunk=len(payload))
        resp = parse_responses(data)
        if [r[0] for r in resp] != [400] or not closed:
            raise Fail(f"expected exactly one response (400) and then the connection closed; got statuses "
                       f"{[r[0] for r in resp]}, {'closed' if closed else 'left open'}: {data[:400]!r}")
        expect_raw_error(data, closed, 400, "bad-request")
    s.check("F4 smuggling probe: conflicting Content-Lengths + a pipelined GET /metrics in one write → "
            "one 400 and the connection closes", smuggle)

    def padded_too_large():
        body = b"v=0\r\n" + b"a=x-pad:" + b"p" * 70000 + b"\r\n"
        r = request(srv.host, srv.port, "POST", f"/whip/{ROOM}/cl-big",
                    [("Authorization", f"Bearer {tok}"), ("Content-Type", SDP),
                     ("Content-Length", str(len(body)).zfill(40))], body)
        expect_error(r, 413, "too-large")
    s.check("F4 a 70 KB body announced with a 40-character zero-padded Content-Length → 413 too-large",
            padded_too_large)


# ---- F5 ----

def cli(srv, *args):
    return subprocess.run([srv.bin, "token", "--config", srv.config_path, "--room", ROOM, "--role", "clinic"] +
                          list(args), env=srv.env, capture_output=True, text=True, timeout=10)


def lifetime_checks(s, srv, cases, label):
    for what, exp, refused in cases:
        tok = hs256_token(srv.secret, dict(claims(ROOM, "clinic", "cart-ttl"), exp=exp))
        if refused:
            s.check(f"F5 {label}a token with {what} → WHIP 401 unauthorized naming the lifetime",
                    lambda tok=tok: expect_error(call(srv, "POST", f"/whip/{ROOM}/ttl-cam", token=tok, ctype=SDP,
                                                      body=NOT_SDP), 401, "unauthorized", detail_re=LIFETIME_RE))
        else:
            s.check(f"F5 {label}a token with {what} is accepted (WHIP → 400 bad-sdp, not 401)",
                    lambda tok=tok: expect_error(call(srv, "POST", f"/whip/{ROOM}/ttl-cam", token=tok, ctype=SDP,
                                                      body=NOT_SDP), 400, "bad-sdp"))

        def ws(tok=tok, refused=refused):
            c, r = ws_join(srv, tok)
            try:
                if refused:
                    expect_ws_error(r, "unauthorized")
                else:
                    expect_joined(r)
            finally:
                c.close()
        s.check(f"F5 {label}a token with {what} on /ws join → " + ("unauthorized" if refused else "joined"), ws)


def f5(s, srv, ttl_srv_or_error):
    now = int(time.time())
    lifetime_checks(s, srv, [("exp = 2**63-1", 2 ** 63 - 1, True),
                             ("exp = now + 86400 + 120", now + 86400 + 120, True),
                             ("exp = now + 86000", now + 86000, False)], "")

    def cli_long():
        r = cli(srv, "--ttl", "90000")
        if r.returncode != 2 or r.stdout.strip() or not r.stderr.strip():
            raise Fail(f"expected exit 2, nothing on stdout, a message on stderr; got exit {r.returncode}, "
                       f"stdout {r.stdout.strip()[:60]!r}, stderr {r.stderr.strip()[:200]!r}")
    s.check("F5 `medrelay token --ttl 90000` exits 2 with a message on stderr", cli_long)

    def cli_day():
        r = cli(srv, "--ttl", "86400")
        if r.returncode != 0 or r.stdout.count(".") != 2:
            raise Fail(f"exit {r.returncode}, stdout {r.stdout[:80]!r}, stderr {r.stderr[:200]!r}")
    s.check("F5 `medrelay token --ttl 86400` prints a token", cli_day)

    cases = [("exp = now + 3600", now + 3600, True), ("exp = now + 500", now + 500, False)]
    if isinstance(ttl_srv_or_error, str):
        for what, _, refused in cases:
            for where in ("WHIP", "/ws join"):
                s.fail(f"F5 max_token_ttl = 600: a token with {what} on {where} → " +
                       ("refused" if refused else "accepted"),
                       f"the server would not start with [auth] max_token_ttl = 600: {ttl_srv_or_error}")
        return
    lifetime_checks(s, ttl_srv_or_error, cases, "max_token_ttl = 600: ")


# ---- F6 ----

def f6(s, srv, open_srv):
    def scrape(server, token=None, headers=None):
        return call(server, "GET", "/metrics", token=token, headers=headers)
    s.check("F6 default config: GET /metrics from loopback without a token → 401 unauthorized",
            lambda: expect_error(scrape(srv), 401, "unauthorized"))
    s.check("F6 default config: GET /metrics with an operator token for '*' → 200",
            lambda: expect_status(scrape(srv, srv.token("*", "operator", "op-metrics")), 200))
    s.check("F6 default config: GET /metrics with an operator token for one room → 403 forbidden",
            lambda: expect_error(scrape(srv, srv.token(ROOM, "operator", "op-room")), 403, "forbidden"))
    s.check("F6 default config: GET /metrics with an expert token for '*' → 403 forbidden",
            lambda: expect_error(scrape(srv, srv.token("*", "expert", "dr-star")), 403, "forbidden"))
    if isinstance(open_srv, str):
        for what in ("without a token → 200", "with X-Forwarded-For → 401", "with Forwarded → 401",
                     "with X-Real-IP → 401", "through a proxy with an operator token → 200"):
            s.fail(f"F6 metrics_loopback_open = true: {what}", f"the server would not start: {open_srv}")
        return
    s.check("F6 metrics_loopback_open = true: loopback without a token → 200",
            lambda: expect_status(scrape(open_srv), 200))
    for name, value in (("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9"),
                        ("X-Real-IP", "203.0.113.9")):
        s.check(f"F6 metrics_loopback_open = true: loopback with '{name}: {value}' (a same-host proxy), no token "
                "→ 401", lambda name=name, value=value: expect_error(scrape(open_srv, headers={name: value}), 401,
                                                                     "unauthorized"))
    s.check("F6 metrics_loopback_open = true: through a proxy with an operator token for '*' → 200",
            lambda: expect_status(scrape(open_srv, open_srv.token("*", "operator", "op-m"),
                                         {"X-Forwarded-For": "203.0.113.9"}), 200))


# ---- F7 ----

def f7(s, srv):
    bad = [("U+202E (right-to-left override)", "dr\u202eevil"), ("U+2028 (line separator)", "dr\u2028x"),
           ("U+0085 (next line)", "dr\u0085x"), ("U+200B (zero-width space)", "dr\u200bx"),
           ("a space", "dr wang"), ("a tab", "dr\twang"), ("'<script>'", "<script>alert(1)</script>"),
           ("'é'", "dr-andré"), ("'王'", "dr-王"), ("129 characters", "a" * 129)]
    good = [("'dr.wang@hospital-3.cn'", "dr.wang@hospital-3.cn"), ("'urn:his:1234'", "urn:his:1234"),
            ("'a+b_c-d'", "a+b_c-d"), ("128 characters", "b" * 128)]
    for what, sub in bad:
        tok = hs256_token(srv.secret, claims(ROOM, "clinic", sub))
        s.check(f"F7 a sub with {what} → WHIP 401 unauthorized",
                lambda tok=tok: expect_error(call(srv, "POST", f"/whip/{ROOM}/sub-cam", token=tok, ctype=SDP,
                                                  body=NOT_SDP), 401, "unauthorized"))

        def ws(tok=tok):
            c, r = ws_join(srv, tok)
            try:
                expect_ws_error(r, "unauthorized")
            finally:
                c.close()
        s.check(f"F7 a sub with {what} → /ws join unauthorized", ws)
    for what, sub in good:
        tok = hs256_token(srv.secret, claims(ROOM, "clinic", sub))
        s.check(f"F7 the sub {what if len(sub) < 100 else what} is accepted (WHIP → 400 bad-sdp, not 401)",
                lambda tok=tok: expect_error(call(srv, "POST", f"/whip/{ROOM}/sub-cam", token=tok, ctype=SDP,
                                                  body=NOT_SDP), 400, "bad-sdp"))

        def ws(tok=tok, sub=sub):
            c, r = ws_join(srv, tok)
            try:
                expect_joined(r)
                if r["you"].get("sub") != sub:
                    raise Fail(f"joined as sub {r['you'].get('sub')!r}, expected {sub!r}")
            finally:
                c.close()
        s.check(f"F7 the sub {what} joins over /ws", ws)
    for name, want in (("a b", 2), ("é", 2), ("dr.wang@hospital-3.cn", 0)):
        def fn(name=name, want=want):
            r = cli(srv, "--name", name)
            if r.returncode != want or (want == 2 and r.stdout.strip()):
                raise Fail(f"expected exit {want}, got {r.returncode} (stdout {r.stdout.strip()[:60]!r}, "
                           f"stderr {r.stderr.strip()[:160]!r})")
        s.check(f"F7 `medrelay token --name {name!r}` exits {want}", fn)


# ---- F8 ----

def f8(s, srv):
    offer = no_media_offer()
    tok = srv.token(ROOM, "clinic", "cart-f8")

    def whip():
        r = call(srv, "POST", f"/whip/{ROOM}/empty-cam", token=tok, ctype=SDP, body=offer)
        if r.status == 201:
            call(srv, "DELETE", session_path(srv, r.header("Location"), f"/whip/{ROOM}/empty-cam"), token=tok)
        expect_error(r, 400, "bad-sdp")
    s.check("F8 a WHIP offer without any media section → 400 bad-sdp", whip)

    def whep():
        loc = whip_publish(srv, ROOM, "f8-cam", tok)
        try:
            r = call(srv, "POST", f"/whep/{ROOM}/f8-cam", token=srv.token(ROOM, "viewer", "v-f8"), ctype=SDP,
                     body=offer)
            if r.status == 201:
                call(srv, "DELETE", session_path(srv, r.header("Location"), f"/whep/{ROOM}/f8-cam"),
                     token=srv.token(ROOM, "viewer", "v-f8"))
            expect_error(r, 400, "bad-sdp")
        finally:
            call(srv, "DELETE", loc, token=tok)
    s.check("F8 a WHEP offer without any media section (to a published stream) → 400 bad-sdp", whep)

    def ws():
        c, j = ws_join(srv, srv.token(ROOM, "clinic", "cart-f8ws"))
        try:
            expect_joined(j)
            expect_ws_error(c.request({"type": "publish", "stream": "empty", "sdp": offer.decode()}), "bad-sdp")
        finally:
            c.close()
    s.check("F8 a /ws publish of an offer without any media section → error bad-sdp", ws)


# ---- probes ----

def traversal(s, srv):
    def no_leak(method, path, **kw):
        def fn():
            try:
                r = call(srv, method, path, **kw)
            except Exception as e:   # a closed connection leaks nothing
                print(f"     ({method} {path}: {e})", flush=True)
                return
            if r.status == 200 and (b"root:" in r.body or b"[auth]" in r.body or b"jwt" in r.body.lower()):
                raise Fail(f"a file from outside the web root was served: {r.brief()}")
            if r.status == 200:
                raise Fail(f"200 for a traversal path: {r.brief()}")
        return fn
    conf = srv.config_path.lstrip("/")
    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/clinic.html/../../../etc/passwd",
                 "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/..\\..\\etc\\passwd",
                 "/media/recordings/..%2f..%2fetc%2fpasswd", "/api/recordings/..%2f..%2fetc%2fpasswd",
                 "/" + "../" * 12 + conf, "/" + "%2e%2e%2f" * 12 + conf.replace("/", "%2f")):
        s.check(f"P path traversal: GET {path[:60]} → never 200 with a file from outside the web root",
                no_leak("GET", path, token=srv.token("*", "operator", "op-t")))
    # A name holding %2F is refused as a name (docs/architecture.md, "Limits known today": libwebsockets
    # decodes %2F into a separator, so POST answers 400 bad-name, other methods 404).
    s.check("P names with %2F: WHIP POST /whip/ward%2Fhttp/cam → 400 bad-name",
            lambda: expect_error(call(srv, "POST", "/whip/ward%2Fhttp/cam", ctype=SDP, body=NOT_SDP), 400,
                                 "bad-name"))
    s.check("P names with %2F: WHEP POST /whep/ward-http/a%2Fb → 400 bad-name",
            lambda: expect_error(call(srv, "POST", f"/whep/{ROOM}/a%2Fb", ctype=SDP, body=NOT_SDP), 400, "bad-name"))
    s.check("P names with %2F: WHIP POST /whip/..%2F../cam → 400 bad-name",
            lambda: expect_error(call(srv, "POST", "/whip/..%2F../cam", token=srv.token("*", "clinic", "c"),
                                      ctype=SDP, body=NOT_SDP), 400, "bad-name"))
    # The same decoding must not let an encoded "..%2F" climb out of a route into another one: a
    # reverse proxy that exposes only /whip/ and /whep/ would otherwise expose /api and /metrics.
    op = srv.token("*", "operator", "op-t")
    for path, marker in (("/whip/..%2F..%2Fapi/rooms", b'"rooms"'), ("/whep/..%2F..%2Fmetrics", b"# HELP"),
                         ("/whip/x/..%2F..%2F..%2Fapi%2Fstreams", b'"streams"')):
        def escape(path=path, marker=marker):
            r = call(srv, "GET", path, token=op)
            if r.status == 200 and marker in r.body:
                raise Fail(f"the request left /{path.split('/')[1]}/ and reached another route: {r.brief()[:160]}")
            if r.status < 400:
                raise Fail(f"expected a 4xx refusal, got {r.brief()[:160]}")
        s.check(f"P an encoded '..%2F' cannot leave its route: GET {path} (operator token) → 4xx, not that route",
                escape)


def read_response(sock):
    """Reads one whole response (by its Content-Length) from sock; returns (bytes, closed)."""
    got = b""
    while True:
        resp = parse_responses(got)
        if resp and len(resp[0][2]) >= int(resp[0][1].get("content-length") or 0) and b"\r\n\r\n" in got:
            return got, False
        try:
            b = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return got, True
        if not b:
            return got, True
        got += b


def keep_alive(s, srv):
    """A plain connection is checked once, before its first request: a second request on it must
    never be served with the first one's path (a browser loading the consoles reuses connections)."""
    def fn():
        sock = socket.create_connection((srv.host, srv.port), timeout=4)
        try:
            sock.sendall(b"GET /console.css HTTP/1.1\r\nHost: x\r\n\r\n")
            got, _ = read_response(sock)
            first = parse_responses(got)
            if not first or first[0][0] != 200 or not first[0][1].get("content-type", "").startswith("text/css"):
                raise Fail(f"GET /console.css: {raw_brief(got, False)}")
            try:
                sock.sendall(b"GET /clinic.html HTTP/1.1\r\nHost: x\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                return  # closed after one answer: fine
            more, closed = read_response(sock)
            second = parse_responses(more)
            if second and not second[0][1].get("content-type", "").startswith("text/html"):
                raise Fail(f"the second request on the connection got {raw_brief(more, closed)}")
        finally:
            sock.close()
    s.check("P keep-alive: a second request on a plain connection never gets the first one's file", fn)


def ranges(s, srv, data):
    st = {}

    def url():
        r = call(srv, "POST", f"/api/recordings/{REC_ID}/url", token=srv.token("*", "operator", "op-r"))
        expect_status(r, 200, "a signed URL: ")
        st["url"] = (r.json() or {}).get("url")
        if not st["url"]:
            raise Fail(f"no url in {r.brief()}")
        r = call(srv, "GET", st["url"])
        if r.status != 200 or r.body != data:
            raise Fail(f"GET of the signed URL: {r.status}, {len(r.body)} bytes, expected 200 with {len(data)}")
    s.check("P (setup) a signed download URL for a seeded recording serves the file", url)
    size = len(data)
    big = "1" + "0" * 25          # past 2**64

    def rng(header, status, crange=None, body=None):
        def fn():
            if "url" not in st:
                raise Fail("skipped: no signed URL")
            r = call(srv, "GET", st["url"], headers={"Range": header})
            if r.status != status or (crange is not None and r.header("Content-Range") != crange) or \
                    (body is not None and r.body != body):
                raise Fail(f"expected {status}{' ' + crange if crange else ''}"
                           f"{f' with {len(body)} bytes' if body is not None else ''}; got {r.status}, "
                           f"Content-Range {r.header('Content-Range')!r}, {len(r.body)} bytes")
        return fn
    s.check("P range: several ranges (bytes=0-1,5-6) → 200 with the whole file", rng("bytes=0-1,5-6", 200, None, data))
    s.check("P range: 16 overlapping whole-file ranges → 200, the file once (no amplification)",
            rng("bytes=" + ",".join(["0-"] * 16), 200, None, data))
    s.check("P range: 17 ranges (over the limit) → 200 with the whole file",
            rng("bytes=" + ",".join(f"{i}-{i}" for i in range(17)), 200, None, data))
    s.check("P range: a suffix range longer than the file (bytes=-99999999) → 206, the whole file",
            rng("bytes=-99999999", 206, f"bytes 0-{size - 1}/{size}", data))
    s.check("P range: an overflowing last-pos (bytes=0-1e25) → 206, clamped to the file",
            rng(f"bytes=0-{big}", 206, f"bytes 0-{size - 1}/{size}", data))
    s.check("P range: an overflowing suffix length (bytes=-1e25) → 206, the whole file",
            rng(f"bytes=-{big}", 206, f"bytes 0-{size - 1}/{size}", data))
    s.check("P range: an overflowing first-pos (bytes=1e25-) → 416 bytes */size",
            rng(f"bytes={big}-", 416, f"bytes */{size}"))
    s.check(f"P range: an unsatisfiable range (bytes={size}-) → 416 with Content-Range bytes */{size}",
            rng(f"bytes={size}-", 416, f"bytes */{size}"))
    s.check("P range: a bad unit (items=0-5) → 200 with the whole file", rng("items=0-5", 200, None, data))
    s.check("P range: last-pos before first-pos (bytes=9-2) → 200 with the whole file",
            rng("bytes=9-2", 200, None, data))
    s.check("P range: a negative first-pos (bytes=--5) → 200 with the whole file", rng("bytes=--5", 200, None, data))


def run(s):
    seed = tempfile.mkdtemp(prefix="medrelay-sec-seed-")
    try:
        root = os.path.join(seed, "recordings")
        data = os.urandom(10_000)
        seed_recording(root, ROOM, REC_ID.split("-")[0], 1, "cam", "2025-01-02T08:00:00Z", "2025-01-02T08:01:00Z",
                       data)
        srv = s.start(seed_record_dir=root)
    finally:
        shutil.rmtree(seed, ignore_errors=True)
    slow = SlowClient(srv)
    slow.start()
    try:
        ttl_srv = s.start("ttl600", config={"auth": {"max_token_ttl": 600}})
    except SetupError as e:
        ttl_srv = str(e).splitlines()[-1][:300]
    try:
        open_srv = s.start("loopback", config={"server": {"metrics_loopback_open": "true"}})
    except SetupError as e:
        open_srv = str(e).splitlines()[-1][:300]
    s.check("P slow client: /healthz is answered within 1 s while a client sends its head one byte a second",
            lambda: served_meanwhile(srv, slow))
    f4(s, srv)
    f5(s, srv, ttl_srv)
    f6(s, srv, open_srv)
    f7(s, srv)
    f8(s, srv)
    traversal(s, srv)
    keep_alive(s, srv)
    ranges(s, srv, data)
    s.check("P slow client: a connection sending one header byte a second is closed within 15 s",
            lambda: closed_in_time(slow))
    s.check("P medrelay answers /healthz after all of it", lambda: expect_status(call(srv, "GET", "/healthz"), 200))


def served_meanwhile(srv, slow):
    if slow.error:
        raise Fail(f"the slow client could not connect: {slow.error}")
    while time.monotonic() - slow.started < 3:
        time.sleep(0.1)
    if slow.closed_after is not None:
        return
    t = time.monotonic()
    expect_status(call(srv, "GET", "/healthz", timeout=3), 200)
    dt = time.monotonic() - t
    if dt > 1.0:
        raise Fail(f"/healthz took {dt:.2f} s while a client trickled its head ({slow.sent} bytes so far)")


def closed_in_time(slow):
    slow.join(timeout=max(0.0, 17 - (time.monotonic() - slow.started)))
    if slow.closed_after is None or slow.closed_after > 15:
        raise Fail(f"the connection was still open after {time.monotonic() - slow.started:.1f} s "
                   f"({slow.sent} bytes sent; got {slow.got[:120]!r})")
    print(f"     (closed after {slow.closed_after:.1f} s, {slow.sent} bytes sent, answer {slow.got[:60]!r})",
          flush=True)


if __name__ == "__main__":
    sys.exit(Suite("security_http").main(run))
