"""Starting medrelay and talking HTTP to it, for the Python integration tests.

Standard library only; run with /usr/bin/python3 (Debian's, which also sees
python3-aiortc for the tests that need it).

    from medrelay_harness import Server, SetupError, hs256_token, request

    srv = Server.start(artifact_dir)          # free port, temp config, env secret
    tok = srv.token("clinic-7", "clinic", "cart-a")
    r = request(srv.host, srv.port, "GET", "/healthz")
    problem = srv.stop()                      # None when it stopped cleanly

The server runs in a temporary folder (its cwd: config file, record dir,
secret file path), with its stdout and stderr in <artifact_dir>/medrelay.log,
under `setpriv --pdeathsig KILL` when setpriv exists so that it dies with
the test even when CTest kills the test on a timeout.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SDP_DIR = os.path.join(REPO_ROOT, "tests", "data", "sdp")

SANITIZER_PATTERNS = [re.compile(p) for p in (r"ERROR: AddressSanitizer", r"ERROR: LeakSanitizer",
                                              r"runtime error:", r"ERROR: ThreadSanitizer")]


class SetupError(Exception):
    """The test could not run (missing binary, server would not start, ...)."""


def server_binary():
    """MEDRELAY_BIN or build/medrelay, absolute, checked to be an executable file."""
    path = os.path.abspath(os.environ.get("MEDRELAY_BIN") or os.path.join(REPO_ROOT, "build", "medrelay"))
    if not os.path.isfile(path):
        raise SetupError(f"server binary {path} does not exist; set MEDRELAY_BIN to the medrelay binary "
                         "(CTest does this)")
    if not os.access(path, os.X_OK):
        raise SetupError(f"server binary {path} is not executable")
    return path


def artifact_dir(group, name):
    """tests/artifacts/<group>/<name>/ (or $MEDRELAY_ARTIFACT_DIR/<name>/), emptied."""
    base = os.environ.get("MEDRELAY_ARTIFACT_DIR") or os.path.join(REPO_ROOT, "tests", "artifacts", group)
    path = os.path.join(base, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
    return path


def free_port(host="127.0.0.1"):
    """A port that was free a moment ago (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def read_sdp(name):
    """The bytes of tests/data/sdp/<name> (CRLF line ends kept)."""
    with open(os.path.join(SDP_DIR, name), "rb") as f:
        return f.read()


# ---- JWT ----

def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_token(secret, claims, header=None):
    """A JWT over header and claims. HS256/384/512 are signed with secret; alg "none" is left unsigned."""
    header = header if header is not None else {"alg": "HS256", "typ": "JWT"}
    signing_input = b64url(json.dumps(header, separators=(",", ":"))) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")))
    alg = header.get("alg")
    if alg == "none":
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(alg, hashlib.sha256)
    key = secret.encode() if isinstance(secret, str) else secret
    sig = hmac.new(key, signing_input.encode(), digest).digest()
    return signing_input + "." + b64url(sig)


# ---- HTTP ----

class Response:
    def __init__(self, status, reason, headers, body, send_error=None):
        self.status = status
        self.reason = reason
        self.header_list = headers          # [(name, value)] as received
        self.body = body                    # bytes
        self.send_error = send_error        # set when the server stopped reading our body early

    def header(self, name, default=None):
        """The value of a header (several occurrences joined with ", "), case-insensitive."""
        vals = [v for k, v in self.header_list if k.lower() == name.lower()]
        return ", ".join(vals) if vals else default

    def header_tokens(self, name):
        """A comma-separated header as a set of lower-case tokens."""
        v = self.header(name, "")
        return {t.strip().lower() for t in v.split(",") if t.strip()}

    def json(self):
        """The body parsed as JSON, or None."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def brief(self):
        body = self.body[:300].decode("utf-8", "replace")
        return f"{self.status} {self.reason} {body!r}"


class HttpError(Exception):
    """No (complete) HTTP response: connection refused, reset, timed out, garbage."""


def _read_response(sock, deadline, buf=b""):
    def more():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HttpError("timed out waiting for the response")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise HttpError("timed out waiting for the response") from None
        except ConnectionResetError:
            raise HttpError("connection reset before a complete response") from None
        return chunk

    while b"\r\n\r\n" not in buf:
        chunk = more()
        if not chunk:
            raise HttpError(f"connection closed before the response headers ({len(buf)} bytes: {buf[:100]!r})")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
    if not m:
        raise HttpError(f"not an HTTP status line: {lines[0]!r}")
    status, reason = int(m.group(1)), m.group(2) or ""
    headers = []
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers.append((k.strip(), v.strip()))
    hmap = {k.lower(): v for k, v in headers}
    if status in (204, 304) or 100 <= status < 200:
        return status, reason, headers, b""
    if "chunked" in hmap.get("transfer-encoding", "").lower():
        body = b""
        data = rest
        while True:
            while b"\r\n" not in data:
                chunk = more()
                if not chunk:
                    raise HttpError("connection closed inside a chunked body")
                data += chunk
            size_line, data = data.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            while len(data) < size + 2:
                chunk = more()
                if not chunk:
                    raise HttpError("connection closed inside a chunk")
                data += chunk
            if size == 0:
                break
            body += data[:size]
            data = data[size + 2:]
        return status, reason, headers, body
    if "content-length" in hmap:
        n = int(hmap["content-length"])
        body = rest
        while len(body) < n:
            chunk = more()
            if not chunk:
                raise HttpError(f"connection closed after {len(body)} of {n} body bytes")
            body += chunk
        return status, reason, headers, body[:n]
    body = rest
    while True:
        chunk = more()
        if not chunk:
            return status, reason, headers, body
        body += chunk


def request(host, port, method, path, headers=None, body=None, timeout=5.0, content_length=None, tls=None):
    """One HTTP/1.1 request on a fresh connection (Connection: close), over a raw socket
    (wrapped by tls, an ssl.SSLContext, for HTTPS).

    path is sent exactly as given (no quoting), so tests can send %2F and
    other odd names. headers is a dict or a list of pairs; Host and
    Connection are added, and Content-Length when body is not None (or
    content_length overrides it). The body is sent in pieces while watching
    for an early answer, so a server that refuses an oversized body before
    reading it is heard rather than reset. Raises HttpError when no
    complete response arrives.
    """
    deadline = time.monotonic() + timeout
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in pairs}
    if "host" not in names:
        pairs.insert(0, ("Host", f"{host}:{port}"))
    if body is not None and "content-length" not in names:
        pairs.append(("Content-Length", str(len(body) if content_length is None else content_length)))
    pairs.append(("Connection", "close"))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n"
    if isinstance(body, str):
        body = body.encode()
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=host)
    except OSError as e:
        raise HttpError(f"cannot connect to {host}:{port}: {e}") from None
    send_error = None
    early = b""
    try:
        sock.sendall(head.encode("iso-8859-1"))
        data = body or b""
        off = 0
        if tls is not None:
            # Over TLS the socket turns readable with the server's session
            # tickets, which the early-answer watch below would take for an
            # answer and then wait on: send the body whole.
            sock.sendall(data)
            off = len(data)
        if len(data) > 16384:
            # A server that refuses by Content-Length answers now; not sending the
            # body then avoids a reset that could destroy its answer in our buffer.
            select.select([sock], [], [], 0.2)
        while off < len(data):
            r, _, _ = select.select([sock], [], [], 0)
            if r:
                early = sock.recv(65536)
                send_error = f"server answered after {off} of {len(data)} body bytes"
                break
            try:
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                sent = sock.send(data[off:off + 16384])
            except (BrokenPipeError, ConnectionResetError) as e:
                send_error = f"{type(e).__name__} after {off} of {len(data)} body bytes"
                break
            except socket.timeout:
                send_error = f"send timed out after {off} of {len(data)} body bytes"
                break
            off += sent
        status, reason, hdrs, rbody = _read_response(sock, deadline, early)
        return Response(status, reason, hdrs, rbody, send_error)
    except OSError as e:
        raise HttpError(f"{type(e).__name__}: {e}") from None
    finally:
        sock.close()


def call(srv, method, path, token=None, ctype=None, body=None, headers=None, auth=None, origin=None,
         timeout=5.0):
    """One request to srv the way the contract tests make them: a Bearer token (or a raw
    Authorization value in auth), Content-Type, Origin and extra headers (a dict or pairs);
    POST and PATCH always carry a body (empty when none is given)."""
    hdrs = []
    if auth is not None:
        hdrs.append(("Authorization", auth))
    elif token is not None:
        hdrs.append(("Authorization", f"Bearer {token}"))
    if ctype is not None:
        hdrs.append(("Content-Type", ctype))
    if origin is not None:
        hdrs.append(("Origin", origin))
    hdrs += list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if body is None and method in ("POST", "PATCH"):
        body = b""
    return request(srv.host, srv.port, method, path, hdrs, body, timeout=timeout, tls=getattr(srv, "tls", None))


# ---- the server ----

class Server:
    def __init__(self):
        self.proc = None
        self.tmp = None
        self.stopped = False

    @classmethod
    def start(cls, artifact_dir, bin_path=None, config=None, env=None, ready_timeout=15.0,
              seed_record_dir=None, record_dir=None):
        """Starts medrelay and waits for GET /healthz → 200. Raises SetupError on failure.
        seed_record_dir: a folder copied into the server's record directory first.
        record_dir: use this record directory (a tmpfs, a read-only mount, the
        one of a previous run) instead of a fresh one in the temp folder."""
        self = cls()
        self.bin = bin_path or server_binary()
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        # With a certificate in the config the server speaks HTTPS only; the
        # tests trust any certificate (theirs are self-signed).
        self.tls = None
        if (config or {}).get("server", {}).get("tls_cert"):
            import ssl
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.tls.check_hostname = False
            self.tls.verify_mode = ssl.CERT_NONE
        self.url = f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"
        self.secret = secrets.token_hex(24)           # 48 bytes; the contract wants >= 32
        self.tmp = tempfile.mkdtemp(prefix="medrelay-test-")
        self.record_dir = record_dir or os.path.join(self.tmp, "recordings")
        if seed_record_dir and not record_dir:
            shutil.copytree(seed_record_dir, self.record_dir, symlinks=True)
        elif not record_dir:
            os.makedirs(self.record_dir)
        web_root = os.path.join(REPO_ROOT, "signaling", "web")
        sections = {
            "server": {"web_root": web_root if os.path.isdir(web_root) else None},
            # Never touch the repository's .medrelay/ secret; the env secret wins anyway.
            "auth": {"jwt_secret_file": os.path.join(self.tmp, "jwt-secret")},
            "log": {"level": os.environ.get("MEDRELAY_TEST_LOG_LEVEL")},
        }
        for sec, keys in (config or {}).items():
            sections.setdefault(sec, {}).update(keys)
        self.config_path = os.path.join(self.tmp, "medrelay.conf")
        with open(self.config_path, "w") as f:
            f.write("# Written by tests/lib/medrelay_harness.py for one test run.\n")
            for sec, keys in sections.items():
                keys = {k: v for k, v in keys.items() if v is not None}
                if keys:
                    f.write(f"\n[{sec}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()))
        self.log_path = os.path.join(artifact_dir, "medrelay.log")
        args = [self.bin, "--config", self.config_path, "--listen", f"{self.host}:{self.port}",
                "--media-ip", self.host, "--record-dir", self.record_dir]
        cmd = (["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] + args) if os.path.exists("/usr/bin/setpriv") else args
        self.env = dict(os.environ, MEDRELAY_JWT_SECRET=self.secret, **(env or {}))
        print(f"starting {' '.join(args)}", flush=True)
        with open(self.log_path, "wb") as log:
            try:
                self.proc = subprocess.Popen(cmd, cwd=self.tmp, env=self.env, stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT)
            except OSError as e:
                self._remove_tmp()
                raise SetupError(f"cannot run {self.bin}: {e}") from None
        deadline = time.monotonic() + ready_timeout
        last = ""
        while True:
            code = self.proc.poll()
            if code is not None:
                self.stopped = True
                self._remove_tmp()
                raise SetupError(f"medrelay exited during start-up ({describe_status(code)}); "
                                 f"last lines of {self.log_path}:\n{self.tail()}")
            try:
                r = request(self.host, self.port, "GET", "/healthz", timeout=1.0, tls=self.tls)
                if r.status == 200:
                    break
                last = f"status {r.status}"
            except HttpError as e:
                last = str(e)
            if time.monotonic() > deadline:
                tail = self.tail()
                self.stop(grace=2.0)
                raise SetupError(f"medrelay did not answer GET /healthz with 200 within {ready_timeout:.0f} s "
                                 f"(last: {last}); last lines of {self.log_path}:\n{tail}")
            time.sleep(0.1)
        print(f"medrelay ready at {self.url} (pid {self.proc.pid})", flush=True)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n=40):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:]).rstrip("\n") or "(empty)"
        except OSError:
            return "(no log)"

    def token(self, room, role, name=None, ttl=None):
        """Mints a token with `medrelay token`. Raises SetupError if that fails."""
        args = [self.bin, "token", "--config", self.config_path, "--room", room, "--role", role]
        if name is not None:
            args += ["--name", name]
        if ttl is not None:
            args += ["--ttl", str(ttl)]
        try:
            out = subprocess.run(args, env=self.env, capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SetupError(f"`{' '.join(args[1:])}` failed: {e}") from None
        tok = out.stdout.decode(errors="replace").strip()
        if out.returncode != 0 or not re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", tok):
            raise SetupError(f"`medrelay {' '.join(args[1:])}` gave status {out.returncode}, "
                             f"stdout {tok[:200]!r}, stderr {out.stderr.decode(errors='replace').strip()[:300]!r}")
        return tok

    def stop(self, grace=5.0):
        """SIGTERM, wait up to grace seconds, SIGKILL. Returns None when medrelay stopped
        cleanly (status 0 or death by SIGTERM, no sanitizer report), else what went wrong."""
        if self.stopped or self.proc is None:
            return None
        self.stopped = True
        problem = None
        if self.proc.poll() is not None:
            problem = f"medrelay had already exited ({describe_status(self.proc.returncode)})"
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problem = f"medrelay did not exit within {grace:.0f} s of SIGTERM (killed)"
            code = self.proc.returncode
            if problem is None and not (code == 0 or code == -signal.SIGTERM):
                problem = f"medrelay stopped badly after SIGTERM ({describe_status(code)})"
        try:
            with open(self.log_path, "r", errors="replace") as f:
                text = f.read()
            for pat in SANITIZER_PATTERNS:
                if pat.search(text):
                    problem = (problem + "; " if problem else "") + f"sanitizer report in the log ({pat.pattern})"
                    break
        except OSError:
            pass
        self._remove_tmp()
        return problem

    def _remove_tmp(self):
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def describe_status(code):
    if code is None:
        return "running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    if code == 127:
        return "status 127: could not be executed"
    return f"status {code}"
