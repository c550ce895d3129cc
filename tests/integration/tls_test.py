#!/usr/bin/python3
"""HTTPS and WSS: with [server] tls_cert and tls_key the one port speaks TLS
only (1.2 or later): /healthz, WHIP and the room protocol over TLS; plain
HTTP and TLS 1.1 are refused; a missing key file or half a configuration
stops start-up with a clear error. Env: MEDRELAY_BIN.
"""
import os
import socket
import warnings
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import (HttpError, Server, SetupError, artifact_dir, free_port, read_sdp,  # noqa: E402
                              request, server_binary)
from room_client import RoomClient  # noqa: E402

failures = 0
warnings.filterwarnings("ignore", category=DeprecationWarning)  # TLS 1.1, on purpose


def check(name, cond, info=""):
    global failures
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else "  -- " + str(info)), flush=True)
    if not cond:
        failures += 1


def make_cert(folder):
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    return cert, key


def handshake(port, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = version
    ctx.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            with ctx.wrap_socket(s) as t:
                return t.version()
    except (ssl.SSLError, OSError) as e:
        return f"refused ({e})"


def start_fails(art, config, what):
    """Starts the server with a broken TLS setup; returns its exit status and output."""
    conf = os.path.join(art, f"{what}.conf")
    with open(conf, "w") as f:
        for sec, keys in config.items():
            f.write(f"[{sec}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()))
    env = dict(os.environ, MEDRELAY_JWT_SECRET="x" * 40)
    p = subprocess.run([server_binary(), "--config", conf, "--listen", f"127.0.0.1:{free_port()}"], env=env,
                       capture_output=True, timeout=15, cwd=art)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def main():
    art = artifact_dir("integration", "tls")
    tmp = tempfile.mkdtemp(prefix="medrelay-tls-")
    cert, key = make_cert(tmp)

    code, out = start_fails(art, {"server": {"tls_cert": cert}}, "half")
    check("tls_cert without tls_key stops start-up", code != 0 and "tls_key" in out, out[-300:])
    code, out = start_fails(art, {"server": {"tls_cert": cert, "tls_key": os.path.join(tmp, "nope.pem")}}, "missing")
    check("a missing key file stops start-up, named", code != 0 and "nope.pem" in out, out[-300:])

    try:
        srv = Server.start(art, config={"server": {"tls_cert": cert, "tls_key": key}})
    except SetupError as e:
        print(f"SETUP {e}")
        return 2
    try:
        r = request(srv.host, srv.port, "GET", "/healthz", tls=srv.tls)
        check("GET /healthz over HTTPS", r.status == 200, r.brief())
        try:
            plain = request(srv.host, srv.port, "GET", "/healthz", timeout=2)
            check("plain HTTP is not served", plain.status != 200, plain.brief())
        except HttpError as e:
            check("plain HTTP is not served", True, e)
        check("TLS 1.2 accepted", handshake(srv.port, ssl.TLSVersion.TLSv1_2) == "TLSv1.2")
        check("TLS 1.3 accepted", handshake(srv.port, ssl.TLSVersion.TLSv1_3) == "TLSv1.3")
        v11 = handshake(srv.port, ssl.TLSVersion.TLSv1_1)
        # The server's alert, not our own library declining to try.
        check("TLS 1.1 refused by the server", "alert protocol version" in v11, v11)
        tok = srv.token("ward-t", "clinic", "cart-t")
        r = request(srv.host, srv.port, "POST", "/whip/ward-t/cam", tls=srv.tls,
                    headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/sdp"},
                    body=read_sdp("chromium_whip_sendonly.sdp"))
        check("WHIP over HTTPS -> 201", r.status == 201, r.brief())
        c = RoomClient(srv)
        check("the room protocol over WSS", c.url.startswith("wss://"))
        j = c.request({"type": "join", "token": srv.token("ward-t", "expert", "dr-t")})
        check("join over WSS", j and j.get("type") == "joined"
              and [s["name"] for s in j["room"]["streams"]] == ["cam"], j)
        r = c.request({"type": "ping"})
        check("ping over WSS", r and r.get("type") == "pong", r)
        c.close()
    finally:
        problem = srv.stop()
        check("server stopped cleanly", problem is None, problem)
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
