#!/usr/bin/python3
"""medrelay's HTTP contract: routes, the refusal table, the check order, CORS.

Starts the real server (MEDRELAY_BIN, default build/medrelay) on a free
port with a fresh secret, then runs one named check per row of the contract
(ARCHITECTURE.md section 1), printing PASS/FAIL lines, and exits
  0  every check passed
  1  at least one check failed
  2  the test could not run (no binary, the server would not start)
  3  the watchdog fired

Standard library only; run with /usr/bin/python3:
    MEDRELAY_BIN=build/medrelay /usr/bin/python3 tests/integration/http_contract_test.py

Sessions that need a real offer use tests/data/sdp/chromium_*.sdp: the
server answers without the peer ever connecting.
The server log is tests/artifacts/integration/http_contract/medrelay.log.
"""

import os
import random
import re
import secrets
import signal
import socket
import string
import sys
import time
import traceback
from urllib.parse import urljoin, urlsplit

sys.dont_write_bytecode = True  # no __pycache__ in tests/lib
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import (HttpError, Server, SetupError, artifact_dir, call,  # noqa: E402
                              hs256_token, read_sdp, request)

WATCHDOG_S = 100
ROOM = "clinic-7"
ORIGIN = "http://console.example.test"
MAX_BODY = 64 * 1024
SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"


class Fail(Exception):
    """A check's expectation was not met."""


class Watchdog(BaseException):
    """The whole test took too long (BaseException: not swallowed by the checks)."""


class Contract:
    def __init__(self, srv, art_dir):
        self.srv = srv
        self.art_dir = art_dir
        self.results = []          # (name, ok, message)
        self.errors_seen = []      # (what, Response) for every status >= 400
        self.session_shape = None  # a real session path, to derive unknown ones from
        self.whip_offer = read_sdp("chromium_whip_sendonly.sdp")
        self.whep_offer = read_sdp("chromium_whep_recvonly.sdp")
        self.server_died = None

    # ---- running checks ----

    def check(self, name, fn):
        if self.server_died is None and not self.srv.alive():
            self.server_died = name
        if self.server_died is not None:
            self.results.append((name, False, f"medrelay is not running (it died before '{self.server_died}')"))
            print(f"FAIL {name}: medrelay is not running", flush=True)
            return
        try:
            fn()
            self.results.append((name, True, ""))
            print(f"PASS {name}", flush=True)
        except Fail as e:
            self._fail(name, str(e))
        except HttpError as e:
            self._fail(name, f"no HTTP response: {e}")
        except Exception as e:  # a bug in the test, reported as this check's failure, briefly
            where = traceback.extract_tb(e.__traceback__)[-1]
            self._fail(name, f"{type(e).__name__}: {e} (at line {where.lineno})")

    def _fail(self, name, msg):
        if not self.srv.alive() and self.server_died is None:
            self.server_died = name
            msg += f" — and medrelay is no longer running ({self.srv.proc.returncode})"
        self.results.append((name, False, msg))
        print(f"FAIL {name}: {msg}", flush=True)

    # ---- requests ----

    def call(self, method, path, token=None, ctype=None, body=None, headers=None, auth=None, origin=None,
             timeout=5.0):
        r = call(self.srv, method, path, token, ctype, body, headers, auth, origin, timeout)
        if r.status >= 400:
            self.errors_seen.append((f"{method} {path}", r))
        return r

    def expect_error(self, r, status, codes, detail_has=None):
        """status and {"error": one of codes, "detail": str} (containing detail_has)."""
        codes = (codes,) if isinstance(codes, str) else tuple(codes)
        if r.status != status:
            raise Fail(f"expected {status} {'/'.join(codes)}, got {r.brief()}")
        j = r.json()
        if not isinstance(j, dict) or not isinstance(j.get("error"), str) or not isinstance(j.get("detail"), str):
            raise Fail(f"status {status} is right but the body is not {{\"error\": str, \"detail\": str}}: {r.brief()}")
        if j["error"] not in codes:
            raise Fail(f"status {status} is right but error is {j['error']!r}, expected {' or '.join(codes)}")
        if detail_has and detail_has not in j["detail"]:
            raise Fail(f"the detail {j['detail']!r} does not say {detail_has!r}")

    def expect_status(self, r, statuses, what=""):
        statuses = (statuses,) if isinstance(statuses, int) else tuple(statuses)
        if r.status not in statuses:
            raise Fail(f"{what}expected {' or '.join(map(str, statuses))}, got {r.brief()}")

    # ---- helpers ----

    def padded_offer(self, size):
        """The Chromium WHIP offer padded with a=x-pad lines (100 to 200 bytes each) to exactly size bytes."""
        sdp = self.whip_offer
        need = size - len(sdp)
        assert need >= 200, "padded_offer is for sizes well above the offer's"
        lines = []
        while need > 400:
            lines.append(200)
            need -= 200
        lines += [need // 2, need - need // 2]
        return sdp + b"".join(b"a=x-pad:" + b"p" * (n - 10) + b"\r\n" for n in lines)

    def session_path(self, location, post_path):
        """The path of a Location header, resolved against the POST URL; it must stay on this server."""
        if not location:
            raise Fail("201 without a Location header")
        absolute = urljoin(f"{self.srv.url}{post_path}", location)
        u = urlsplit(absolute)
        if (u.hostname, u.port) != (self.srv.host, self.srv.port):
            raise Fail(f"Location {location!r} points to another server ({absolute})")
        return u.path + (f"?{u.query}" if u.query else "")

    def unknown_session(self):
        """A session path shaped like a real one (last segment replaced by random characters)."""
        if self.session_shape:
            head, _, last = self.session_shape.rpartition("/")
            alphabet = "0123456789abcdef" if re.fullmatch(r"[0-9a-f]+", last) else string.ascii_letters + string.digits
            fake = "".join(random.choice(alphabet) for _ in range(max(len(last), 8)))
            return f"{head}/{fake}"
        return f"/whip/{ROOM}/cam/{secrets.token_hex(12)}"

    def sdpfrag(self, candidate_port, ufrag=None, pwd=None):
        """A trickle-ICE fragment (RFC 8840) with one more host candidate: for the WHIP offer's ICE
        credentials (trickle), or for new ones (an ICE restart, RFC 9725 section 4.4)."""
        text = self.whip_offer.decode()
        ufrag = ufrag or re.search(r"^a=ice-ufrag:(\S+)", text, re.M).group(1)
        pwd = pwd or re.search(r"^a=ice-pwd:(\S+)", text, re.M).group(1)
        return (f"a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
                f"a=candidate:1 1 udp 2122194687 127.0.0.1 {candidate_port} typ host generation 0\r\n"
                "a=end-of-candidates\r\n").encode()


NOT_CODECS = {"rtx", "red", "ulpfec", "flexfec-03", "cn", "telephone-event"}


def sdp_sections(sdp):
    """(session lines, [(kind, lines)]) of an SDP given as bytes or str."""
    text = sdp.decode() if isinstance(sdp, bytes) else sdp
    session, media = [], []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        if line.startswith("m="):
            media.append((line[2:].split(" ", 1)[0], [line]))
        elif media:
            media[-1][1].append(line)
        else:
            session.append(line)
    return session, media


def sdp_codecs(sdp):
    """{kind: set of codec names (lower case)} named in a=rtpmap, leaving out rtx, red, FEC, CN, DTMF."""
    out = {}
    for kind, lines in sdp_sections(sdp)[1]:
        for line in lines:
            m = re.match(r"a=rtpmap:\d+ ([^/]+)/", line)
            if m and m.group(1).lower() not in NOT_CODECS:
                out.setdefault(kind, set()).add(m.group(1).lower())
    return out


def restrict_codecs(sdp, keep, rename=None):
    """The SDP with, in each m-section, only the payload types whose codec (lower case) is in
    keep[kind] (and their a=rtpmap/fmtp/rtcp-fb lines); rename maps kept names to new ones."""
    session, media = sdp_sections(sdp)
    out = list(session)
    for kind, lines in media:
        names = {}
        for line in lines:
            m = re.match(r"a=rtpmap:(\d+) ([^/]+)/", line)
            if m:
                names[m.group(1)] = m.group(2)
        kept = [pt for pt, n in names.items() if n.lower() in keep.get(kind, set())]
        fields = lines[0].split(" ")
        out.append(" ".join(fields[:3] + [pt for pt in fields[3:] if pt in kept]))
        for line in lines[1:]:
            m = re.match(r"a=(rtpmap|fmtp|rtcp-fb):(\d+)[ ]", line)
            if m and m.group(2) not in kept:
                continue
            if m and m.group(1) == "rtpmap" and rename:
                n = names[m.group(2)]
                line = line.replace(f" {n}/", f" {rename.get(n.lower(), n)}/", 1)
            out.append(line)
    return ("\r\n".join(out) + "\r\n").encode()


def check_answer(answer, want_direction):
    """Raises Fail unless the answer is usable by a non-trickle client on loopback: BUNDLE, per
    m-section rtcp-mux, ICE credentials, fingerprint, setup active/passive, the direction, and a
    127.0.0.1 UDP host candidate."""
    session, media = sdp_sections(answer)
    if not answer.startswith(b"v=0") or not media:
        raise Fail(f"not an SDP answer: {answer[:200]!r}")
    if not any(line.startswith("a=group:BUNDLE") for line in session):
        raise Fail("no a=group:BUNDLE")
    problems = []
    for i, (kind, lines) in enumerate(media):
        if lines[0].split(" ")[1] == "0":
            continue  # a rejected m-section
        has = lambda prefix, lines=lines: any(x.startswith(prefix) for x in lines + session)  # noqa: E731
        for attr in ("a=rtcp-mux", "a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:"):
            if not has(attr):
                problems.append(f"m-section {i} ({kind}) lacks {attr}")
        setup = [x for x in lines + session if x.startswith("a=setup:")]
        if not setup or setup[0] not in ("a=setup:active", "a=setup:passive"):
            problems.append(f"m-section {i} ({kind}) has {setup[:1] or 'no a=setup'} (an answer needs active or passive)")
        if f"a={want_direction}" not in lines:
            dirs = [x for x in lines if x in ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive")]
            problems.append(f"m-section {i} ({kind}) is {dirs or 'sendrecv (no attribute)'}, expected {want_direction}")
    if not re.search(rb"^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host", answer, re.M | re.I):
        problems.append("no UDP host candidate on 127.0.0.1 (the --media-ip); WHIP/WHEP clients do not "
                        "receive trickled server candidates")
    if problems:
        raise Fail("; ".join(problems))


def run(c, art_dir):
    srv = c.srv
    now = int(time.time())
    # Tokens from the CLI (valid ones) ...
    t_clinic_a = srv.token(ROOM, "clinic", "cart-a")
    t_clinic_b = srv.token(ROOM, "clinic", "cart-b")
    t_viewer = srv.token(ROOM, "viewer", "viewer-1")
    t_operator = srv.token(ROOM, "operator", "op-1")
    t_other_room = srv.token("other-room", "clinic", "cart-a")
    t_star = srv.token("*", "operator", "op-star")
    # ... and crafted ones, for what the CLI must never produce.
    claims = {"room": ROOM, "role": "clinic", "sub": "cart-a", "iat": now, "exp": now + 600}
    t_crafted_ok = hs256_token(srv.secret, dict(claims, role="viewer", sub="crafted"))
    t_expired = hs256_token(srv.secret, dict(claims, iat=now - 3600, exp=now - 60))
    t_other_secret = hs256_token(secrets.token_hex(24), claims)
    t_alg_none = hs256_token(srv.secret, claims, {"alg": "none", "typ": "JWT"})
    t_hs512 = hs256_token(srv.secret, claims, {"alg": "HS512", "typ": "JWT"})
    t_expired_10s = hs256_token(srv.secret, dict(claims, exp=now - 10))
    t_no = {k: hs256_token(srv.secret, {x: v for x, v in claims.items() if x != k})
            for k in ("exp", "sub", "room", "role")}
    t_tampered = (lambda p: p[0] + "." + hs256_token(srv.secret, dict(claims, room="*")).split(".")[1] + "." + p[2])(
        t_clinic_a.split("."))

    whip = f"/whip/{ROOM}/cam"
    whep = f"/whep/{ROOM}/cam"
    offer, voffer = c.whip_offer, c.whep_offer

    # ---- basics and routes ----
    c.check("GET /healthz → 200", lambda: c.expect_status(c.call("GET", "/healthz"), 200))
    c.check("unknown route GET /no-such-route → 404 not-found",
            lambda: c.expect_error(c.call("GET", "/no-such-route"), 404, "not-found"))

    # ---- names (checked before the token: none is sent) ----
    bad_names = [
        ("room with '.'", "/whip/clinic.7/cam"),
        ("room with %2F", "/whip/clinic%2F7/cam"),
        ("room of 65 characters", f"/whip/{'a' * 65}/cam"),
        ("empty room segment", "/whip//cam"),
        ("empty stream segment", f"/whip/{ROOM}/"),
        ("stream with a space (%20)", f"/whip/{ROOM}/my%20cam"),
        ("WHEP room with '.'", "/whep/clinic.7/cam"),
    ]
    for what, path in bad_names:
        c.check(f"bad name: {what} ({path}), no token → 400 bad-name",
                lambda path=path: c.expect_error(c.call("POST", path, ctype=SDP, body=offer), 400, "bad-name"))
    c.check("name of 64 characters is accepted (WHEP → 404 stream-not-found)",
            lambda: c.expect_error(c.call("POST", f"/whep/{'a' * 64}/cam", token=t_star, ctype=SDP, body=voffer),
                                   404, "stream-not-found"))

    # ---- tokens ----
    auth_path = f"/whip/{ROOM}/auth-cam"

    def control_crafted():
        r = c.call("POST", f"/whep/{ROOM}/nobody-here", token=t_crafted_ok, ctype=SDP, body=voffer)
        if r.status == 401:
            raise Fail("a correctly signed HS256 token made by this test was refused; the crafted-token "
                       f"checks below prove nothing until this passes: {r.brief()}")
        c.expect_error(r, 404, "stream-not-found")
    c.check("control: HS256 token crafted by the test is accepted (WHEP → 404 stream-not-found)", control_crafted)
    c.check("token for room '*' is accepted (WHEP → 404 stream-not-found)",
            lambda: c.expect_error(c.call("POST", f"/whep/{ROOM}/nobody-here", token=t_star, ctype=SDP, body=voffer),
                                   404, "stream-not-found"))
    c.check("viewer token may subscribe (WHEP → 404 stream-not-found, not 403)",
            lambda: c.expect_error(c.call("POST", f"/whep/{ROOM}/nobody-here", token=t_viewer, ctype=SDP, body=voffer),
                                   404, "stream-not-found"))
    refused = [
        ("missing Authorization", None, None),
        ("malformed token 'not-a-jwt'", "not-a-jwt", None),
        ("malformed token 'a.b'", "a.b", None),
        ("Basic instead of Bearer", None, "Basic Y2FydC1hOnNlY3JldA=="),
        ("empty Bearer", None, "Bearer "),
        ("token signed with another secret", t_other_secret, None),
        ("tampered payload (room changed to '*')", t_tampered, None),
        ("expired token (exp 60 s ago)", t_expired, None),
        ("token expired 10 s ago (beyond the 5 s leeway)", t_expired_10s, None),
        ("alg none", t_alg_none, None),
        ("alg HS512 with the right secret", t_hs512, None),
    ] + [(f"token without the '{k}' claim", t, None) for k, t in t_no.items()]
    for what, tok, auth in refused:
        c.check(f"WHIP with {what} → 401 unauthorized",
                lambda tok=tok, auth=auth: c.expect_error(
                    c.call("POST", auth_path, token=tok, auth=auth, ctype=SDP, body=offer), 401, "unauthorized"))
    c.check("WHIP with a token for another room → 403 forbidden",
            lambda: c.expect_error(c.call("POST", auth_path, token=t_other_room, ctype=SDP, body=offer), 403, "forbidden"))
    c.check("WHIP with a viewer token → 403 forbidden",
            lambda: c.expect_error(c.call("POST", auth_path, token=t_viewer, ctype=SDP, body=offer), 403, "forbidden"))
    c.check("WHEP with a token for another room → 403 forbidden",
            lambda: c.expect_error(c.call("POST", whep, token=t_other_room, ctype=SDP, body=voffer), 403, "forbidden"))

    # ---- content type ----
    ct_path = f"/whip/{ROOM}/ct-cam"
    c.check("WHIP with Content-Type text/plain → 415 unsupported-media-type",
            lambda: c.expect_error(c.call("POST", ct_path, token=t_clinic_a, ctype="text/plain", body=offer),
                                   415, "unsupported-media-type"))
    c.check("WHIP without Content-Type → 415 unsupported-media-type",
            lambda: c.expect_error(c.call("POST", ct_path, token=t_clinic_a, body=offer), 415, "unsupported-media-type"))
    c.check("WHEP with Content-Type application/json → 415 unsupported-media-type",
            lambda: c.expect_error(c.call("POST", whep, token=t_viewer, ctype="application/json", body=voffer),
                                   415, "unsupported-media-type"))

    def charset_accepted():
        path = f"/whip/{ROOM}/charset-cam"
        r = c.call("POST", path, token=t_clinic_a, ctype="application/sdp; charset=utf-8", body=offer)
        if r.status == 415:
            raise Fail(f"media-type parameters must be ignored: {r.brief()}")
        c.expect_status(r, 201, "a real offer with charset=utf-8: ")
        sess = c.session_path(r.header("Location"), path)
        c.expect_status(c.call("DELETE", sess, token=t_clinic_a), (200, 204), "DELETE of that session: ")
    c.check("WHIP with Content-Type 'application/sdp; charset=utf-8' is accepted (201, not 415)", charset_accepted)

    # ---- size ----
    size_path = f"/whip/{ROOM}/size-cam"
    c.check("WHIP body of 64 KiB + 1 (a padded real offer) → 413 too-large",
            lambda: c.expect_error(c.call("POST", size_path, token=t_clinic_a, ctype=SDP,
                                          body=c.padded_offer(MAX_BODY + 1)), 413, "too-large"))
    c.check("WHIP body of 100 KB → 413 too-large",
            lambda: c.expect_error(c.call("POST", size_path, token=t_clinic_a, ctype=SDP,
                                          body=c.padded_offer(100_000)), 413, "too-large"))

    def exactly_cap():
        path = f"/whip/{ROOM}/cap-cam"
        r = c.call("POST", path, token=t_clinic_a, ctype=SDP, body=c.padded_offer(MAX_BODY))
        if r.status == 413:
            raise Fail(f"a body of exactly {MAX_BODY} bytes is within the cap: {r.brief()}")
        if r.status == 201:
            c.call("DELETE", c.session_path(r.header("Location"), path), token=t_clinic_a)
    c.check("WHIP body of exactly 64 KiB is not refused as too-large", exactly_cap)

    # ---- body ----
    c.check("WHIP with a garbage body → 400 bad-sdp",
            lambda: c.expect_error(c.call("POST", f"/whip/{ROOM}/body-cam", token=t_clinic_a, ctype=SDP,
                                          body=b"this is not SDP\r\n\x00\xff"), 400, "bad-sdp"))
    c.check("WHIP with an empty body → 400 bad-sdp or bad-request",
            lambda: c.expect_error(c.call("POST", f"/whip/{ROOM}/body-cam", token=t_clinic_a, ctype=SDP, body=b""),
                                   400, ("bad-sdp", "bad-request")))
    c.check("WHEP with a garbage body → 400 bad-sdp",
            lambda: c.expect_error(c.call("POST", f"/whep/{ROOM}/body-cam", token=t_viewer, ctype=SDP,
                                          body=b"v=1\r\nnonsense\r\n"), 400, "bad-sdp"))

    # ---- state ----
    c.check("WHEP on a stream nobody publishes → 404 stream-not-found",
            lambda: c.expect_error(c.call("POST", f"/whep/{ROOM}/nobody-here", token=t_viewer, ctype=SDP, body=voffer),
                                   404, "stream-not-found"))

    # ---- real sessions ----
    busy_post = f"/whip/{ROOM}/busy-cam"
    state = {}

    def publish_a():
        r = c.call("POST", busy_post, token=t_clinic_a, ctype=SDP, body=offer, origin=ORIGIN)
        c.expect_status(r, 201, "WHIP with a real Chromium offer: ")
        ct = (r.header("Content-Type") or "").split(";")[0].strip().lower()
        if ct != "application/sdp":
            raise Fail(f"201 with Content-Type {r.header('Content-Type')!r}, expected application/sdp")
        if not r.body.startswith(b"v=0") or b"\nm=" not in r.body:
            raise Fail(f"the answer does not look like SDP: {r.body[:200]!r}")
        state["a"] = c.session_path(r.header("Location"), busy_post)
        state["etag"] = r.header("ETag")
        c.session_shape = state["a"]
        state["cors201"] = r
    c.check("WHIP with a real offer → 201, application/sdp answer, Location", publish_a)

    def need(key):
        if key not in state:
            raise Fail("skipped: needs the session the WHIP 201 check should have created")
        return state[key]

    def cors_on_201():
        r = need("cors201")
        acao = r.header("Access-Control-Allow-Origin")
        if acao not in ("*", ORIGIN):
            raise Fail(f"Access-Control-Allow-Origin is {acao!r} on a 201 to Origin {ORIGIN}")
        exposed = r.header_tokens("Access-Control-Expose-Headers")
        # What a WHIP client reads (RFC 9725): the session URL, the ICE session's entity tag, ICE
        # servers and extensions, what PATCH takes; Content-Type is safelisted.
        missing = {"location", "link", "etag", "accept-patch"} - exposed
        if missing:
            raise Fail(f"Access-Control-Expose-Headers {r.header('Access-Control-Expose-Headers')!r} lacks "
                       f"{', '.join(sorted(missing))}")
        if "*" in exposed:
            raise Fail("Access-Control-Expose-Headers is '*': name the headers")
        if (r.header("Accept-Patch") or "").lower() != SDPFRAG:
            raise Fail(f"the 201 has Accept-Patch {r.header('Accept-Patch')!r}, expected {SDPFRAG}")
    c.check("CORS on the 201: Allow-Origin, and Location, Link, ETag, Accept-Patch exposed", cors_on_201)

    c.check("the WHIP answer: BUNDLE, rtcp-mux, ICE credentials, fingerprint, setup, recvonly, 127.0.0.1 candidate",
            lambda: check_answer(need("cors201").body, "recvonly"))

    def whep_unsupported_codec():
        need("a")
        used = sdp_codecs(need("cors201").body)
        keep = {"video": {"vp8", "vp9", "h264", "av1"} - used.get("video", set()),
                "audio": {"opus", "pcmu", "pcma", "g722"} - used.get("audio", set())}
        if not keep["video"] or not keep["audio"]:
            raise Fail(f"the stream uses every codec Chromium offers ({used}); cannot build a mismatching offer")
        bad = restrict_codecs(voffer, keep)
        c.expect_error(c.call("POST", f"/whep/{ROOM}/busy-cam", token=t_viewer, ctype=SDP, body=bad),
                       400, "unsupported-codec")
    c.check("WHEP offering none of the stream's codecs → 400 unsupported-codec", whep_unsupported_codec)

    c.check("WHIP by another sub on a published stream → 409 stream-busy",
            lambda: (need("a"), c.expect_error(c.call("POST", busy_post, token=t_clinic_b, ctype=SDP, body=offer),
                                               409, "stream-busy")))

    def whep_on_published():
        need("a")
        post = f"/whep/{ROOM}/busy-cam"
        r = c.call("POST", post, token=t_viewer, ctype=SDP, body=voffer)
        c.expect_status(r, 201, "WHEP with a real recvonly offer on a published stream: ")
        if not r.body.startswith(b"v=0"):
            raise Fail(f"the answer does not look like SDP: {r.body[:200]!r}")
        sess = c.session_path(r.header("Location"), post)
        # A viewer's layer cap, changed later (issue 17).
        jpatch = lambda body, tok=t_viewer, path=sess: c.call("PATCH", path, token=tok,
                                                               ctype="application/json", body=body)
        c.expect_status(jpatch(b'{"layer": "low"}'), 204, "the viewer's PATCH {layer: low}: ")
        c.expect_error(jpatch(b'{"layer": "huge"}'), 400, "bad-request", "layer")
        c.expect_error(jpatch(b'{"layer": 1}'), 400, "bad-request")
        c.expect_error(jpatch(b'not json'), 400, "bad-request")
        c.expect_error(jpatch(b'{"layer": "low"}', tok=t_clinic_b), 403, "forbidden")
        c.expect_error(jpatch(b'{"layer": "low"}', tok=t_clinic_a, path=need("a")), 415,
                       "unsupported-media-type")
        c.expect_status(c.call("DELETE", sess, token=t_viewer), (200, 204), "the viewer's DELETE of its session: ")
    c.check("WHEP on a published stream → 201 with Location; PATCH {\"layer\": \"low\"} → 204, "
            "a bad layer or body → 400, someone else's → 403, on a WHIP session → 415; "
            "the viewer's DELETE → 200/204", whep_on_published)

    def patch_trickle():
        hdrs = {"If-Match": state["etag"]} if state.get("etag") else {}
        r = c.call("PATCH", need("a"), token=t_clinic_a, ctype=SDPFRAG, body=c.sdpfrag(53121), headers=hdrs)
        c.expect_status(r, 204, "trickle PATCH" + (" (with If-Match)" if hdrs else "") + ": ")
    c.check("PATCH trickle-ice-sdpfrag on the session by its owner → 204", patch_trickle)
    def ice_restart():
        frag = c.sdpfrag(53125, ufrag="rst9", pwd="restartPassword0123456789")
        r = c.call("PATCH", need("a"), token=t_clinic_a, ctype=SDPFRAG, body=frag, headers={"If-Match": "*"})
        c.expect_status(r, 200, "ICE restart PATCH (new ufrag/pwd, If-Match: *): ")
        ct = (r.header("Content-Type") or "").split(";")[0].strip().lower()
        if ct != SDPFRAG:
            raise Fail(f"200 with Content-Type {r.header('Content-Type')!r}, expected {SDPFRAG}")
        text = r.body.decode(errors="replace")
        m = re.search(r"^a=ice-ufrag:(\S+)", text, re.M)
        if not m or not re.search(r"^a=ice-pwd:\S+", text, re.M):
            raise Fail(f"the 200 fragment lacks the new a=ice-ufrag/a=ice-pwd: {text[:300]!r}")
        old_ufrag = re.search(rb"^a=ice-ufrag:(\S+)", need("cors201").body, re.M)
        if old_ufrag and old_ufrag.group(1).decode() == m.group(1):
            raise Fail(f"the server kept its ICE ufrag {m.group(1)!r} across the restart")
        if state.get("etag"):
            if not r.header("ETag") or r.header("ETag") == state["etag"]:
                raise Fail(f"the ETag must change on an ICE restart (was {state['etag']!r}, now {r.header('ETag')!r})")
            state["etag"] = r.header("ETag")
    c.check("PATCH with new ICE credentials and If-Match: * (ICE restart) → 200 with new ufrag/pwd", ice_restart)
    c.check("PATCH with Content-Type application/sdp → 415 unsupported-media-type",
            lambda: c.expect_error(c.call("PATCH", need("a"), token=t_clinic_a, ctype=SDP, body=c.sdpfrag(53122)),
                                   415, "unsupported-media-type"))
    c.check("PATCH by another sub of the same room → 403 forbidden",
            lambda: c.expect_error(c.call("PATCH", need("a"), token=t_clinic_b, ctype=SDPFRAG, body=c.sdpfrag(53123)),
                                   403, "forbidden"))
    c.check("DELETE by another sub of the same room → 403 forbidden",
            lambda: c.expect_error(c.call("DELETE", need("a"), token=t_clinic_b), 403, "forbidden"))
    c.check("DELETE by a viewer of the same room → 403 forbidden",
            lambda: c.expect_error(c.call("DELETE", need("a"), token=t_viewer), 403, "forbidden"))
    c.check("DELETE with a token for another room (same sub) → 403 forbidden",
            lambda: c.expect_error(c.call("DELETE", need("a"), token=t_other_room), 403, "forbidden"))
    c.check("DELETE without a token → 401 unauthorized",
            lambda: c.expect_error(c.call("DELETE", need("a")), 401, "unauthorized"))

    def republish_same_sub():
        old = need("a")
        r = c.call("POST", busy_post, token=t_clinic_a, ctype=SDP, body=offer)
        c.expect_status(r, 201, "a reconnecting publisher (same sub): ")
        new = c.session_path(r.header("Location"), busy_post)
        state["a"] = new
        if new == old:
            raise Fail(f"the reconnect got the old session's URL {old}")
        state["replaced"] = old
        c.expect_error(c.call("PATCH", old, token=t_clinic_a, ctype=SDPFRAG, body=c.sdpfrag(53126)),
                       404, "session-not-found")
    c.check("WHIP again by the same sub → 201, replaces the old session (PATCH of the old one → 404 "
            "session-not-found)", republish_same_sub)
    # DELETE is idempotent: an ended session (here: replaced) is answered like a live one, with the
    # same authorization.
    c.check("DELETE of the replaced session by another sub → 403 forbidden",
            lambda: c.expect_error(c.call("DELETE", need("replaced"), token=t_clinic_b), 403, "forbidden"))
    c.check("DELETE of the replaced session by its owner → 200/204",
            lambda: c.expect_status(c.call("DELETE", need("replaced"), token=t_clinic_a), (200, 204)))

    def operator_delete():
        r = c.call("DELETE", need("a"), token=t_operator)
        c.expect_status(r, (200, 204))
        state["delete_status"] = r.status
    c.check("DELETE by an operator of the room → 200/204", operator_delete)

    def delete_again():
        want = need("delete_status")
        r = c.call("DELETE", need("a"), token=t_clinic_a)
        if r.status != want:
            raise Fail(f"the second DELETE → {r.brief()}, expected {want} like the first (DELETE is idempotent)")
    c.check("DELETE of the deleted session by its owner → the same 200/204 (idempotent)", delete_again)
    c.check("DELETE of the deleted session by a viewer → 403 forbidden",
            lambda: c.expect_error(c.call("DELETE", need("a"), token=t_viewer), 403, "forbidden"))
    c.check("PATCH of the deleted session → 404 session-not-found",
            lambda: c.expect_error(c.call("PATCH", need("a"), token=t_clinic_a, ctype=SDPFRAG,
                                          body=c.sdpfrag(53127)), 404, "session-not-found"))
    c.check("WHEP after the publisher left → 404 stream-not-found",
            lambda: c.expect_error(c.call("POST", f"/whep/{ROOM}/busy-cam", token=t_viewer, ctype=SDP, body=voffer),
                                   404, "stream-not-found"))

    # ---- other offers ----
    def answered(sdp_name, stream, direction, extra=None):
        post = f"/whip/{ROOM}/{stream}"
        r = c.call("POST", post, token=t_clinic_a, ctype=SDP, body=read_sdp(sdp_name))
        c.expect_status(r, 201, f"WHIP with {sdp_name}: ")
        try:
            check_answer(r.body, direction)
            if extra:
                extra(r.body)
        finally:
            c.call("DELETE", c.session_path(r.header("Location"), post), token=t_clinic_a)

    def three_layers(answer):
        lines = answer.decode(errors="replace").splitlines()
        video = lines[next(i for i, x in enumerate(lines) if x.startswith("m=video")):]
        rids = [x for x in video if x.startswith("a=rid:")]
        sim = [x for x in video if x.startswith("a=simulcast:")]
        ext = [x for x in video if x.startswith("a=extmap:") and "rtp-stream-id" in x]
        if rids != ["a=rid:q recv", "a=rid:h recv", "a=rid:f recv"] or sim != ["a=simulcast:recv q;h;f"] \
                or len(ext) != 2:
            raise Fail(f"the answer does not take the three layers by rid: {rids} {sim} {ext}")
    c.check("WHIP with a sendrecv offer → 201, answered recvonly",
            lambda: answered("chromium_sendrecv.sdp", "sendrecv-cam", "recvonly"))
    c.check("WHIP with a simulcast offer → 201, its three layers answered (a=rid recv, a=simulcast:recv)",
            lambda: answered("chromium_whip_simulcast.sdp", "simulcast-cam", "recvonly", three_layers))
    c.check("WHIP with a simulcast list naming an undefined rid → 400 bad-sdp naming it",
            lambda: c.expect_error(c.call("POST", f"/whip/{ROOM}/simulcast-bad", token=t_clinic_a, ctype=SDP,
                                          body=read_sdp("chromium_whip_simulcast.sdp").replace(
                                              b"a=simulcast:send q;h;f", b"a=simulcast:send q;h;x")),
                                   400, "bad-sdp", "'x'"))
    c.check("WHEP with ?layer=huge → 400 bad-request (layer is high, medium or low)",
            lambda: c.expect_error(c.call("POST", f"{whep}?layer=huge", token=t_viewer, ctype=SDP, body=voffer),
                                   400, "bad-request", "layer"))
    c.check("WHEP with ?layer=medium on a stream nobody publishes → 404 stream-not-found (the cap is accepted)",
            lambda: c.expect_error(c.call("POST", f"/whep/{ROOM}/nobody-here?layer=medium", token=t_viewer,
                                          ctype=SDP, body=voffer), 404, "stream-not-found"))
    c.check("WHIP with an aiortc offer → 201",
            lambda: answered("aiortc_whip_sendonly.sdp", "aiortc-cam", "recvonly"))
    c.check("WHIP offering only unknown codecs → 400 unsupported-codec",
            lambda: c.expect_error(c.call("POST", f"/whip/{ROOM}/codec-cam", token=t_clinic_a, ctype=SDP,
                                          body=restrict_codecs(offer, {"audio": {"opus"}, "video": {"vp8"}},
                                                               {"opus": "X-NO-AUDIO", "vp8": "X-NO-VIDEO"})),
                                   400, "unsupported-codec"))

    # ---- unknown sessions ----
    c.check("PATCH of an unknown session id (valid room token) → 404 session-not-found",
            lambda: c.expect_error(c.call("PATCH", c.unknown_session(), token=t_clinic_a, ctype=SDPFRAG,
                                          body=c.sdpfrag(53124)), 404, "session-not-found"))
    c.check("DELETE of an unknown session id (valid room token) → 404 session-not-found",
            lambda: c.expect_error(c.call("DELETE", c.unknown_session(), token=t_clinic_a), 404, "session-not-found"))

    # ---- CORS ----
    def preflight(path, method, req_headers):
        r = c.call("OPTIONS", path, origin=ORIGIN, headers={"Access-Control-Request-Method": method,
                                                            "Access-Control-Request-Headers": req_headers})
        c.expect_status(r, 204, "preflight: ")
        acao = r.header("Access-Control-Allow-Origin")
        if acao not in ("*", ORIGIN):
            raise Fail(f"Access-Control-Allow-Origin {acao!r}")
        methods = r.header_tokens("Access-Control-Allow-Methods")
        if method.lower() not in methods and "*" not in methods:
            raise Fail(f"Access-Control-Allow-Methods {r.header('Access-Control-Allow-Methods')!r} lacks {method}")
        allowed = r.header_tokens("Access-Control-Allow-Headers")
        # "*" does not cover Authorization (Fetch standard), so it must be named.
        if "authorization" not in allowed:
            raise Fail(f"Access-Control-Allow-Headers {r.header('Access-Control-Allow-Headers')!r} lacks Authorization")
        if "content-type" not in allowed and "*" not in allowed:
            raise Fail(f"Access-Control-Allow-Headers {r.header('Access-Control-Allow-Headers')!r} lacks Content-Type")
        return r
    c.check("OPTIONS preflight on /whip (POST, authorization, content-type) → 204 with allow headers",
            lambda: preflight(whip, "POST", "authorization, content-type"))
    c.check("OPTIONS preflight on /whep (POST, authorization, content-type) → 204 with allow headers",
            lambda: preflight(whep, "POST", "authorization, content-type"))
    c.check("OPTIONS preflight on a session URL (PATCH) → 204 allowing PATCH",
            lambda: preflight(c.unknown_session(), "PATCH", "authorization, content-type"))
    c.check("OPTIONS preflight on a session URL (DELETE) → 204 allowing DELETE",
            lambda: preflight(c.unknown_session(), "DELETE", "authorization"))

    def preflight_exact(path, method, want_methods, accept=None, refuse=()):
        """A preflight whose Allow-Methods lists exactly what the path answers (want_methods, OPTIONS
        included; or at least those when refuse names what must not appear), with every request
        header a WHIP/WHEP or API client sends."""
        r = preflight(path, method, "authorization, content-type, if-match")
        methods = r.header_tokens("Access-Control-Allow-Methods")
        want = {m.lower() for m in want_methods}
        if refuse:
            bad = {m.lower() for m in refuse} & methods
            if not want <= methods or bad:
                raise Fail(f"Access-Control-Allow-Methods {r.header('Access-Control-Allow-Methods')!r} for "
                           f"{path}: expected {sorted(want)} and none of {sorted(refuse)}")
        elif methods != want:
            raise Fail(f"Access-Control-Allow-Methods {r.header('Access-Control-Allow-Methods')!r} for {path}: "
                       f"expected exactly {', '.join(sorted(want))}")
        allowed = r.header_tokens("Access-Control-Allow-Headers")
        missing = {"authorization", "content-type", "if-match", "if-none-match"} - allowed
        if missing:
            raise Fail(f"Access-Control-Allow-Headers {r.header('Access-Control-Allow-Headers')!r} lacks "
                       f"{', '.join(sorted(missing))}")
        for name, value in (accept or {}).items():
            if (r.header(name) or "").lower() != value:
                raise Fail(f"the preflight's {name} is {r.header(name)!r}, expected {value!r}")
        return r
    c.check("OPTIONS on a WHIP endpoint → Allow-Methods POST, OPTIONS; If-Match/If-None-Match allowed; "
            "Accept-Post application/sdp",
            lambda: preflight_exact(whip, "POST", ("POST", "OPTIONS"), {"accept-post": SDP}))
    c.check("OPTIONS on a WHEP endpoint → Allow-Methods POST, OPTIONS; Accept-Post application/sdp",
            lambda: preflight_exact(whep, "POST", ("POST", "OPTIONS"), {"accept-post": SDP}))
    def session_options():
        r = preflight_exact(c.unknown_session(), "PATCH", ("PATCH", "DELETE", "OPTIONS"),
                            {"accept-patch": SDPFRAG}, refuse=("GET", "HEAD", "PUT"))
        if r.header("Accept-Post") is not None:
            raise Fail(f"a session URL announces Accept-Post {r.header('Accept-Post')!r}: it takes no offer")
    c.check("OPTIONS on a session URL → Allow-Methods with PATCH, DELETE, OPTIONS (no GET, HEAD, PUT); "
            "Accept-Patch trickle-ice-sdpfrag, no Accept-Post", session_options)
    c.check("OPTIONS on /api/rooms/{room}/streams → Allow-Methods GET, OPTIONS",
            lambda: preflight_exact(f"/api/rooms/{ROOM}/streams", "GET", ("GET", "OPTIONS")))
    c.check("OPTIONS on /api/rooms/{room}/recording → Allow-Methods POST, DELETE, OPTIONS",
            lambda: preflight_exact(f"/api/rooms/{ROOM}/recording", "POST", ("POST", "DELETE", "OPTIONS")))
    c.check("OPTIONS on /api/recordings/{id} → Allow-Methods GET, DELETE, OPTIONS",
            lambda: preflight_exact("/api/recordings/0123456789abcdef-1", "DELETE", ("GET", "DELETE", "OPTIONS")))
    c.check("OPTIONS on /healthz → Allow-Methods GET, OPTIONS",
            lambda: preflight_exact("/healthz", "GET", ("GET", "OPTIONS")))

    def error_has_cors():
        r = c.call("POST", whip, ctype=SDP, body=offer, origin=ORIGIN)
        c.expect_error(r, 401, "unauthorized")
        acao = r.header("Access-Control-Allow-Origin")
        if acao not in ("*", ORIGIN):
            raise Fail(f"a 401 to Origin {ORIGIN} has Access-Control-Allow-Origin {acao!r}: a browser "
                       "client cannot read the error")
    c.check("error responses carry Access-Control-Allow-Origin (401 with Origin)", error_has_cors)

    # ---- check order, with two faults at once ----
    garbage = b"not sdp at all"
    order = [
        ("unknown route + no token → 404 not-found",
         lambda: c.call("POST", "/no-such-route/x/y", ctype=SDP, body=offer), 404, "not-found"),
        ("bad name + no token → 400 bad-name",
         lambda: c.call("POST", "/whip/bad.name/cam", ctype=SDP, body=offer), 400, "bad-name"),
        ("bad name + wrong content type + garbage → 400 bad-name",
         lambda: c.call("POST", "/whip/bad.name/cam", token=t_clinic_a, ctype="text/plain", body=garbage),
         400, "bad-name"),
        ("no token + wrong content type → 401 unauthorized",
         lambda: c.call("POST", whip, ctype="text/plain", body=offer), 401, "unauthorized"),
        ("no token + oversized body → 401 unauthorized",
         lambda: c.call("POST", whip, ctype=SDP, body=c.padded_offer(MAX_BODY + 1)), 401, "unauthorized"),
        ("other room + wrong content type → 403 forbidden",
         lambda: c.call("POST", whip, token=t_other_room, ctype="text/plain", body=offer), 403, "forbidden"),
        ("viewer on WHIP + wrong content type → 403 forbidden",
         lambda: c.call("POST", whip, token=t_viewer, ctype="text/plain", body=offer), 403, "forbidden"),
        ("wrong content type + oversized body → 415 unsupported-media-type",
         lambda: c.call("POST", whip, token=t_clinic_a, ctype="text/plain", body=c.padded_offer(MAX_BODY + 1)),
         415, "unsupported-media-type"),
        ("oversized + garbage body → 413 too-large",
         lambda: c.call("POST", whip, token=t_clinic_a, ctype=SDP, body=garbage * 5000), 413, "too-large"),
        ("garbage body on a stream nobody publishes (WHEP) → 400 bad-sdp",
         lambda: c.call("POST", f"/whep/{ROOM}/nobody-here", token=t_viewer, ctype=SDP, body=garbage),
         400, "bad-sdp"),
    ]
    for name, send, status, code in order:
        c.check(f"order: {name}", lambda send=send, status=status, code=code: c.expect_error(send(), status, code))

    # ---- error bodies ----
    def all_errors_json():
        if not c.errors_seen:
            raise Fail("no error responses were seen")
        bad = []
        for what, r in c.errors_seen:
            j = r.json()
            if not isinstance(j, dict) or not isinstance(j.get("error"), str) or not isinstance(j.get("detail"), str):
                bad.append(f"{what} → {r.brief()}")
        if bad:
            raise Fail(f"{len(bad)} of {len(c.errors_seen)} error responses are not {{error, detail}} JSON, e.g. "
                       + "; ".join(bad[:3]))
    c.check("every error response is JSON with string 'error' and 'detail'", all_errors_json)

    def all_errors_json_type():
        bad = [f"{what} → {r.header('Content-Type')!r}" for what, r in c.errors_seen
               if not (r.header("Content-Type") or "").lower().startswith("application/json")]
        if bad:
            raise Fail(f"{len(bad)} of {len(c.errors_seen)} error responses lack Content-Type application/json, "
                       "e.g. " + "; ".join(bad[:3]))
    c.check("every error response has Content-Type application/json", all_errors_json_type)

    # ---- robustness ----
    c.check("20 connections of random bytes and half requests: /healthz still 200 (while open and after)",
            lambda: robustness(c, art_dir))
    def still_running():
        if not srv.alive():
            raise Fail(f"medrelay exited ({srv.proc.returncode})")
    c.check("medrelay is still running", still_running)


def robustness(c, art_dir):
    srv = c.srv
    junk = [os.urandom(n) for n in (1, 7, 64, 512, 1500, 4096, 16384, 65536, 100_000, 100_000)]
    half = [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",                                     # no blank line
        b"GET /",                                                                      # half a request line
        b"POST /whip/clinic-7/cam HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n"
        b"Content-Length: 5000\r\n\r\nv=0\r\n",                                       # body cut short
        b"POST /whip/clinic-7/cam HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n"
        + os.urandom(300),                                                             # absurd chunk
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70000,              # endless header
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + os.urandom(100),                        # HTTP/2 preface
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(500),            # a TLS ClientHello start
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" + os.urandom(200),
    ]
    payloads = junk + half
    assert len(payloads) == 20
    pdir = os.path.join(art_dir, "robustness")
    os.makedirs(pdir, exist_ok=True)
    for i, p in enumerate(payloads):  # kept, so a failure can be replayed
        with open(os.path.join(pdir, f"{i:02d}.bin"), "wb") as f:
            f.write(p)
    socks = []
    try:
        for p in payloads:
            s = socket.create_connection((srv.host, srv.port), timeout=3)
            socks.append(s)
            s.settimeout(0.5)
            try:
                s.sendall(p)
            except OSError:
                pass  # the server may hang up on junk: fine
        r = request(srv.host, srv.port, "GET", "/healthz", timeout=3)
        if r.status != 200:
            raise Fail(f"GET /healthz while 20 junk connections are open → {r.brief()}")
    finally:
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
    time.sleep(0.3)
    if not srv.alive():
        raise Fail(f"medrelay died (payloads are in {pdir})")
    r = request(srv.host, srv.port, "GET", "/healthz", timeout=3)
    if r.status != 200:
        raise Fail(f"GET /healthz after the junk connections closed → {r.brief()}")


def main():
    def on_alarm(signum, frame):
        raise Watchdog()
    signal.signal(signal.SIGALRM, on_alarm)
    def on_term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(WATCHDOG_S)

    art_dir = artifact_dir("integration", "http_contract")
    try:
        srv = Server.start(art_dir)
    except SetupError as e:
        print(f"SETUP FAIL http_contract: {e}", file=sys.stderr, flush=True)
        return 2
    except Watchdog:
        print(f"FAIL http_contract: watchdog ({WATCHDOG_S} s) fired while starting medrelay", file=sys.stderr)
        return 3

    c = Contract(srv, art_dir)
    code = None
    try:
        run(c, art_dir)
    except SetupError as e:
        print(f"SETUP FAIL http_contract: {e}", file=sys.stderr, flush=True)
        code = 2
    except Watchdog:
        print(f"FAIL http_contract: watchdog: not finished within {WATCHDOG_S} s", file=sys.stderr, flush=True)
        code = 3
    except KeyboardInterrupt:
        print("FAIL http_contract: interrupted", file=sys.stderr, flush=True)
        code = 1
    finally:
        signal.alarm(0)
        problem = srv.stop()
    if problem:
        c.results.append(("medrelay stops cleanly on SIGTERM", False, problem))
        print(f"FAIL medrelay stops cleanly on SIGTERM: {problem}", flush=True)
    elif code is None:
        c.results.append(("medrelay stops cleanly on SIGTERM", True, ""))
        print("PASS medrelay stops cleanly on SIGTERM", flush=True)

    failed = [r for r in c.results if not r[1]]
    passed = len(c.results) - len(failed)
    print(f"\nhttp_contract: {passed} passed, {len(failed)} failed of {len(c.results)} checks"
          f"; server log: {srv.log_path}")
    if failed:
        print("failed checks:")
        for name, _, msg in failed:
            print(f"  - {name}: {msg}")
        print(f"--- last lines of {srv.log_path}:\n{srv.tail(30)}\n---")
    if code is not None:
        return code
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
