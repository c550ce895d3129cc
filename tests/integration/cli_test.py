#!/usr/bin/python3
"""Command line, configuration and secret handling of build/medrelay.

Each check starts the real binary in a scratch directory and looks at its
exit status, output and files. Prints PASS/FAIL per check; exits non-zero if
any failed. Env: MEDRELAY_BIN.
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("MEDRELAY_BIN", "build/medrelay")
SECRET = "cli-test-secret-0123456789abcdef-xyz"
failures = 0


def check(name, cond, info=""):
    global failures
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else "  -- " + str(info)))
    if not cond:
        failures += 1


def run(args, env=None, cwd=None, timeout=10):
    e = {k: v for k, v in os.environ.items() if k != "MEDRELAY_JWT_SECRET"}
    e.update(env or {})
    return subprocess.run([BIN] + args, env=e, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
        return True
    except OSError:
        return False


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def test_version_help():
    r = run(["--version"])
    check("--version exits 0 and names medrelay", r.returncode == 0 and "medrelay" in r.stdout,
          r)
    r = run(["--help"])
    check("--help shows both usages", r.returncode == 0 and "medrelay token" in r.stdout and
          "--media-ip" in r.stdout, r)
    r = run(["--bogus"])
    check("unknown option exits non-zero", r.returncode != 0 and "--bogus" in r.stderr, r)


def test_token(tmp):
    r = run(["token", "--room", "ward-3", "--role", "expert", "--name", "dr-li", "--ttl", "120"],
            env={"MEDRELAY_JWT_SECRET": SECRET}, cwd=tmp)
    tok = r.stdout.strip()
    check("token prints only the token", r.returncode == 0 and r.stdout.count("\n") == 1 and
          tok.count(".") == 2, r)
    if r.returncode != 0:
        return
    h, p, s = tok.split(".")
    header, claims = json.loads(b64d(h)), json.loads(b64d(p))
    mac = hmac.new(SECRET.encode(), (h + "." + p).encode(), hashlib.sha256).digest()
    check("token is HS256 with the secret", header.get("alg") == "HS256" and
          hmac.compare_digest(mac, b64d(s)), header)
    check("token claims", claims.get("room") == "ward-3" and claims.get("role") == "expert" and
          claims.get("sub") == "dr-li" and abs(claims["exp"] - time.time() - 120) < 5, claims)
    r = run(["token", "--room", "r", "--role", "viewer"], env={"MEDRELAY_JWT_SECRET": SECRET},
            cwd=tmp)
    claims = json.loads(b64d(r.stdout.strip().split(".")[1]))
    check("default ttl 3600 and a sub without --name",
          abs(claims["exp"] - time.time() - 3600) < 5 and claims.get("sub"), claims)
    for args, what in ((["--room", "a/b", "--role", "clinic"], "bad room"),
                       (["--room", "r", "--role", "doctor"], "bad role"),
                       (["--room", "r", "--role", "clinic", "--ttl", "-5"], "bad ttl"),
                       (["--role", "clinic"], "missing room")):
        r = run(["token"] + args, env={"MEDRELAY_JWT_SECRET": SECRET}, cwd=tmp)
        check("token refuses " + what, r.returncode != 0 and r.stdout == "", r)


def test_short_secret(tmp):
    port = free_port()
    r = run(["--listen", f"127.0.0.1:{port}"], env={"MEDRELAY_JWT_SECRET": "short"}, cwd=tmp)
    check("a secret under 32 bytes stops start-up", r.returncode != 0 and
          "32" in r.stderr and not listening(port), r.stderr)
    conf = os.path.join(tmp, "short.conf")
    with open(conf, "w") as f:
        f.write("[auth]\njwt_secret = tooshort\n")
    r = run(["--config", conf, "--listen", f"127.0.0.1:{port}"], cwd=tmp)
    check("a short configured secret is refused", r.returncode != 0 and "32" in r.stderr,
          r.stderr)


def test_config_errors(tmp):
    port = free_port()
    conf = os.path.join(tmp, "bad.conf")
    with open(conf, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:%d\n\n[media]\nudp_port_min = 70000\n" % port)
    r = run(["--config", conf], env={"MEDRELAY_JWT_SECRET": SECRET}, cwd=tmp)
    check("config error names file, line and key",
          r.returncode != 0 and conf + ":5:" in r.stderr and "udp_port_min" in r.stderr,
          r.stderr)
    check("config error: nothing listens", not listening(port))
    with open(conf, "w") as f:
        f.write("[media]\nud_port_min = 2\n")
    r = run(["--config", conf], env={"MEDRELAY_JWT_SECRET": SECRET}, cwd=tmp)
    check("unknown key is an error", r.returncode != 0 and "ud_port_min" in r.stderr, r.stderr)
    r = run(["--config", os.path.join(tmp, "missing.conf")], env={"MEDRELAY_JWT_SECRET": SECRET})
    check("missing config file is an error", r.returncode != 0 and "missing.conf" in r.stderr,
          r.stderr)
    r = run(["--listen", "nonsense"], env={"MEDRELAY_JWT_SECRET": SECRET})
    check("bad --listen is an error", r.returncode != 0 and "--listen" in r.stderr, r.stderr)


def test_no_secret_off_loopback(tmp):
    conf = os.path.join(tmp, "open.conf")
    with open(conf, "w") as f:
        f.write("[auth]\njwt_secret_file = %s\n" % os.path.join(tmp, "nosuch", "secret"))
    port = free_port()
    r = run(["--config", conf, "--listen", f"0.0.0.0:{port}"], cwd=tmp)
    check("no secret: refuses to listen off loopback", r.returncode != 0 and
          "loopback" in r.stderr and not listening(port), r.stderr)
    check("no secret file was created for an open address",
          not os.path.exists(os.path.join(tmp, "nosuch", "secret")))


def test_first_run_secret(tmp):
    secret_file = os.path.join(tmp, "state", "jwt-secret")
    conf = os.path.join(tmp, "first.conf")
    port = free_port()
    with open(conf, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:%d\n[auth]\njwt_secret_file = %s\n"
                % (port, secret_file))
    r = run(["token", "--config", conf, "--room", "demo", "--role", "clinic"], cwd=tmp)
    ok = r.returncode == 0 and os.path.exists(secret_file)
    check("first run creates the secret file", ok, r.stderr)
    if not ok:
        return
    mode = stat.S_IMODE(os.stat(secret_file).st_mode)
    check("secret file is owner-only (0600)", mode == 0o600, oct(mode))
    check("secret folder is owner-only (0700)",
          stat.S_IMODE(os.stat(os.path.dirname(secret_file)).st_mode) == 0o700)
    secret = open(secret_file).read().strip()
    check("generated secret is at least 32 bytes", len(secret) >= 32, len(secret))
    tok = r.stdout.strip()
    h, p, s = tok.split(".")
    mac = hmac.new(secret.encode(), (h + "." + p).encode(), hashlib.sha256).digest()
    check("token is signed with the file's secret", hmac.compare_digest(mac, b64d(s)))
    proc = subprocess.Popen([BIN, "--config", conf], cwd=tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={k: v for k, v in os.environ.items()
                                 if k != "MEDRELAY_JWT_SECRET"})
    try:
        for _ in range(50):
            if listening(port):
                break
            time.sleep(0.1)
        check("server starts with the same secret file", listening(port))
        check("secret unchanged by the server", open(secret_file).read().strip() == secret)
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    check("SIGTERM exits cleanly", proc.returncode == 0, proc.returncode)
    check("the secret never appears in the log", secret not in err and secret not in out)


def main():
    if not os.access(BIN, os.X_OK):
        print("medrelay binary not found: " + BIN, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        test_version_help()
        test_token(tmp)
        test_short_secret(tmp)
        test_config_errors(tmp)
        test_no_secret_off_loopback(tmp)
        test_first_run_secret(tmp)
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
