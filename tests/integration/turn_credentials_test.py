#!/usr/bin/python3
"""TURN credentials handed to clients (issue 16, docs/turn.md), against the real server.

coturn's TURN REST scheme (use-auth-secret): username "<expiry>:<sub>",
credential base64(HMAC-SHA1(secret, username)), recomputed here. Checked:

  - without [turn]: no Link ice-server header on WHIP or WHEP 201 or on an
    authenticated OPTIONS, no "iceServers" in the room protocol's "joined";
  - with [turn] (the secret in a secret_file): WHIP and WHEP 201 carry one
    Link header per URL in RFC 9725 §4.6 syntax (TURN ones with username,
    credential and credential-type="password", STUN ones without); the
    credentials verify; their expiry is at most now + ttl and at most the
    token's exp (a short token caps it); a sub holding ':' stays whole after
    the expiry (coturn reads the digits before the first ':');
  - CORS: Access-Control-Expose-Headers names Link on the actual 201 and on
    the preflight; a preflight (Access-Control-Request-Method) gets no ICE
    servers, a WHIP client's OPTIONS with a token that may POST there does,
    one without a token, with a bad token, for another room, or a viewer on
    /whip does not (all still 204);
  - "joined" has iceServers: [{urls: [stun...]}, {urls: [turn...], username,
    credential}] that verify, with the same expiry rule;
  - start-up: [turn] urls without a secret, a short secret, a missing
    secret_file stop the server with a message that names [turn] and never
    quotes the secret;
  - the secret and the credentials never reach the server log (debug level)
    or the audit trail.

Standard library + python3-websocket; run with /usr/bin/python3
(MEDRELAY_BIN names the server). Artifacts: tests/artifacts/integration/turn_credentials/.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in tests/lib
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import server_binary  # noqa: E402
from security_lib import (SDP, WHEP_OFFER, WHIP_OFFER, Fail, RoomClient, Suite, call,  # noqa: E402
                          expect_status)

ROOM = "ward-turn"
TTL = 600
URLS = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp",
        "stun:stun.example.org:3478"]
TURN_URLS = [u for u in URLS if u.startswith("turn")]
STUN_URLS = [u for u in URLS if u.startswith("stun")]
# RFC 9725 §4.6 / RFC 8288: <uri>; rel="ice-server" and, for TURN, the three attributes.
LINK_RE = re.compile(r'^<(?P<url>[^>]+)>; rel="ice-server"'
                     r'(?:; username="(?P<username>[^"]+)"; credential="(?P<credential>[^"]+)"; '
                     r'credential-type="password")?$')


def expected_credential(secret, username):
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def token_exp(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]


def check_credentials(secret, username, credential, sub, exp, issued_at):
    """username "<expiry>:<sub>", credential the HMAC, expiry <= min(issued_at + TTL, exp), in the future."""
    expiry, sep, rest = username.partition(":")
    if not (sep and expiry.isdigit() and rest == sub):
        raise Fail(f"username {username!r} is not <expiry>:{sub}")
    want = expected_credential(secret, username)
    if credential != want:
        raise Fail(f"credential {credential!r} for {username!r} is not base64(HMAC-SHA1(secret, username)) "
                   f"= {want!r}")
    expiry = int(expiry)
    if expiry > exp:
        raise Fail(f"the credentials expire at {expiry}, after the token's exp {exp}")
    if expiry > int(time.time()) + TTL + 1 or expiry > issued_at + TTL + 2:
        raise Fail(f"the credentials expire at {expiry}, later than now + ttl ({TTL} s)")
    if expiry <= issued_at:
        raise Fail(f"the credentials expired already ({expiry} <= {issued_at})")
    return expiry


def ice_links(r):
    return [v for k, v in r.header_list if k.lower() == "link" and 'rel="ice-server"' in v]


def check_links(r, secret, sub, exp, issued_at):
    """One Link per URL, in order, in RFC 9725 syntax; TURN ones with credentials that verify."""
    links = ice_links(r)
    urls = []
    for value in links:
        m = LINK_RE.match(value)
        if not m:
            raise Fail(f"Link {value!r} is not <url>; rel=\"ice-server\"[; username=...; credential=...; "
                       "credential-type=\"password\"]")
        urls.append(m.group("url"))
        is_turn = m.group("url").startswith("turn")
        if is_turn != bool(m.group("username")):
            raise Fail(f"Link {value!r}: TURN URLs carry credentials, STUN URLs none")
        if is_turn:
            check_credentials(secret, m.group("username"), m.group("credential"), sub, exp, issued_at)
    if urls != URLS:
        raise Fail(f"Link ice-server URLs {urls}, expected {URLS} (one header each)")
    return links


def expose_has_link(r):
    return "link" in r.header_tokens("Access-Control-Expose-Headers")


def start_fails(bin_path, conf_text, tmp, expect, secret=None):
    """medrelay with conf_text exits non-zero before listening, saying expect; never quoting secret."""
    path = os.path.join(tmp, "bad.conf")
    with open(path, "w") as f:
        f.write(conf_text)
    env = dict(os.environ, MEDRELAY_JWT_SECRET=secrets.token_hex(24))
    out = subprocess.run([bin_path, "--config", path, "--listen", "127.0.0.1:1"], env=env,
                         capture_output=True, timeout=10, cwd=tmp)
    text = (out.stdout + out.stderr).decode(errors="replace")
    if out.returncode == 0 or expect not in text:
        raise Fail(f"expected a start-up error saying {expect!r}, got status {out.returncode}: {text[-400:]!r}")
    if secret and secret in text:
        raise Fail(f"the start-up error quotes the secret: {text[-400:]!r}")


def run_without_turn(s):
    srv = s.start(label="plain")
    clinic = srv.token(ROOM, "clinic", "cart-a")
    expert = srv.token(ROOM, "expert", "dr-a")

    def posts():
        for kind, tok, offer in (("whip", clinic, WHIP_OFFER), ("whep", expert, WHEP_OFFER)):
            r = expect_status(call(srv, "POST", f"/{kind}/{ROOM}/cam", token=tok, ctype=SDP, body=offer), 201,
                              f"{kind} POST: ")
            if ice_links(r):
                raise Fail(f"{kind} 201 without [turn] has Link ice-server headers: {ice_links(r)}")
        r = expect_status(call(srv, "OPTIONS", f"/whip/{ROOM}/cam2", token=clinic), 204)
        if ice_links(r):
            raise Fail(f"OPTIONS without [turn] has Link ice-server headers: {ice_links(r)}")
    s.check("no [turn]: WHIP and WHEP 201 and OPTIONS have no Link ice-server header", posts, srv)

    def joined():
        c = RoomClient(srv)
        try:
            j = c.request({"type": "join", "token": clinic, "room": ROOM})
        finally:
            c.close()
        if j.get("type") != "joined" or "iceServers" in j:
            raise Fail(f"joined without [turn] must have no iceServers: {j}")
    s.check("no [turn]: joined has no iceServers", joined, srv)
    s.stop(srv)


def check_post(s, srv, secret, kind, token, sub, offer, stream="cam", origin=None):
    issued = int(time.time())
    r = expect_status(call(srv, "POST", f"/{kind}/{ROOM}/{stream}", token=token, ctype=SDP, body=offer,
                           origin=origin), 201, f"{kind} POST: ")
    check_links(r, secret, sub, token_exp(token), issued)
    if origin and not expose_has_link(r):
        raise Fail(f"{kind} 201 to Origin {origin}: Access-Control-Expose-Headers "
                   f"{r.header('Access-Control-Expose-Headers')!r} does not name Link")
    return r


def run_posts(s, srv, secret):
    clinic = srv.token(ROOM, "clinic", "cart-a")
    expert = srv.token(ROOM, "expert", "dr-a")
    short = srv.token(ROOM, "clinic", "cart-short", ttl=90)
    colon = srv.token(ROOM, "clinic", "ward:7")
    origin = "https://console.example.org"
    s.check("WHIP 201: one Link per URL (RFC 9725 §4.6), credentials verify, expiry <= now + ttl, exposed to "
            "scripts", lambda: check_post(s, srv, secret, "whip", clinic, "cart-a", WHIP_OFFER, origin=origin), srv)
    s.check("WHEP 201: the same for a viewer's credentials",
            lambda: check_post(s, srv, secret, "whep", expert, "dr-a", WHEP_OFFER, origin=origin), srv)

    def short_token():
        r = check_post(s, srv, secret, "whip", short, "cart-short", WHIP_OFFER, stream="cam-short")
        m = LINK_RE.match(ice_links(r)[0])
        if int(m.group("username").split(":")[0]) != token_exp(short):
            raise Fail(f"a 90 s token: the credentials' expiry {m.group('username')} is not the token's exp "
                       f"{token_exp(short)}")
    s.check("a token shorter than ttl caps the credentials at its exp", short_token, srv)
    s.check("a sub with ':' stays whole after the expiry (username 'EXPIRY:ward:7')",
            lambda: check_post(s, srv, secret, "whip", colon, "ward:7", WHIP_OFFER, stream="cam-colon"), srv)


def run_options(s, srv, secret):
    clinic = srv.token(ROOM, "clinic", "cart-b")
    viewer = srv.token(ROOM, "viewer", "v-1")
    other = srv.token("other-ward", "clinic", "cart-b")
    path = f"/whip/{ROOM}/cam-opt"

    def preflight():
        r = expect_status(call(srv, "OPTIONS", path, origin="https://console.example.org",
                               headers={"Access-Control-Request-Method": "POST",
                                        "Access-Control-Request-Headers": "authorization, content-type"}), 204)
        if not expose_has_link(r):
            raise Fail(f"preflight: Access-Control-Expose-Headers {r.header('Access-Control-Expose-Headers')!r} "
                       "does not name Link")
        if ice_links(r):
            raise Fail(f"a CORS preflight must get no ICE servers: {ice_links(r)}")
        # Browsers send no token on a preflight; one that did still gets none.
        r = expect_status(call(srv, "OPTIONS", path, token=clinic, origin="https://console.example.org",
                               headers={"Access-Control-Request-Method": "POST"}), 204)
        if ice_links(r):
            raise Fail(f"a CORS preflight with a token must get no ICE servers: {ice_links(r)}")
    s.check("CORS preflight: 204, Link exposed, no ICE servers (even with a token)", preflight, srv)

    def with_token():
        issued = int(time.time())
        r = expect_status(call(srv, "OPTIONS", path, token=clinic, origin="https://console.example.org"), 204)
        check_links(r, secret, "cart-b", token_exp(clinic), issued)
        if not expose_has_link(r):
            raise Fail("OPTIONS with a token: Link is not exposed")
        r = expect_status(call(srv, "OPTIONS", f"/whep/{ROOM}/cam-opt", token=viewer), 204)
        check_links(r, secret, "v-1", token_exp(viewer), issued)
    s.check("OPTIONS (not a preflight) with a token that may POST: 204 with the ICE servers (WHIP, WHEP)",
            with_token, srv)

    def refused():
        for what, kw, p in (("no token", {}, path), ("a bad token", {"auth": "Bearer x.y.z"}, path),
                            ("another room's token", {"token": other}, path),
                            ("a viewer on /whip", {"token": viewer}, path),
                            ("a bad stream name", {"token": clinic}, f"/whip/{ROOM}/bad.name")):
            r = expect_status(call(srv, "OPTIONS", p, **kw), 204, f"OPTIONS with {what}: ")
            if ice_links(r):
                raise Fail(f"OPTIONS with {what} got ICE servers: {ice_links(r)}")
    s.check("OPTIONS with no token, a bad one, another room's, a viewer on /whip: 204 without ICE servers",
            refused, srv)


def run_joined(s, srv, secret):
    def joined(role, sub, ttl=None):
        tok = srv.token(ROOM, role, sub, ttl=ttl)
        issued = int(time.time())
        c = RoomClient(srv)
        try:
            j = c.request({"type": "join", "token": tok, "room": ROOM})
        finally:
            c.close()
        servers = j.get("iceServers")
        if j.get("type") != "joined" or not isinstance(servers, list) or len(servers) != 2:
            raise Fail(f"joined must have iceServers with a STUN and a TURN entry: {j}")
        if servers[0] != {"urls": STUN_URLS}:
            raise Fail(f"iceServers[0] is {servers[0]}, expected {{'urls': {STUN_URLS}}}")
        t = servers[1]
        if set(t) != {"urls", "username", "credential"} or t["urls"] != TURN_URLS:
            raise Fail(f"iceServers[1] is {t}, expected urls {TURN_URLS} with username and credential")
        expiry = check_credentials(secret, t["username"], t["credential"], sub, token_exp(tok), issued)
        if ttl is not None and expiry != token_exp(tok):
            raise Fail(f"a {ttl} s token: expiry {expiry} is not its exp {token_exp(tok)}")
    s.check("joined (clinic): iceServers, credentials verify, expiry <= now + ttl",
            lambda: joined("clinic", "cart-c"), srv)
    s.check("joined (viewer, 120 s token): credentials capped at the token's exp",
            lambda: joined("viewer", "v-2", ttl=120), srv)


def run_startup_errors(s, tmp):
    bin_path = server_binary()
    secret = "short-turn-secret"

    def no_secret():
        start_fails(bin_path, "[turn]\nurls = turn:turn.example.org:3478\n", tmp,
                    "[turn] urls names a TURN server but neither secret nor secret_file is set")
    s.check("start-up: [turn] urls without a secret is refused", no_secret)
    s.check("start-up: a short [turn] secret is refused without quoting it",
            lambda: start_fails(bin_path, f"[turn]\nurls = turn:x:3478\nsecret = {secret}\n", tmp,
                                "[turn] secret: must be at least 20 bytes long", secret))
    s.check("start-up: a missing [turn] secret_file is refused",
            lambda: start_fails(bin_path, "[turn]\nurls = turn:x:3478\nsecret_file = /nonexistent/turn\n", tmp,
                                "[turn] secret_file /nonexistent/turn: cannot open"))
    short_file = os.path.join(tmp, "short-secret")
    with open(short_file, "w") as f:
        f.write(secret + "\n")
    os.chmod(short_file, 0o600)
    s.check("start-up: a short secret in secret_file is refused without quoting it",
            lambda: start_fails(bin_path, f"[turn]\nurls = turn:x:3478\nsecret_file = {short_file}\n", tmp,
                                "it must be at least 20", secret))
    s.check("start-up: a bad URL names it and the reason",
            lambda: start_fails(bin_path, "[turn]\nurls = turns:x:443?transport=udp\n", tmp,
                                "[turn] urls: \"turns:x:443?transport=udp\": turns: is TURN over TLS"))


def run(s):
    run_without_turn(s)
    tmp = tempfile.mkdtemp(prefix="medrelay-turn-")
    secret = secrets.token_urlsafe(30)
    secret_file = os.path.join(tmp, "turn-secret")
    with open(secret_file, "w") as f:
        f.write(secret + "\n")
    os.chmod(secret_file, 0o600)
    audit = os.path.join(s.art, "audit.log")
    srv = s.start(config={"turn": {"urls": ", ".join(URLS), "secret_file": secret_file, "ttl": TTL},
                          "server": {"audit_log": audit}, "log": {"level": "debug"}})
    run_posts(s, srv, secret)
    run_options(s, srv, secret)
    run_joined(s, srv, secret)
    run_startup_errors(s, tmp)
    log_path = srv.log_path
    s.stop(srv)

    def no_secret_in_logs():
        for path in (log_path, audit):
            with open(path, errors="replace") as f:
                text = f.read()
            if secret in text:
                raise Fail(f"{path} holds the TURN secret")
            leaked = re.findall(r"credential[^\n]{0,20}[A-Za-z0-9+/]{27}=", text)
            if leaked:
                raise Fail(f"{path} holds a credential: {leaked[:2]}")
        with open(log_path, errors="replace") as f:
            if "ICE server for clients: turn:turn.example.org:3478?transport=udp" not in f.read():
                raise Fail("the server log does not say which ICE servers it hands out")
    s.check("the secret and the credentials never reach the server log (debug) or the audit trail",
            no_secret_in_logs)
    for name in os.listdir(tmp):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)


if __name__ == "__main__":
    sys.exit(Suite("turn_credentials").main(run))
