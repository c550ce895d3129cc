#!/usr/bin/python3
"""Recording to disk against the real server (issue 4, "Tests"), with real
publishers: aiortc (tests/interop/aiortc_whip_publish.py, an independent
WebRTC stack) and the C test peer (mr-peer, for a high bitrate and for
viewers whose statistics show that forwarding went on).

Cases, each on its own server and its own record directory (room policy
"always", the default):
  vp8       aiortc VP8 for 10 s: a finalized .webm (vp8 + opus, 320x240,
            duration within 10 % of the time published), its sidecar; then
            the range download of that recording through the API (list with
            an expert token, signed URL, "bytes=0-999", "bytes=-500", whole
            file), compared with the file on disk
  h264      aiortc H.264: a finalized .mkv (Matroska) with h264 + opus
  sigkill   SIGKILL the server ~8 s into a recording: the ".recording.webm"
            left behind plays (decoded with ffprobe) to within 2 s of the
            kill; a restart 5 s later on the same directory marks it
            "interrupted" (size, sha256, an end that is the file's, not the
            restart's) and renames it to its final name
  sigterm   SIGTERM during a recording: the server finalizes and exits 0;
            sidecar "complete", file renamed, duration present
  fulldisk  record directory on a 3 MB tmpfs, mr-peer publishing 4 Mbit/s
            for 15 s with an mr-peer viewer: the recording fails with an
            error about space (sidecar or API, and the log), while the
            viewer receives everything to the end and /healthz answers
  readonly  record directory on a read-only bind mount: publishing works
            (201, the viewer receives), the recording cannot start (a clear
            error in the log, the API shows no running recording), no crash

Needs root (mount), python3-aiortc, ffprobe and mr-peer (next to
MEDRELAY_BIN: <build>/tests/peer/mr-peer, or MR_PEER_BIN). A mount that
fails fails the test. Mounts and processes are cleaned up on every path.
Artifacts: tests/artifacts/integration/recording/<case>/ (medrelay.log,
publisher and viewer output, ffprobe JSON, sidecars) and summary.json.

  MEDRELAY_BIN=build/medrelay /usr/bin/python3 tests/integration/recording_test.py [case ...]
"""
import calendar
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import (REPO_ROOT, HttpError, Server, SetupError, artifact_dir,  # noqa: E402
                              request, server_binary)

PYTHON = "/usr/bin/python3"  # Debian's: sees python3-aiortc
AIORTC = os.path.join(REPO_ROOT, "tests", "interop", "aiortc_whip_publish.py")
ROOM = "ward-5"
RESTART_GAP_S = 5  # between the SIGKILL and the restart
SANITIZER = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|ERROR: ThreadSanitizer")

failures = []
summary = {}


class Fail(Exception):
    """A failed expectation of one case."""


def check(cond, what):
    if not cond:
        raise Fail(what)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- tools ----

def mr_peer_binary():
    p = os.environ.get("MR_PEER_BIN") or os.path.join(os.path.dirname(server_binary()), "tests", "peer", "mr-peer")
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        raise SetupError(f"mr-peer not found at {p}; build it (target mr-peer) or set MR_PEER_BIN")
    return p


class Case:
    """One case: its artifact folder, servers, child processes and mounts, all
    cleaned up by close() whatever happened."""

    def __init__(self, art_root, name):
        self.name = name
        self.art = os.path.join(art_root, name)
        os.makedirs(self.art, exist_ok=True)
        self.servers = []
        self.procs = []
        self.mounts = []
        self.tmp = tempfile.mkdtemp(prefix=f"medrelay-rec-{name}-")
        self.info = {}

    def record_dir(self, sub="recordings"):
        d = os.path.join(self.tmp, sub)
        os.makedirs(d, exist_ok=True)
        return d

    def server(self, record_dir, log_name="", config=None):
        art = self.art if not log_name else os.path.join(self.art, log_name)
        os.makedirs(art, exist_ok=True)
        srv = Server.start(art, config=config, record_dir=record_dir)
        srv.rec_dir = record_dir
        self.servers.append(srv)
        return srv

    def mount(self, args, target, what):
        out = subprocess.run(args, capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            raise Fail(f"{what}: `{' '.join(args)}` failed (status {out.returncode}): "
                       f"{(out.stderr or out.stdout).strip()}")
        if target not in self.mounts:
            self.mounts.append(target)

    def spawn(self, args, label):
        p = Child(args, os.path.join(self.art, label))
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            p.kill()
        for srv in self.servers:
            if not srv.stopped:
                srv.stop(grace=5.0)
        for target in reversed(self.mounts):
            for args in (["umount", target], ["umount", "-l", target]):
                if subprocess.run(args, capture_output=True, timeout=20).returncode == 0:
                    break
            else:
                print(f"WARNING: could not unmount {target}", flush=True)
        still = [m for m in self.mounts if is_mounted(m)]
        if not still:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return still


def is_mounted(path):
    try:
        with open("/proc/self/mounts") as f:
            return any(line.split()[1] == path for line in f)
    except OSError:
        return False


class Child:
    """A child process whose stdout lines are collected (JSON ones parsed) and
    whose stderr goes to <label>.stderr."""

    def __init__(self, args, label):
        self.label = label
        self.err_path = label + ".stderr"
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.err)
        self.lines = []
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        with open(self.label + ".stdout", "wb") as out:
            for raw in self.proc.stdout:
                out.write(raw)
                out.flush()
                line = raw.decode(errors="replace").strip()
                self.lines.append(line)
                try:
                    self.q.put(json.loads(line))
                except ValueError:
                    pass

    def event(self, name, timeout):
        """The next JSON line with "event": name (an "error" line fails)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                ev = self.q.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                raise Fail(f"{os.path.basename(self.label)}: no \"{name}\" event within {timeout} s; "
                           f"stderr: {self.stderr_tail()}") from None
            if ev.get("error"):
                raise Fail(f"{os.path.basename(self.label)}: {json.dumps(ev)[:500]}")
            if ev.get("event") == name:
                return ev

    def result(self, timeout):
        """Waits for exit; returns (status, last JSON object printed or None)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Fail(f"{os.path.basename(self.label)} did not finish within {timeout} s") from None
        self.t.join(timeout=5)
        last = None
        for line in self.lines:
            try:
                last = json.loads(line)
            except ValueError:
                pass
        return self.proc.returncode, last

    def stderr_tail(self, n=1500):
        try:
            self.err.flush()
            with open(self.err_path, "rb") as f:
                return f.read().decode(errors="replace")[-n:].strip() or "(empty)"
        except OSError:
            return "(unreadable)"

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.err.close()


# ---- HTTP ----

def api(srv, method, path, token=None, headers=None, timeout=10.0):
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = "Bearer " + token
    return request(srv.host, srv.port, method, path, headers=hdrs, timeout=timeout)


def stream_status(srv, token, stream):
    """The API's status of one stream (dict), or None when it answers otherwise."""
    try:
        r = api(srv, "GET", f"/api/rooms/{ROOM}/streams/{stream}", token, timeout=3.0)
    except HttpError:
        return None
    j = r.json() if r.status == 200 else None
    if isinstance(j, dict) and "streams" in j:
        j = next((s for s in j["streams"] if s.get("stream") == stream), None)
    return j


def healthz(srv):
    try:
        return api(srv, "GET", "/healthz", timeout=2.0).status
    except HttpError as e:
        return str(e)


def metric(srv, name, labels):
    if not getattr(srv, "scrape_token", None):
        srv.scrape_token = srv.token("*", "operator", "scraper")
    try:
        r = api(srv, "GET", "/metrics", srv.scrape_token, timeout=3.0)
    except HttpError:
        return None
    for line in r.body.decode(errors="replace").splitlines():
        if line.startswith(name + "{") and labels in line:
            try:
                return float(line.split()[-1])
            except ValueError:
                return None
    return None


# ---- the record directory ----

def walk(root):
    """[(relative path, absolute path, os.stat_result)] of every file and folder below root."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for n in sorted(dirs) + sorted(files):
            p = os.path.join(d, n)
            try:
                out.append((os.path.relpath(p, root), p, os.lstat(p)))
            except OSError:
                pass
    return out


def listing(root):
    rows = [f"{oct(st.st_mode & 0o7777)} {'d' if os.path.isdir(p) else '-'} {st.st_size:>9} {rel}"
            for rel, p, st in walk(root)]
    return "\n".join(rows) or "(empty)"


def media_files(root):
    return [(rel, p) for rel, p, st in walk(root) if re.search(r"\.(webm|mkv)$", rel)]


def sidecars(root):
    out = []
    for rel, p, st in walk(root):
        if rel.endswith(".json"):
            try:
                with open(p) as f:
                    out.append((rel, p, json.load(f)))
            except (OSError, ValueError):
                out.append((rel, p, None))
    return out


def wait_sidecar(root, pred, what, timeout):
    deadline = time.monotonic() + timeout
    while True:
        for rel, p, j in sidecars(root):
            if j is not None and pred(j):
                return rel, p, j
        if time.monotonic() > deadline:
            raise Fail(f"timed out after {timeout} s waiting for {what}; sidecars: "
                       f"{json.dumps([j for _, _, j in sidecars(root)])[:1500]}\n{listing(root)}")
        time.sleep(0.2)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ffprobe(path, art, label):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", path],
                         capture_output=True, text=True, timeout=60)
    with open(os.path.join(art, f"{label}.ffprobe.json"), "w") as f:
        f.write(out.stdout + (("\n// stderr:\n" + out.stderr) if out.stderr else ""))
    if out.returncode != 0:
        raise Fail(f"ffprobe {os.path.basename(path)} failed (status {out.returncode}): {out.stderr.strip()[-800:]}")
    j = json.loads(out.stdout)
    streams = j.get("streams", [])
    v = next((s for s in streams if s.get("codec_type") == "video"), {})
    a = next((s for s in streams if s.get("codec_type") == "audio"), {})
    return {"format": j.get("format", {}).get("format_name"), "duration": float(j.get("format", {}).get("duration") or 0),
            "video": v.get("codec_name"), "audio": a.get("codec_name"), "width": v.get("width"),
            "height": v.get("height"), "stderr": out.stderr.strip()}


def ebml_doctype(path):
    """The DocType of a Matroska/WebM file's EBML header ("webm", "matroska"), or None."""
    with open(path, "rb") as f:
        head = f.read(64)
    i = head.find(b"\x42\x82")  # DocType element
    if not head.startswith(b"\x1a\x45\xdf\xa3") or i < 0 or i + 3 > len(head) or not head[i + 2] & 0x80:
        return None
    n = head[i + 2] & 0x7f
    return head[i + 3:i + 3 + n].rstrip(b"\x00").decode(errors="replace")  # EBML strings may be NUL-padded


def decoded_span(path, art, label):
    """Decodes every frame (ffprobe -show_frames): the span of video and audio
    timestamps, and the decoder's complaints."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "frame=media_type,pts_time,best_effort_timestamp_time",
                          "-of", "json", path], capture_output=True, text=True, timeout=120)
    with open(os.path.join(art, f"{label}.frames.stderr"), "w") as f:
        f.write(out.stderr)
    if out.returncode != 0 and not out.stdout:
        raise Fail(f"decoding {os.path.basename(path)} failed (status {out.returncode}): {out.stderr.strip()[-800:]}")
    frames = json.loads(out.stdout or "{}").get("frames", [])
    res = {"status": out.returncode, "errors": len(out.stderr.strip().splitlines())}
    for kind in ("video", "audio"):
        ts = []
        for fr in frames:
            if fr.get("media_type") != kind:
                continue
            t = fr.get("pts_time", fr.get("best_effort_timestamp_time"))
            try:
                ts.append(float(t))
            except (TypeError, ValueError):
                pass
        res[kind] = {"frames": len(ts), "first": min(ts) if ts else None, "last": max(ts) if ts else None,
                     "span": (max(ts) - min(ts)) if ts else 0.0}
    return res


def iso_time(s):
    """Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fff]Z", or None."""
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z", str(s))
    if not m:
        return None
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2) or 0)


def within(value, expected, fraction):
    return value is not None and abs(value - expected) <= expected * fraction


def log_lines(srv, pattern):
    try:
        with open(srv.log_path, errors="replace") as f:
            return [line.rstrip("\n") for line in f if re.search(pattern, line)]
    except OSError:
        return []


def no_sanitizer(srv):
    try:
        with open(srv.log_path, errors="replace") as f:
            m = SANITIZER.search(f.read())
    except OSError:
        return
    check(m is None, f"sanitizer report in {srv.log_path}: {m.group(0) if m else ''}")


def stop_clean(srv):
    problem = srv.stop()
    check(problem is None, f"server: {problem}")


# ---- publishers and viewers ----

def aiortc(case, srv, stream, seconds, codec, name):
    tok = srv.token(ROOM, "clinic", name)
    return case.spawn([PYTHON, AIORTC, f"{srv.url}/whip/{ROOM}/{stream}", tok, str(seconds), codec],
                      f"aiortc-{codec}-{stream}")


def mr_peer(case, srv, mode, stream, token, seconds, extra=(), label=None):
    kind = "whip" if mode == "publish" else "whep"
    return case.spawn([mr_peer_binary(), mode, f"{srv.url}/{kind}/{ROOM}/{stream}", token, "--seconds", str(seconds),
                       *extra], label or f"mr-peer-{mode}")


def wait_published(srv, token, stream, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = stream_status(srv, token, stream)
        if s and s.get("published"):
            return s
        time.sleep(0.1)
    raise Fail(f"stream {stream} not published within {timeout} s (API: {stream_status(srv, token, stream)})")


def viewer_ok(res, label, min_video_packets):
    """Checks an mr-peer subscribe result: connected, every track received with
    no loss and no sequence gap."""
    status, j = res
    check(j is not None, f"{label}: printed no statistics")
    peers = j.get("peers") or []
    check(len(peers) == 1 and peers[0], f"{label}: statistics without a peer: {json.dumps(j)[:600]}")
    p = peers[0]
    check(status == 0, f"{label}: exit status {status}; state {p.get('state')} {p.get('why')}")
    tracks = {t.get("kind"): t for t in p.get("tracks", [])}
    check("video" in tracks and "audio" in tracks, f"{label}: tracks {list(tracks)}")
    for kind, t in tracks.items():
        bad = {k: t.get(k) for k in ("lost", "seq_jumps", "duplicates", "reordered", "ts_backwards", "pt_mismatch")
               if t.get(k)}
        check(t.get("packets", 0) > 0, f"{label}: no {kind} packets received")
        check(not bad, f"{label}: {kind} track shows a gap or damage: {bad}")
    check(tracks["video"]["packets"] >= min_video_packets,
          f"{label}: {tracks['video']['packets']} video packets, expected at least {min_video_packets:.0f} "
          "(it stopped receiving before the end?)")
    return {k: {"packets": t.get("packets"), "lost": t.get("lost"), "seq_jumps": t.get("seq_jumps"),
                "latency_us": t.get("latency_us")} for k, t in tracks.items()}


# ---- the cases ----

def finalized_recording(case, srv, stream, published_s, ext, vcodec, sub):
    """Waits for the stream's sidecar to say complete; checks files, sidecar and
    ffprobe. Returns (media path, sidecar)."""
    rel, side_path, side = wait_sidecar(srv.rec_dir, lambda j: j.get("stream") == stream and j.get("state") == "complete",
                                        f"the {stream} sidecar to say complete", 20)
    shutil.copyfile(side_path, os.path.join(case.art, f"{stream}.sidecar.json"))
    media = media_files(srv.rec_dir)
    names = [m for m in media if os.path.basename(m[0]).startswith(stream + "_")]
    check(len(names) == 1, f"expected one media file for {stream}; the record dir:\n{listing(srv.rec_dir)}")
    mrel, mpath = names[0]
    check(".recording." not in mrel, f"{mrel} is still marked in progress")
    check(re.fullmatch(rf"{ROOM}/\d{{4}}-\d{{2}}-\d{{2}}/{stream}_\d{{8}}T\d{{6}}Z_[0-9a-f]{{8}}\.{ext}", mrel),
          f"media file {mrel}: expected {ROOM}/<date>/{stream}_<time>_<id8>.{ext}")
    check(rel == mrel[:-len(ext) - 1] + ".json", f"sidecar {rel} does not match {mrel}")
    size = os.path.getsize(mpath)
    probs = []
    if side.get("room") != ROOM:
        probs.append(f"room {side.get('room')!r}")
    if side.get("publisher") != sub:
        probs.append(f"publisher {side.get('publisher')!r} (expected {sub!r})")
    if side.get("file") != os.path.basename(mpath):
        probs.append(f"file {side.get('file')!r}")
    want_container = "webm" if ext == "webm" else "matroska"
    if side.get("container") != want_container:
        probs.append(f"container {side.get('container')!r} (expected {want_container})")
    codecs = side.get("codecs") or {}
    if str(codecs.get("video", "")).upper() != vcodec.upper() or str(codecs.get("audio", "")).lower() != "opus":
        probs.append(f"codecs {codecs!r}")
    if (side.get("width"), side.get("height")) != (320, 240):
        probs.append(f"size {side.get('width')}x{side.get('height')}")
    if not within(side.get("duration_s"), published_s, 0.10):
        probs.append(f"duration_s {side.get('duration_s')} (published {published_s:.2f} s)")
    if side.get("size") != size:
        probs.append(f"size {side.get('size')} (file {size})")
    if side.get("sha256") != sha256(mpath):
        probs.append(f"sha256 {side.get('sha256')!r} (recomputed {sha256(mpath)})")
    if not side.get("start") or not side.get("end"):
        probs.append(f"start {side.get('start')!r} end {side.get('end')!r}")
    lost = side.get("lost_packets")
    if not isinstance(lost, dict) or not all(isinstance(lost.get(k), int) for k in ("audio", "video")):
        probs.append(f"lost_packets {lost!r}")
    check(not probs, f"sidecar {rel}: {'; '.join(probs)}\n{json.dumps(side, indent=1)}")
    pr = ffprobe(mpath, case.art, stream)
    check("matroska" in (pr["format"] or ""), f"ffprobe: format {pr['format']}")
    doctype = ebml_doctype(mpath)
    check(doctype == want_container, f"{os.path.basename(mpath)}: EBML DocType {doctype!r}, expected {want_container!r}")
    pr["doctype"] = doctype
    check(pr["video"] == vcodec.lower() and pr["audio"] == "opus", f"ffprobe: codecs {pr['video']} + {pr['audio']}")
    check((pr["width"], pr["height"]) == (320, 240), f"ffprobe: {pr['width']}x{pr['height']}")
    check(within(pr["duration"], published_s, 0.10),
          f"ffprobe: duration {pr['duration']} s, published {published_s:.2f} s (±10 %)")
    return mpath, side, pr


def publish_aiortc(case, srv, stream, seconds, codec, sub):
    pub = aiortc(case, srv, stream, seconds, codec, sub)
    ev = pub.event("published", 20)
    t0 = time.monotonic()
    done = pub.event("done", seconds + 20)
    t1 = time.monotonic()
    status, _ = pub.result(10)
    check(done.get("state") == "connected" and done.get("delete") in (200, 204) and status == 0,
          f"aiortc {codec}: {done} exit {status}")
    log(f"{codec}: published {t1 - t0:.2f} s ({ev.get('location')})")
    return t1 - t0


def case_vp8(case):
    rd = case.record_dir()
    srv = case.server(rd)
    stream, sub = "scope-vp8", "aiortc-cart-1"
    # While it records, the API and the directory show a recording in progress.
    pub = aiortc(case, srv, stream, 10, "vp8", sub)
    pub.event("published", 20)
    t0 = time.monotonic()
    ex = srv.token(ROOM, "expert", "dr-range")
    _, prog_path, _ = wait_sidecar(rd, lambda j: j.get("state") == "recording", "a sidecar in state recording", 8)
    check(any(".recording.webm" in m[0] for m in media_files(rd)), f"no .recording.webm while recording:\n{listing(rd)}")
    time.sleep(2)
    st = stream_status(srv, ex, stream)
    check(st and st.get("recording") and st["recording"].get("state") == "recording",
          f"API stream status while recording: {st}")
    check(st and isinstance((st.get("recording") or {}).get("lost_packets"), dict),
          f"API stream status while recording has lost_packets: {st}")
    case.info["api_while_recording"] = st["recording"]
    shutil.copyfile(prog_path, os.path.join(case.art, "in-progress.sidecar.json"))
    done = pub.event("done", 30)
    published_s = time.monotonic() - t0
    status, _ = pub.result(10)
    check(done.get("state") == "connected" and done.get("delete") in (200, 204) and status == 0,
          f"aiortc vp8: {done} exit {status}")
    t_del = time.monotonic()
    mpath, side, pr = finalized_recording(case, srv, stream, published_s, "webm", "VP8", sub)
    modes = {rel: oct(st.st_mode & 0o777) for rel, p, st in walk(rd)}
    for rel, m in modes.items():
        want = "0o750" if os.path.isdir(os.path.join(rd, rel)) else "0o640"
        check(m == want, f"{rel} has mode {m}, expected {want}")
    case.info.update(published_s=round(published_s, 2), finalized_after_s=round(time.monotonic() - t_del, 2),
                     size=side.get("size"), duration_s=side.get("duration_s"), ffprobe_duration=pr["duration"],
                     dropped_packets=side.get("dropped_packets"))
    log(f"vp8: {os.path.basename(mpath)} {side.get('size')} bytes, sidecar {side.get('duration_s')} s, "
        f"ffprobe {pr['duration']} s (published {published_s:.2f} s)")
    range_download(case, srv, mpath, side, ex)
    stop_clean(srv)


def range_download(case, srv, mpath, side, ex):
    data = open(mpath, "rb").read()
    size = len(data)
    r = api(srv, "GET", f"/api/recordings?room={ROOM}", ex)
    check(r.status == 200 and r.json(), f"GET /api/recordings: {r.brief()}")
    lst = r.json().get("recordings", [])
    entry = next((e for e in lst if e.get("recording") == side.get("id")), None)
    check(entry, f"the recording {side.get('id')} is not listed: {json.dumps(lst)[:800]}")
    check(entry.get("state") == "complete" and entry.get("size") == size and entry.get("sha256") == side.get("sha256"),
          f"listed entry disagrees with the file: {entry}")
    rid = entry["id"]
    r = api(srv, "POST", f"/api/recordings/{rid}/url", ex)
    check(r.status == 200 and (r.json() or {}).get("url"), f"POST /api/recordings/{rid}/url: {r.brief()}")
    url = r.json()["url"]
    check(url.startswith("/media/recordings/"), f"signed URL {url}")
    results = {}
    for rng, lo, hi in (("bytes=0-999", 0, 999), ("bytes=-500", size - 500, size - 1),
                        (f"bytes={size // 2}-", size // 2, size - 1)):
        r = api(srv, "GET", url, headers={"Range": rng}, timeout=15)
        want = data[lo:hi + 1]
        check(r.status == 206, f"GET {rng}: {r.status} {r.reason} (expected 206)")
        check(r.header("Content-Range") == f"bytes {lo}-{hi}/{size}",
              f"GET {rng}: Content-Range {r.header('Content-Range')!r}, expected 'bytes {lo}-{hi}/{size}'")
        check(r.body == want, f"GET {rng}: {len(r.body)} bytes that differ from the file's {len(want)}")
        results[rng] = {"status": r.status, "bytes": len(r.body), "content_range": r.header("Content-Range")}
    r = api(srv, "GET", url, timeout=30)
    check(r.status == 200 and r.body == data, f"GET whole file: {r.status}, {len(r.body)} bytes of {size}")
    check((r.header("Content-Type") or "").startswith("video/webm"), f"Content-Type {r.header('Content-Type')!r}")
    check(r.header("Accept-Ranges") == "bytes", f"Accept-Ranges {r.header('Accept-Ranges')!r}")
    results["whole"] = {"status": r.status, "bytes": len(r.body)}
    case.info["range_download"] = results
    log(f"range download of {rid}: {results}")


def case_h264(case):
    rd = case.record_dir()
    srv = case.server(rd)
    stream, sub = "scope-h264", "aiortc-cart-2"
    published_s = publish_aiortc(case, srv, stream, 8, "h264", sub)
    mpath, side, pr = finalized_recording(case, srv, stream, published_s, "mkv", "H264", sub)
    case.info.update(published_s=round(published_s, 2), size=side.get("size"), duration_s=side.get("duration_s"),
                     ffprobe_duration=pr["duration"], format=pr["format"], doctype=pr["doctype"])
    log(f"h264: {os.path.basename(mpath)} {side.get('size')} bytes, sidecar {side.get('duration_s')} s, "
        f"ffprobe {pr['duration']} s, format {pr['format']}, DocType {pr['doctype']}")
    stop_clean(srv)


def case_sigkill(case):
    rd = case.record_dir()
    srv = case.server(rd, "before-kill")
    stream, sub = "scope-kill", "aiortc-cart-3"
    pub = aiortc(case, srv, stream, 30, "vp8", sub)
    pub.event("published", 20)
    t0 = time.monotonic()
    wait_sidecar(rd, lambda j: j.get("state") == "recording", "a sidecar in state recording", 8)
    time.sleep(max(0.0, 8.0 - (time.monotonic() - t0)))
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=10)
    t_kill = time.monotonic()
    kill_after = t_kill - t0
    srv.stop()  # already dead: only the bookkeeping
    pub.kill()
    left = media_files(rd)
    check(len(left) == 1 and left[0][0].endswith(".recording.webm"),
          f"after SIGKILL expected one .recording.webm; the record dir:\n{listing(rd)}")
    rel, path = left[0]
    kept = os.path.join(case.tmp, "killed-copy.webm")
    shutil.copyfile(path, kept)  # as the kill left it, before the restart touches it
    pr = ffprobe(kept, case.art, "killed")
    span = decoded_span(kept, case.art, "killed")
    log(f"sigkill: killed {kill_after:.2f} s after the publication; left {os.path.basename(path)} "
        f"({os.path.getsize(kept)} bytes): ffprobe {pr['video']}+{pr['audio']} {pr['width']}x{pr['height']}, "
        f"decoded video {span['video']}, audio {span['audio']}, decoder errors {span['errors']}")
    case.info.update(kill_after_s=round(kill_after, 2), left_bytes=os.path.getsize(kept),
                     decoded_video_s=round(span["video"]["span"], 2), decoded_audio_s=round(span["audio"]["span"], 2),
                     decoded_video_frames=span["video"]["frames"], decoder_error_lines=span["errors"])
    check(pr["video"] == "vp8" and pr["audio"] == "opus", f"killed file: ffprobe codecs {pr['video']} + {pr['audio']}")
    check(span["video"]["span"] >= kill_after - 2.0,
          f"killed file plays {span['video']['span']:.2f} s of video; killed {kill_after:.2f} s after the "
          "publication (must be within 2 s)")
    check(span["audio"]["span"] >= kill_after - 2.0,
          f"killed file plays {span['audio']['span']:.2f} s of audio; killed {kill_after:.2f} s after the publication")

    # Restart on the same directory, a little later (as after a reboot):
    # recovery closes it, with the times of the file, not of the restart.
    time.sleep(RESTART_GAP_S)
    srv2 = case.server(rd, "after-restart")
    rel2, side_path, side = wait_sidecar(rd, lambda j: j.get("stream") == stream and j.get("state") != "recording",
                                         "the sidecar to leave state recording after the restart", 10)
    shutil.copyfile(side_path, os.path.join(case.art, "recovered.sidecar.json"))
    media = media_files(rd)
    check(len(media) == 1, f"after the restart expected one media file:\n{listing(rd)}")
    mrel, mpath = media[0]
    final_rel = rel.replace(".recording.webm", ".webm")
    check(side.get("state") == "interrupted", f"recovered sidecar state {side.get('state')!r}: {side}")
    check(mrel == final_rel, f"recovered file is {mrel}, expected {final_rel}")
    check(side.get("file") == os.path.basename(final_rel), f"sidecar file {side.get('file')!r}")
    size = os.path.getsize(mpath)
    check(side.get("size") == size, f"sidecar size {side.get('size')} (file {size})")
    check(side.get("sha256") == sha256(mpath), f"sidecar sha256 {side.get('sha256')!r} (recomputed {sha256(mpath)})")
    check(bool(side.get("end")), f"sidecar end {side.get('end')!r}")
    start_t, end_t = iso_time(side.get("start")), iso_time(side.get("end"))
    dur = side.get("duration_s")
    check(start_t is not None and end_t is not None and isinstance(dur, (int, float)),
          f"sidecar start {side.get('start')!r} end {side.get('end')!r} duration_s {dur!r}")
    check(end_t - start_t <= dur + 2.0,
          f"the interrupted sidecar says it ended {end_t - start_t:.2f} s after its start, but the file holds "
          f"{dur} s and the relay was killed {kill_after:.2f} s after the publication: \"end\" is the time of the "
          f"restart ({RESTART_GAP_S} s after the kill), not of the last media")
    pr2 = ffprobe(mpath, case.art, "recovered")
    check(pr2["video"] == "vp8" and pr2["audio"] == "opus", f"recovered file: ffprobe {pr2}")
    ex = srv2.token(ROOM, "expert", "dr-kill")
    r = api(srv2, "GET", f"/api/recordings?room={ROOM}", ex)
    listed = [e for e in (r.json() or {}).get("recordings", []) if e.get("recording") == side.get("id")]
    check(r.status == 200 and listed and listed[0].get("state") == "interrupted",
          f"the API does not list it as interrupted: {r.brief()}")
    recovered_log = log_lines(srv2, r"(?i)interrupt|recover|left open|unfinished")
    case.info.update(recovered_size=size, recovered_duration_s=side.get("duration_s"),
                     recovered_resolution=(side.get("width"), side.get("height")),
                     recovered_end=side.get("end"), recovered_ffprobe_duration=pr2["duration"],
                     recovery_log=recovered_log[:3])
    log(f"sigkill: after the restart: {side.get('state')}, {size} bytes, duration_s {side.get('duration_s')}, "
        f"ffprobe {pr2['duration']} s; log: {recovered_log[:2]}")
    stop_clean(srv2)


def case_sigterm(case):
    rd = case.record_dir()
    srv = case.server(rd)
    stream, sub = "scope-term", "aiortc-cart-4"
    pub = aiortc(case, srv, stream, 30, "vp8", sub)
    pub.event("published", 20)
    t0 = time.monotonic()
    wait_sidecar(rd, lambda j: j.get("state") == "recording", "a sidecar in state recording", 8)
    time.sleep(max(0.0, 6.0 - (time.monotonic() - t0)))
    srv.proc.send_signal(signal.SIGTERM)
    t_term = time.monotonic()
    try:
        code = srv.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise Fail("the server did not exit within 15 s of SIGTERM") from None
    exit_s = time.monotonic() - t_term
    srv.stop()  # already exited: only the bookkeeping (its temporary folder)
    pub.kill()
    no_sanitizer(srv)
    check(code == 0, f"the server exited with status {code} after SIGTERM (expected 0)")
    sides = [(rel, j) for rel, _, j in sidecars(rd)]
    check(len(sides) == 1 and sides[0][1], f"expected one sidecar:\n{listing(rd)}")
    rel, side = sides[0]
    shutil.copyfile(os.path.join(rd, rel), os.path.join(case.art, "sigterm.sidecar.json"))
    media = media_files(rd)
    check(side.get("state") == "complete", f"sidecar state {side.get('state')!r} after SIGTERM: {side}")
    check(len(media) == 1 and ".recording." not in media[0][0], f"media after SIGTERM:\n{listing(rd)}")
    mrel, mpath = media[0]
    check(side.get("file") == os.path.basename(mpath), f"sidecar file {side.get('file')!r}, on disk {mrel}")
    recorded = t_term - t0
    check(isinstance(side.get("duration_s"), (int, float)) and side["duration_s"] > 0,
          f"sidecar duration_s {side.get('duration_s')!r}")
    check(side.get("size") == os.path.getsize(mpath) and side.get("sha256") == sha256(mpath),
          f"sidecar size/sha256 disagree with the file: {side}")
    pr = ffprobe(mpath, case.art, "sigterm")
    check(pr["video"] == "vp8" and pr["audio"] == "opus", f"ffprobe after SIGTERM: {pr}")
    check(within(pr["duration"], recorded, 0.15),
          f"ffprobe duration {pr['duration']} s; recorded {recorded:.2f} s before SIGTERM")
    case.info.update(recorded_s=round(recorded, 2), exit_after_sigterm_s=round(exit_s, 2),
                     duration_s=side.get("duration_s"), ffprobe_duration=pr["duration"], size=side.get("size"))
    log(f"sigterm: exit 0 after {exit_s:.2f} s; {os.path.basename(mpath)} complete, duration_s {side.get('duration_s')}, "
        f"ffprobe {pr['duration']} s (recorded {recorded:.2f} s)")


def case_fulldisk(case):
    rd = case.record_dir("tmpfs")
    case.mount(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755", "tmpfs", rd], rd, "the full-disk case needs a tmpfs")
    srv = case.server(rd)
    stream = "scope-full"
    op = srv.token(ROOM, "operator", "op-full")
    pub_s, view_s = 15, 12
    pub = mr_peer(case, srv, "publish", stream, srv.token(ROOM, "clinic", "cart-full"), pub_s,
                  ("--video-kbps", "4000"), "mr-peer-publish")
    t0 = time.monotonic()
    wait_published(srv, op, stream)
    view = mr_peer(case, srv, "subscribe", stream, srv.token(ROOM, "expert", "dr-full"), view_s, (), "mr-peer-subscribe")
    health_bad, health_n = [], 0
    states, max_dropped, api_fail = [], 0, None
    while pub.proc.poll() is None and time.monotonic() - t0 < pub_s + 15:
        h = healthz(srv)
        health_n += 1
        if h != 200:
            health_bad.append(h)
        st = stream_status(srv, op, stream)
        rec = (st or {}).get("recording")
        if rec:
            max_dropped = max(max_dropped, rec.get("dropped") or 0)
            key = (rec.get("state"), rec.get("error"))
            if not states or states[-1] != key:
                states.append(key)
                log(f"fulldisk: API recording state {rec.get('state')} error {rec.get('error')!r} "
                    f"bytes {rec.get('bytes')} dropped {rec.get('dropped')} at {time.monotonic() - t0:.1f} s")
            if rec.get("state") == "failed":
                api_fail = rec
        elif states and states[-1] != (None, None):
            states.append((None, None))
            log(f"fulldisk: API shows no recording at {time.monotonic() - t0:.1f} s")
        time.sleep(0.25)
    pres = pub.result(30)
    vres = view.result(30)
    alive = srv.alive()
    drops_metric = metric(srv, "medrelay_packets_dropped_total", 'cause="record_queue"')
    sides = [j for _, _, j in sidecars(rd)]
    space_lines = log_lines(srv, r"(?i)\b(error|warn)\b.*(space|ENOSPC|disk.*full)")
    rec_lines = log_lines(srv, r"^\S+ (error|warn) +record")
    df = subprocess.run(["df", "-k", rd], capture_output=True, text=True).stdout.strip().splitlines()[-1:]
    case.info.update(api_states=states, api_failed=api_fail, api_max_dropped=max_dropped,
                     metric_record_queue_drops=drops_metric, sidecars=sides, log_space_lines=space_lines[:5],
                     log_record_lines=rec_lines[:8], healthz_polls=health_n, healthz_bad=health_bad[:5],
                     tmpfs=listing(rd), df=df)
    log(f"fulldisk: sidecars {json.dumps(sides)[:800]}")
    log(f"fulldisk: log lines {space_lines[:3] or rec_lines[:3]}")
    log(f"fulldisk: medrelay_packets_dropped_total{{cause=\"record_queue\"}} = {drops_metric}, "
        f"API recording dropped (max seen) {max_dropped}; tmpfs:\n{listing(rd)}")
    check(alive, "the server died during the full-disk case")
    check(not health_bad, f"/healthz failed {len(health_bad)} of {health_n} times: {health_bad[:5]}")
    pstatus, pj = pres
    check(pstatus == 0 and pj, f"publisher: exit {pstatus}, stats {json.dumps(pj)[:400]}; {pub.stderr_tail()}")
    vtrack = next((t for t in pj.get("tracks", []) if t.get("kind") == "video"), {})
    rate = (vtrack.get("sent_packets") or 0) / pub_s
    case.info["publisher_video_packets"] = vtrack.get("sent_packets")
    case.info["publisher_video_bytes"] = vtrack.get("sent_bytes")
    case.info["viewer"] = viewer_ok(vres, "viewer", 0.8 * rate * view_s)
    side_fail = next((j for j in sides if j and j.get("state") == "failed"), None)
    # The stream's status drops a failed recording at once (recording: null);
    # the recordings list keeps it.
    r = api(srv, "GET", f"/api/recordings?room={ROOM}", op)
    listed = [e for e in ((r.json() or {}).get("recordings") or []) if e.get("stream") == stream]
    case.info["api_recordings"] = listed
    log(f"fulldisk: GET /api/recordings: {json.dumps(listed)[:600]}")
    list_fail = next((e for e in listed if e.get("state") == "failed"), None)
    err = " | ".join(((x or {}).get("error") or "") for x in (side_fail, api_fail, list_fail))
    check(side_fail or api_fail or list_fail, f"the recording did not fail: sidecars {sides}; API states {states}; "
          f"listed {listed}")
    check(re.search(r"(?i)space|ENOSPC|disk.*full", err), f"the failure does not mention space: {err!r}")
    check(space_lines, f"no error line about space in {srv.log_path}; record lines: {rec_lines[:8]}")
    stop_clean(srv)


def case_readonly(case):
    rd = case.record_dir("readonly")
    case.mount(["mount", "--bind", rd, rd], rd, "the read-only case needs a bind mount")
    case.mount(["mount", "-o", "remount,ro,bind", rd], rd, "the read-only case needs a read-only remount")
    probe = os.path.join(rd, "probe")
    try:
        open(probe, "w").close()
        os.unlink(probe)
        raise Fail(f"{rd} is still writable after the read-only bind mount")
    except OSError:
        pass
    srv = case.server(rd)
    stream = "scope-ro"
    op = srv.token(ROOM, "operator", "op-ro")
    pub = mr_peer(case, srv, "publish", stream, srv.token(ROOM, "clinic", "cart-ro"), 8, (), "mr-peer-publish")
    wait_published(srv, op, stream)
    view = mr_peer(case, srv, "subscribe", stream, srv.token(ROOM, "expert", "dr-ro"), 5, (), "mr-peer-subscribe")
    time.sleep(1.5)
    st = stream_status(srv, op, stream)
    log(f"readonly: API stream status {json.dumps(st)}")
    pres = pub.result(30)
    vres = view.result(30)
    alive = srv.alive()
    err_lines = log_lines(srv, r"^\S+ (error|warn) +record")
    case.info.update(api_status=st, log_lines=err_lines[:5], record_dir=listing(rd))
    log(f"readonly: log {err_lines[:3]}")
    check(alive, "the server died in the read-only case")
    pstatus, pj = pres
    check(pstatus == 0 and pj and pj.get("state") in ("secure", "closed"),
          f"publisher: exit {pstatus}, stats {json.dumps(pj)[:400]}; {pub.stderr_tail()}")
    vtrack = next((t for t in pj.get("tracks", []) if t.get("kind") == "video"), {})
    rate = (vtrack.get("sent_packets") or 0) / 8
    case.info["viewer"] = viewer_ok(vres, "viewer", 0.7 * rate * 5)
    check(st is not None and st.get("published"), f"API stream status: {st}")
    rec = st.get("recording")
    check(rec is None or rec.get("state") == "failed", f"the API shows a recording for a read-only directory: {rec}")
    check(err_lines and re.search(r"(?i)read-only|permission|EROFS|not writable|unwritable", " ".join(err_lines)),
          f"no clear error line from the recorder in {srv.log_path}")
    check(media_files(rd) == [], f"media files in a read-only directory?\n{listing(rd)}")
    check(healthz(srv) == 200, "/healthz after the read-only case")
    stop_clean(srv)


CASES = [("vp8", case_vp8), ("h264", case_h264), ("sigkill", case_sigkill), ("sigterm", case_sigterm),
         ("fulldisk", case_fulldisk), ("readonly", case_readonly)]


def main():
    wanted = sys.argv[1:] or [n for n, _ in CASES]
    try:
        bin_path = server_binary()
        mr_peer_binary()
        for tool in ("ffprobe", "mount", "umount"):
            if not shutil.which(tool):
                raise SetupError(f"{tool} is not installed (scripts/deps.sh)")
        if not os.path.exists(AIORTC):
            raise SetupError(f"{AIORTC} is missing")
    except SetupError as e:
        print(f"SETUP: {e}", flush=True)
        return 2
    art = artifact_dir("integration", "recording")
    log(f"server {bin_path}; artifacts in {art}")
    started = time.monotonic()
    for name, fn in CASES:
        if name not in wanted:
            continue
        case = Case(art, name)
        t = time.monotonic()
        try:
            fn(case)
            result = "pass"
        except Fail as e:
            result = f"FAIL: {e}"
        except SetupError as e:
            result = f"FAIL (set-up): {e}"
        except Exception:  # noqa: BLE001 - any crash of the test is a failure of this case
            result = f"FAIL (exception): {traceback.format_exc()}"
        finally:
            try:
                stuck = case.close()
            except Exception:  # noqa: BLE001
                stuck = [f"cleanup raised {traceback.format_exc()}"]
        if stuck:
            result = (result if result != "pass" else "FAIL") + f"; mounts left: {stuck}"
        case.info["seconds"] = round(time.monotonic() - t, 1)
        case.info["result"] = result
        summary[name] = case.info
        if result != "pass":
            failures.append(name)
            for srv in case.servers:
                print(f"--- {name}: last lines of {srv.log_path}:\n{srv.tail(25)}\n---", flush=True)
        print(("PASS " if result == "pass" else "FAIL ") + f"{name} ({case.info['seconds']} s)"
              + ("" if result == "pass" else f": {result}"), flush=True)
    summary["total_seconds"] = round(time.monotonic() - started, 1)
    with open(os.path.join(art, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=str)
    print(json.dumps({"test": "recording", "failures": failures, "total_seconds": summary["total_seconds"]}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
