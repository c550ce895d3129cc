#!/usr/bin/python3
"""The REST API for streams and recordings (docs/api.md), against the real
server and a record directory prepared by hand: sidecars and media files in
the recorder's layout (one real WebM made with GStreamer when it is
installed, random bytes otherwise), copied into the server's --record-dir
before it starts.

Checks: listing with filters and room restrictions, roles, metadata without
paths, signed download URLs (issue, GET, HEAD, ranges, expired and tampered
signatures), a recording in progress, deletion, the audit trail, retention
at start-up, stream listing and recording control with nothing published,
a stream's "link" (the uplink's loss before and after repair, bitrate,
round trip) and the room's sessions (how each is connected) with a real
aiortc publisher.
Env: MEDRELAY_BIN.
"""
import base64
import calendar
import hashlib
import hmac
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from medrelay_harness import HttpError, Server, SetupError, artifact_dir, request  # noqa: E402

PUBLISHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop",
                         "aiortc_whip_publish.py")

failures = 0

ID_A0 = "aaaaaaaa11111111-0"    # ward-a, a real WebM, finished
ID_A1 = "aaaaaaaa11111111-1"    # ward-a, its second segment (1 MiB, Matroska)
ID_B = "bbbbbbbb22222222-0"     # ward-a, in progress
ID_C = "cccccccc33333333-0"     # ward-b, finished
ID_D = "dddddddd44444444-0"     # ward-c, failed without a media file


def check(name, cond, info=""):
    global failures
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else "  -- " + str(info)), flush=True)
    if not cond:
        failures += 1


# ---- the record directory ----

def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def ts(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def make_webm(path):
    """A small real WebM (VP8), or random bytes when GStreamer is missing."""
    gst = shutil.which("gst-launch-1.0")
    if gst:
        try:
            subprocess.run([gst, "-q", "videotestsrc", "num-buffers=60", "!",
                            "video/x-raw,width=320,height=240", "!", "vp8enc", "deadline=1", "!",
                            "webmmux", "!", "filesink", f"location={path}"],
                           check=True, capture_output=True, timeout=60)
            if os.path.getsize(path) > 1000:
                return "gstreamer"
        except (subprocess.SubprocessError, OSError):
            pass
    with open(path, "wb") as f:
        f.write(os.urandom(150_000))
    return "random bytes"


def add_recording(root, room, rec_id, segment, stream, start, end=None, state="complete",
                  media=None, ext="webm", error=""):
    """Writes a sidecar (and the media: a path to copy, bytes, or None) in the
    recorder's layout. Returns the media path."""
    day = start[:10]
    folder = os.path.join(root, room, day)
    os.makedirs(folder, exist_ok=True)
    name = f"{stream}_{start[:19].replace('-', '').replace(':', '')}Z_{rec_id[:8]}"
    if segment:
        name += f"_{segment}"
    final = f"{name}.{ext}"
    media_name = f"{name}.recording.{ext}" if state == "recording" else final
    media_path = os.path.join(folder, media_name)
    if isinstance(media, str):
        shutil.copyfile(media, media_path)
    elif media is not None:
        with open(media_path, "wb") as f:
            f.write(media)
    size = os.path.getsize(media_path) if media is not None else 0
    side = {"id": rec_id, "room": room, "stream": stream, "publisher": f"{stream}-publisher",
            "state": state, "error": error, "file": final if state != "recording" else media_name,
            "container": "webm" if ext == "webm" else "matroska",
            "codecs": {"audio": "opus", "video": "VP8"}, "width": 320, "height": 240,
            "start": start, "segment": segment, "dropped_packets": 0,
            "lost_packets": {"audio": 2, "video": 7}}
    if end:
        side.update(end=end, duration_s=ts(end) - ts(start), size=size,
                    sha256=hashlib.sha256(open(media_path, "rb").read()).hexdigest() if media is not None else None)
    with open(os.path.join(folder, name + ".json"), "w") as f:
        json.dump(side, f)
    return media_path


def add_in_progress(root):
    """A recording in progress. Added once the server runs: at start-up the
    recorder closes whatever a previous run left in progress."""
    return add_recording(root, "ward-a", "bbbbbbbb22222222", 0, "mic", iso(time.time() - 60),
                         state="recording", media=os.urandom(100_000))


def seed_main(root, webm):
    paths = {
        ID_A0: add_recording(root, "ward-a", "aaaaaaaa11111111", 0, "cam", "2025-01-02T08:00:00Z",
                             "2025-01-02T08:01:00Z", media=webm),
        ID_A1: add_recording(root, "ward-a", "aaaaaaaa11111111", 1, "cam", "2025-01-02T08:01:00Z",
                             "2025-01-02T08:02:00Z", media=os.urandom(1 << 20), ext="mkv"),
        ID_C: add_recording(root, "ward-b", "cccccccc33333333", 0, "cam", "2025-02-01T10:00:00Z",
                            "2025-02-01T10:30:00Z", media=os.urandom(5000)),
        ID_D: add_recording(root, "ward-c", "dddddddd44444444", 0, "cam", "2025-03-01T10:00:00Z",
                            "2025-03-01T10:00:01Z", state="failed", media=None,
                            error=f"cannot open {root}/ward-c/x.webm: Permission denied"),
    }
    # A symbolic link out of the directory is never followed.
    outside = os.path.join(os.path.dirname(root), "outside")
    os.makedirs(os.path.join(outside, "2025-01-01"), exist_ok=True)
    add_recording(outside, "ward-a", "eeeeeeee55555555", 0, "cam", "2025-01-01T08:00:00Z",
                  "2025-01-01T08:01:00Z", media=b"secret")
    os.symlink(os.path.join(outside, "ward-a"), os.path.join(root, "ward-z"))
    return paths


def start(art, seed, config=None):
    return Server.start(art, config=config, seed_record_dir=seed)


# ---- HTTP helpers ----

class Api:
    def __init__(self, srv):
        self.srv = srv

    def call(self, method, path, token=None, headers=None, body=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        return request(self.srv.host, self.srv.port, method, path, headers=h, body=body, timeout=10)

    def head(self, path):
        """HEAD on a raw socket: the answer has headers only, read to EOF."""
        with socket.create_connection((self.srv.host, self.srv.port), timeout=5) as s:
            s.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("iso-8859-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
        return int(lines[0].split()[1]), headers, rest

    def url_for(self, rec_id, token):
        r = self.call("POST", f"/api/recordings/{rec_id}/url", token)
        return r, (r.json() or {}).get("url")


def err(r):
    return (r.json() or {}).get("error")


def sign(secret, rec_id, exp, nonce):
    key = hmac.new(secret.encode(), b"medrelay download v1", hashlib.sha256).digest()
    msg = f"medrelay-download\n{rec_id}\n{exp}\n{nonce}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).rstrip(b"=").decode()


def audit_lines(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


# ---- tests ----

def test_listing(api, tok):
    r = api.call("GET", "/api/recordings", tok["op*"])
    body = r.json() or {}
    ids = [x["id"] for x in body.get("recordings", [])]
    check("operator of all rooms lists every recording", r.status == 200 and
          sorted(ids) == sorted([ID_A0, ID_A1, ID_B, ID_C, ID_D]), r.brief())
    check("newest first", ids[:1] == [ID_B] and ids.index(ID_D) < ids.index(ID_C) < ids.index(ID_A1) <
          ids.index(ID_A0), ids)
    check("no symbolic link followed out of the record directory", "eeeeeeee55555555-0" not in ids, ids)
    check("no absolute path in the listing", api.srv.tmp not in r.body.decode(), r.body[:400])
    failed = next((x for x in body.get("recordings", []) if x["id"] == ID_D), {})
    check("a recorder's error is shown without its path",
          failed.get("error") == "cannot open x.webm: Permission denied", failed.get("error"))
    check("a failed recording without media is listed, not downloadable",
          failed.get("downloadable") is False, failed)

    def ids_of(query, token=tok["op*"]):
        r = api.call("GET", "/api/recordings" + query, token)
        return r.status, sorted(x["id"] for x in (r.json() or {}).get("recordings", []))

    check("filter by room", ids_of("?room=ward-a") == (200, sorted([ID_A0, ID_A1, ID_B])))
    check("filter by stream", ids_of("?room=ward-a&stream=mic") == (200, [ID_B]))
    check("filter by time: from/to select overlapping recordings",
          ids_of("?from=2025-01-02T08:01:30Z&to=2025-01-02T09:00:00Z") == (200, [ID_A1]),
          ids_of("?from=2025-01-02T08:01:30Z&to=2025-01-02T09:00:00Z"))
    check("filter by time: a recording in progress overlaps any later window",
          ids_of(f"?from={iso(time.time() - 3600)}") == (200, [ID_B]), ids_of(f"?from={iso(time.time() - 3600)}"))
    check("filter by recording id (its segments)",
          ids_of("?recording=aaaaaaaa11111111") == (200, [ID_A0, ID_A1]))
    check("limit", len(ids_of("?limit=2")[1]) == 2)
    r = api.call("GET", "/api/recordings?from=yesterday", tok["op*"])
    check("bad time → 400 bad-request", r.status == 400 and err(r) == "bad-request", r.brief())
    r = api.call("GET", "/api/recordings?room=ward.a", tok["op*"])
    check("bad room name → 400 bad-name", r.status == 400 and err(r) == "bad-name", r.brief())

    check("expert of ward-a sees only ward-a", ids_of("", tok["ex-a"]) == (200, sorted([ID_A0, ID_A1, ID_B])),
          ids_of("", tok["ex-a"]))
    r = api.call("GET", "/api/recordings?room=ward-b", tok["ex-a"])
    check("expert of ward-a asking for ward-b → 403", r.status == 403 and err(r) == "forbidden", r.brief())
    for role in ("viewer", "clinic"):
        r = api.call("GET", "/api/recordings", tok[role])
        check(f"{role} → 403 forbidden", r.status == 403 and err(r) == "forbidden", r.brief())
    r = api.call("GET", "/api/recordings")
    check("no token → 401 unauthorized", r.status == 401 and err(r) == "unauthorized", r.brief())
    r = api.call("GET", "/api/recordings", "not.a.token")
    check("bad token → 401", r.status == 401 and err(r) == "unauthorized", r.brief())


def test_metadata(api, tok, paths):
    r = api.call("GET", f"/api/recordings/{ID_A0}", tok["ex-a"])
    m = r.json() or {}
    want = {"id": ID_A0, "room": "ward-a", "stream": "cam", "publisher": "cam-publisher",
            "state": "complete", "start": "2025-01-02T08:00:00Z", "end": "2025-01-02T08:01:00Z",
            "duration_s": 60, "size": os.path.getsize(paths[ID_A0]),
            "codecs": {"audio": "opus", "video": "VP8"}, "resolution": "320x240",
            "content_type": "video/webm", "lost_packets": {"audio": 2, "video": 7}}
    check("metadata of one recording", r.status == 200 and all(m.get(k) == v for k, v in want.items()),
          {k: (m.get(k), v) for k, v in want.items() if m.get(k) != v} or r.brief())
    check("metadata carries the sha256", len(m.get("sha256") or "") == 64, m.get("sha256"))
    check("metadata has no file path", "file" not in m and api.srv.tmp not in r.body.decode(), m)
    r = api.call("GET", f"/api/recordings/{ID_C}", tok["ex-a"])
    check("a recording of another room → 403", r.status == 403 and err(r) == "forbidden", r.brief())
    r = api.call("GET", "/api/recordings/0123456789abcdef-0", tok["op*"])
    check("unknown id → 404 not-found", r.status == 404 and err(r) == "not-found", r.brief())
    for bad in ("..%2F..%2Fetc%2Fpasswd", "AAAAAAAA11111111-0", "aaaaaaaa11111111", "x"):
        r = api.call("GET", f"/api/recordings/{bad}", tok["op*"])
        check(f"malformed id {bad!r} → 404", r.status == 404, r.brief())


def test_download(api, tok, paths, secret):
    r, url = api.url_for(ID_A0, tok["ex-a"])
    body = r.json() or {}
    check("expert gets a signed URL", r.status == 200 and url and
          url.startswith(f"/media/recordings/{ID_A0}?exp=") and "&sig=" in url, r.brief())
    exp = int(url.split("exp=")[1].split("&")[0]) if url else 0
    check("the URL expires after [recording] download_ttl", 295 <= exp - time.time() <= 301 and
          body.get("expires") == iso(exp), (exp - time.time(), body.get("expires")))
    r = api.call("POST", f"/api/recordings/{ID_A0}/url", tok["viewer"])
    check("viewer cannot get a URL → 403", r.status == 403, r.brief())
    r = api.call("POST", f"/api/recordings/{ID_C}/url", tok["ex-a"])
    check("no URL for another room's recording → 403", r.status == 403, r.brief())
    r = api.call("POST", f"/api/recordings/{ID_D}/url", tok["op*"])
    check("no URL for a recording without media → 404", r.status == 404, r.brief())

    data = open(paths[ID_A0], "rb").read()
    r = api.call("GET", url)
    check("GET the signed URL → 200 with the file", r.status == 200 and r.body == data,
          (r.status, len(r.body), len(data)))
    check("Content-Type video/webm, Accept-Ranges bytes",
          r.header("Content-Type") == "video/webm" and r.header("Accept-Ranges") == "bytes",
          r.header_list)
    status, headers, rest = api.head(url)
    check("HEAD → 200, Content-Length, no body", status == 200 and
          headers.get("content-length") == str(len(data)) and rest == b"" and
          headers.get("accept-ranges") == "bytes", (status, headers, rest[:50]))

    # Ranges on the 1 MiB Matroska segment (several 64 KiB chunks).
    r, url1 = api.url_for(ID_A1, tok["op*"])
    big = open(paths[ID_A1], "rb").read()
    size = len(big)
    cases = [("bytes=0-99", 0, 99), ("bytes=100000-300000", 100000, 300000),
             ("bytes=-500", size - 500, size - 1), (f"bytes={size - 1000}-", size - 1000, size - 1),
             ("bytes=1000-99999999", 1000, size - 1)]
    for rng, first, last in cases:
        r = api.call("GET", url1, headers={"Range": rng})
        check(f"Range {rng} → 206 with those bytes", r.status == 206 and
              r.header("Content-Range") == f"bytes {first}-{last}/{size}" and
              r.body == big[first:last + 1] and r.header("Content-Length") == str(last - first + 1),
              (r.status, r.header("Content-Range"), len(r.body)))
    check("Content-Type video/x-matroska for .mkv", r.header("Content-Type") == "video/x-matroska",
          r.header("Content-Type"))
    r = api.call("GET", url1, headers={"Range": f"bytes={size}-"})
    check("unsatisfiable range → 416 with bytes */size", r.status == 416 and
          r.header("Content-Range") == f"bytes */{size}", (r.status, r.header_list))
    r = api.call("GET", url1, headers={"Range": "bytes=0-1,5-6"})
    check("several ranges → 200 with the whole file", r.status == 200 and r.body == big,
          (r.status, len(r.body)))
    r = api.call("GET", url1, headers={"Range": "lines=1-2"})
    check("another unit is ignored → 200", r.status == 200 and len(r.body) == size, r.status)
    status, headers, rest = api.head(url1)
    check("HEAD on the Matroska file → headers only", status == 200 and headers.get("content-length") == str(size)
          and rest == b"", (status, headers))

    # Signatures.
    nonce = url1.split("n=")[1].split("&")[0]
    exp1 = int(url1.split("exp=")[1].split("&")[0])
    past = int(time.time()) - 5
    expired = f"/media/recordings/{ID_A1}?exp={past}&n={nonce}&sig={sign(secret, ID_A1, past, nonce)}"
    r = api.call("GET", expired)
    check("an expired (but genuine) signature → 401", r.status == 401 and err(r) == "unauthorized" and
          "expired" in (r.json() or {}).get("detail", ""), r.brief())
    good = f"/media/recordings/{ID_A1}?exp={exp1}&n={nonce}&sig={sign(secret, ID_A1, exp1, nonce)}"
    check("the documented signing scheme reproduces the server's URL", good == url1, (good, url1))
    sig = url1.split("sig=")[1]
    tampered = {
        "signature": url1.replace("sig=" + sig, "sig=" + ("A" if sig[0] != "A" else "B") + sig[1:]),
        "expiry": url1.replace(f"exp={exp1}", f"exp={exp1 + 3600}"),
        "nonce": url1.replace(f"n={nonce}", "n=" + ("0" if nonce[0] != "0" else "1") + nonce[1:]),
        "recording": url1.replace(ID_A1, ID_A0),
        "missing signature": url1.split("&sig=")[0],
        "no query": f"/media/recordings/{ID_A1}",
    }
    for what, u in tampered.items():
        r = api.call("GET", u)
        check(f"tampered {what} → 401", r.status == 401 and err(r) == "unauthorized", r.brief())
    status, _, _ = api.head(tampered["signature"])
    check("HEAD with a tampered signature → 401", status == 401, status)
    r = api.call("GET", f"/media/recordings/nope?exp={exp1}&n={nonce}&sig={sig}")
    check("media with a malformed id → 404", r.status == 404, r.brief())

    # A recording in progress is served as it stands, and grows.
    r, url_b = api.url_for(ID_B, tok["op-a"])
    r1 = api.call("GET", url_b)
    with open(paths[ID_B], "ab") as f:
        f.write(b"x" * 1000)
    r2 = api.call("GET", url_b)
    check("a recording in progress downloads as it stands and grows", r1.status == 200 and
          r2.status == 200 and len(r2.body) == len(r1.body) + 1000, (r1.status, len(r1.body), len(r2.body)))

    # Uses of one URL: audited once.
    return [(url, ID_A0), (url1, ID_A1)]


def test_cors(api):
    r = api.call("OPTIONS", f"/media/recordings/{ID_A0}",
                 headers={"Origin": "http://console.example", "Access-Control-Request-Method": "GET",
                          "Access-Control-Request-Headers": "range"})
    check("preflight allows the Range header", r.status == 204 and "range" in r.header_tokens(
        "Access-Control-Allow-Headers"), r.header_list)


def test_delete(api, tok, paths, audit):
    r = api.call("DELETE", f"/api/recordings/{ID_A1}", tok["ex-a"])
    check("expert cannot delete → 403", r.status == 403 and err(r) == "forbidden", r.brief())
    r = api.call("DELETE", f"/api/recordings/{ID_A1}", tok["op-b"])
    check("operator of another room cannot delete → 403", r.status == 403, r.brief())
    r = api.call("DELETE", f"/api/recordings/{ID_B}", tok["op-a"])
    check("a recording in progress → 409", r.status == 409 and err(r) == "stream-busy", r.brief())
    r = api.call("DELETE", f"/api/recordings/{ID_A1}", tok["op-a"])
    check("operator deletes → 204", r.status == 204, r.brief())
    side = paths[ID_A1][:-len(".mkv")] + ".json"
    check("media and sidecar are gone", not os.path.exists(paths[ID_A1]) and not os.path.exists(side))
    check("the date folder stays (it holds segment 0)", os.path.isdir(os.path.dirname(paths[ID_A1])))
    r = api.call("GET", f"/api/recordings/{ID_A1}", tok["op-a"])
    check("GET after delete → 404", r.status == 404 and err(r) == "not-found", r.brief())
    r = api.call("DELETE", f"/api/recordings/{ID_A1}", tok["op-a"])
    check("DELETE again → 404", r.status == 404, r.brief())
    entries = [e for e in audit_lines(audit) if e["action"] == "record-delete"]
    check("the deletion is audited with room and operator", any(
        e["room"] == "ward-a" and e["sub"] == "op-a" and ID_A1 in (e["detail"] or "") for e in entries), entries)


def test_audit(audit, used):
    lines = audit_lines(audit)
    issued = [e for e in lines if e["action"] == "record-url"]
    check("every URL issued is audited with who asked", any(e["sub"] == "ex-a" and ID_A0 in e["detail"]
                                                             for e in issued), issued[:3])
    for url, rec_id in used:
        nonce = url.split("n=")[1].split("&")[0]
        downloads = [e for e in lines if e["action"] == "record-download" and nonce in (e["detail"] or "")]
        check(f"a URL used many times is audited once ({rec_id})", len(downloads) == 1 and
              downloads[0]["room"] == "ward-a", downloads)
    check("the audit trail is 0640", stat.S_IMODE(os.stat(audit).st_mode) == 0o640,
          oct(os.stat(audit).st_mode))


def test_streams(api, tok):
    r = api.call("GET", "/api/rooms/ward-a/streams", tok["viewer"])
    check("viewer lists its room's streams → 200 []", r.status == 200 and
          (r.json() or {}).get("streams") == [], r.brief())
    r = api.call("GET", "/api/rooms/ward-b/streams", tok["viewer"])
    check("another room's streams → 403", r.status == 403 and err(r) == "forbidden", r.brief())
    r = api.call("GET", "/api/streams", tok["viewer"])
    check("all streams with a one-room token → 403", r.status == 403, r.brief())
    r = api.call("GET", "/api/streams", tok["op*"])
    check("all streams with a * token → 200", r.status == 200 and (r.json() or {}).get("streams") == [],
          r.brief())
    r = api.call("GET", "/api/rooms", tok["ex-a"])
    check("GET /api/rooms → 200", r.status == 200 and (r.json() or {}).get("rooms") == [], r.brief())
    r = api.call("GET", "/api/rooms/ward-a/streams/cam", tok["ex-a"])
    check("one stream, nothing published → 404 stream-not-found", r.status == 404 and
          err(r) == "stream-not-found", r.brief())
    rec = "/api/rooms/ward-a/streams/cam/recording"
    for method in ("POST", "DELETE"):
        r = api.call(method, rec, tok["op-a"])
        check(f"{method} a stream's recording, nothing published → 404 stream-not-found",
              r.status == 404 and err(r) == "stream-not-found", r.brief())
        r = api.call(method, rec, tok["ex-a"])
        check(f"{method} a stream's recording as expert → 403", r.status == 403, r.brief())
        r = api.call(method, "/api/rooms/ward-a/recording", tok["op-a"])
        check(f"{method} a room's recording, nothing published → 404", r.status == 404 and
              err(r) == "stream-not-found", r.brief())
    r = api.call("POST", "/api/rooms/quiet/recording", tok["op*"])
    check("start recording in a room whose policy is never → 403", r.status == 403 and
          err(r) == "forbidden" and "never" in (r.json() or {}).get("detail", ""), r.brief())
    r = api.call("POST", rec, tok["op-a"], body=b"")
    check("POST with Content-Length: 0 → same answer", r.status == 404, r.brief())
    r = api.call("GET", "/api/rooms/bad.name/streams", tok["op*"])
    check("bad room name → 400 bad-name", r.status == 400 and err(r) == "bad-name", r.brief())
    r = api.call("GET", "/api/rooms/bad.name/streams")
    check("bad name is checked before the token", r.status == 400, r.brief())
    r = api.call("GET", "/api/nothing-here", tok["op*"])
    check("unknown API route → 404 not-found", r.status == 404 and err(r) == "not-found", r.brief())
    r = api.call("PATCH", "/api/recordings", tok["op*"], body=b"")
    check("PATCH → 405 with Allow", r.status == 405 and "GET" in r.header("Allow", ""), r.brief())
    r = api.call("DELETE", "/api/recordings", tok["op*"])
    check("DELETE on the collection → 405 with Allow: GET", r.status == 405 and
          r.header("Allow") == "GET", (r.status, r.header("Allow")))


LINK_KEYS = {"loss", "loss_after_repair", "audio_loss", "kbps", "rtt_ms", "recovered", "gave_up",
             "video_packets", "audio_packets", "window_ms"}


def is_fraction(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1


def is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def test_link(art):
    """A real publisher (aiortc) for 7 s: the stream's "link" (the relay's
    view of the uplink: loss before and after repair, bitrate, round trip)
    is null until the first window ends, then numbers of the right types."""
    srv = Server.start(art, config={"recording": {"policy": "never"}})
    try:
        pub_tok = srv.token("ward-l", "clinic", "cart-9")
        ex = srv.token("ward-l", "expert", "dr-l")
        pub = subprocess.Popen(["/usr/bin/python3", PUBLISHER, f"{srv.url}/whip/ward-l/cam", pub_tok,
                                "7"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        api = Api(srv)
        first, link = None, None
        deadline = time.time() + 15
        while time.time() < deadline and pub.poll() is None:
            r = api.call("GET", "/api/rooms/ward-l/streams/cam", ex)
            body = r.json() if r.status == 200 else None
            if body and body.get("published") and first is None:
                first = body
            if body and body.get("link"):
                link = body["link"]
                break
            time.sleep(0.25)
        check("a stream just published has \"link\": null (no window yet)",
              first is not None and "link" in first and first["link"] is None, first)
        check("after about 2 s \"link\" is an object with every key",
              isinstance(link, dict) and set(link) == LINK_KEYS, link)
        link = link or {}
        check("link: loss, loss_after_repair, audio_loss are fractions (0..1) or null",
              all(link.get(k) is None or is_fraction(link.get(k))
                  for k in ("loss", "loss_after_repair", "audio_loss")), link)
        check("link: video and audio arrived, so their loss is a number",
              link.get("video_packets", 0) > 0 and is_fraction(link.get("loss")) and
              link.get("audio_packets", 0) > 0 and is_fraction(link.get("audio_loss")), link)
        check("link: loss after repair is not above loss before it",
              is_fraction(link.get("loss_after_repair")) and
              link.get("loss_after_repair") <= link.get("loss", 0), link)
        check("link: kbps is a count above 0 (aiortc sends), window about 2 s",
              is_count(link.get("kbps")) and link.get("kbps") > 0 and
              1800 <= link.get("window_ms", 0) <= 2700, link)
        check("link: recovered, gave_up, packets are counts",
              all(is_count(link.get(k)) for k in ("recovered", "gave_up", "video_packets",
                                                   "audio_packets")), link)
        check("link: rtt_ms is a count or null (unknown)",
              link.get("rtt_ms") is None or is_count(link.get("rtt_ms")), link)
        r = api.call("GET", "/api/rooms/ward-l/streams", ex)
        listed = ((r.json() or {}).get("streams") or [{}])[0]
        check("the room's listing carries \"link\" too", "link" in listed, listed)
        check_sessions(api, srv)
        try:
            out, err = pub.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pub.kill()
            out, err = pub.communicate()
        check("aiortc published and left", pub.returncode == 0, out + err[-2000:])
        log = open(srv.log_path, errors="replace").read()
        check("no room name in the server's log", "ward-l" not in log, srv.tail(5))
    finally:
        problem = srv.stop()
        check("link server stopped cleanly", problem is None, problem)


def check_sessions(api, srv):
    """GET /api/rooms/{room}/sessions with the aiortc publisher connected:
    operators only; its one session, how it is connected."""
    r = api.call("GET", "/api/rooms/ward-l/sessions", srv.token("ward-l", "expert", "dr-l"))
    check("sessions: an expert is refused (403)", r.status == 403, r.brief())
    r = api.call("GET", "/api/rooms/ward-l/sessions", srv.token("ward-l", "operator", "op-l"))
    body = r.json() if r.status == 200 else {}
    sessions = body.get("sessions") or []
    check("sessions: the operator gets the room's one session",
          r.status == 200 and body.get("room") == "ward-l" and len(sessions) == 1, r.brief())
    s = sessions[0] if sessions else {}
    check("sessions: the publisher, its stream and identity, an 8-character id",
          s.get("kind") == "publish" and s.get("stream") == "cam" and s.get("sub") == "cart-9" and
          s.get("role") == "clinic" and len(s.get("id", "")) == 8, s)
    conn = s.get("connection") or {}
    check("sessions: connected over UDP, not relayed, rtt_ms a count or null",
          conn.get("transport") == "udp" and conn.get("relayed") is False and
          (conn.get("rtt_ms") is None or is_count(conn.get("rtt_ms"))), conn)
    r = api.call("GET", "/api/rooms/ward-empty/sessions", srv.token("ward-empty", "operator", "op-e"))
    check("sessions: a room with none lists none",
          r.status == 200 and (r.json() or {}).get("sessions") == [], r.brief())


def test_main(art):
    seed = tempfile.mkdtemp(prefix="medrelay-api-seed-")
    try:
        root = os.path.join(seed, "recordings")
        os.makedirs(root)
        webm = os.path.join(seed, "test.webm")
        print(f"test WebM made with {make_webm(webm)}", flush=True)
        paths_seed = seed_main(root, webm)
        audit = os.path.join(art, "audit.log")
        if os.path.exists(audit):
            os.remove(audit)
        srv = start(art, root, config={"server": {"audit_log": audit},
                                       "recording": {"rooms": "quiet=never", "download_ttl": 300}})
    except SetupError:
        shutil.rmtree(seed, ignore_errors=True)
        raise
    try:
        api = Api(srv)
        paths = {k: os.path.join(srv.record_dir, os.path.relpath(v, root)) for k, v in paths_seed.items()}
        paths[ID_B] = add_in_progress(srv.record_dir)
        tok = {"op*": srv.token("*", "operator", "op-all"), "op-a": srv.token("ward-a", "operator", "op-a"),
               "op-b": srv.token("ward-b", "operator", "op-b"), "ex-a": srv.token("ward-a", "expert", "ex-a"),
               "viewer": srv.token("ward-a", "viewer", "v"), "clinic": srv.token("ward-a", "clinic", "c")}
        test_listing(api, tok)
        test_metadata(api, tok, paths)
        used = test_download(api, tok, paths, srv.secret)
        test_cors(api)
        test_delete(api, tok, paths, audit)
        test_streams(api, tok)
        test_audit(audit, used)
        r = api.call("GET", "/healthz")
        check("server healthy after all that", r.status == 200, r.brief())
    except HttpError as e:
        check("HTTP exchange", False, e)
    finally:
        problem = srv.stop()
        check("server stopped cleanly", problem is None, problem)
        shutil.rmtree(seed, ignore_errors=True)


def test_retention(art):
    seed = tempfile.mkdtemp(prefix="medrelay-api-retention-")
    audit = os.path.join(art, "audit.log")
    if os.path.exists(audit):
        os.remove(audit)
    now = time.time()
    root = os.path.join(seed, "recordings")
    os.makedirs(root)
    old_start, old_end = iso(now - 3 * 86400 - 600), iso(now - 3 * 86400)
    old = add_recording(root, "ward-r", "0000000011111111", 0, "cam", old_start, old_end, media=b"old")
    new = add_recording(root, "ward-r", "0000000022222222", 0, "cam", iso(now - 7200), iso(now - 3600),
                        media=b"new")
    # Started two days ago and left in progress by a crash: the recorder
    # closes it at start-up (state "interrupted", ended now), so retention,
    # which runs after, keeps it.
    live = add_recording(root, "ward-r", "0000000033333333", 0, "mic", iso(now - 2 * 86400),
                         state="recording", media=b"live")
    live_sidecar = live.replace(".recording.webm", ".json")
    try:
        srv = start(art, root, config={"server": {"audit_log": audit}, "recording": {"retention_days": 1}})
    except SetupError:
        shutil.rmtree(seed, ignore_errors=True)
        raise
    try:
        def there(p):
            return os.path.exists(os.path.join(srv.record_dir, os.path.relpath(p, root)))
        check("retention: a recording that ended 3 days ago is gone at start-up",
              not there(old) and not there(old[:-5] + ".json"))
        check("retention: its empty date folder is removed", not there(os.path.dirname(old)))
        check("retention: a recording from an hour ago is kept", there(new) and there(new[:-5] + ".json"))
        side = os.path.join(srv.record_dir, os.path.relpath(live_sidecar, root))
        state = json.load(open(side)).get("state") if os.path.exists(side) else None
        check("retention: a recording a crash left in progress is closed, then kept",
              state == "interrupted" and there(live.replace(".recording.webm", ".webm")), state)
        lines = [e for e in audit_lines(audit) if e["action"] == "record-expire"]
        check("retention: the deletion is audited", len(lines) == 1 and lines[0]["room"] == "ward-r" and
              "0000000011111111-0" in lines[0]["detail"], lines)
        log = open(srv.log_path, errors="replace").read()
        check("retention: the deletion is logged without the room's name",
              "retention: deleted recording 0000000011111111-0" in log and "ward-r" not in log, srv.tail(5))
        tok = srv.token("*", "operator", "op")
        r = request(srv.host, srv.port, "GET", "/api/recordings", headers={"Authorization": "Bearer " + tok})
        ids = sorted(x["id"] for x in (r.json() or {}).get("recordings", []))
        check("retention: the listing shows what is left", ids == ["0000000022222222-0", "0000000033333333-0"], ids)
    finally:
        problem = srv.stop()
        check("retention server stopped cleanly", problem is None, problem)
        shutil.rmtree(seed, ignore_errors=True)


def main():
    try:
        test_main(artifact_dir("integration", "api"))
        test_retention(artifact_dir("integration", "api-retention"))
        test_link(artifact_dir("integration", "api-link"))
    except SetupError as e:
        print(f"SETUP FAIL api: {e}", flush=True)
        return 2
    print(f"api: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
