#!/usr/bin/python3
"""Watch a stream over WHEP with aiortc and report the frames it decodes.

aiortc is an independent WebRTC stack (Python, its own ICE, DTLS, SRTP and a
libvpx decoder through PyAV), so a viewer here checks what medrelay sends
against more than Chromium: for simulcast, that a viewer moved from one
layer to another gets a stream it can decode, in the new size.

usage: aiortc_whep_view.py URL TOKEN SECONDS
Prints JSON lines: {"event": "watching", ...} once the answer is applied,
{"event": "size", "width", "height", "frames", "t"} whenever the decoded
size changes, and {"event": "done", "frames", "errors", "state", "delete"}.
"""
import asyncio
import json
import sys
import time
import urllib.parse

# aioice skips loopback; the test runs on 127.0.0.1 only.
import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: ["127.0.0.1"]

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from whip_http import http  # noqa: E402


def emit(obj):
    print(json.dumps(obj), flush=True)


async def watch(track, t0, counts):
    size = None
    while True:
        try:
            frame = await track.recv()
        except Exception:  # the track ended
            return
        counts["frames"] += 1
        if (frame.width, frame.height) != size:
            size = (frame.width, frame.height)
            emit({"event": "size", "width": frame.width, "height": frame.height,
                  "frames": counts["frames"], "t": round(time.time() - t0, 3)})


async def main(url, token, seconds):
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    t0 = time.time()
    counts = {"frames": 0}
    tasks = []

    @pc.on("track")
    def on_track(track):
        if track.kind == "video":
            tasks.append(asyncio.ensure_future(watch(track, t0, counts)))

    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    status, headers, answer = await loop.run_in_executor(
        None, http, "POST", url, token, pc.localDescription.sdp.encode(), "application/sdp")
    if status != 201:
        emit({"error": "WHEP POST failed", "status": status, "body": answer})
        return 1
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    emit({"event": "watching", "status": status, "location": headers.get("Location")})
    deadline = time.time() + seconds
    while time.time() < deadline and pc.connectionState not in ("failed", "closed"):
        await asyncio.sleep(0.2)
    state = pc.connectionState
    location = urllib.parse.urljoin(url, headers.get("Location"))
    del_status, _, _ = await loop.run_in_executor(None, http, "DELETE", location, token)
    await pc.close()
    for task in tasks:
        task.cancel()
    emit({"event": "done", "frames": counts["frames"], "state": state, "delete": del_status})
    return 0 if state == "connected" and del_status in (200, 204) else 1


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]))))
