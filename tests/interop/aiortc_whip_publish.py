#!/usr/bin/python3
"""Publish a synthetic camera and microphone to a WHIP endpoint with aiortc.

aiortc is an independent WebRTC stack (Python, its own ICE, DTLS and SRTP),
so it checks that medrelay works with more than one implementation. It only
offers AES_CM_128_HMAC_SHA1_80, so it exercises the non-GCM SRTP path.

usage: aiortc_whip_publish.py URL TOKEN SECONDS [vp8|h264]
Prints one JSON line on success: the WHIP status, Location and what was sent.
"""
import asyncio
import fractions
import json
import sys
import time

# aioice skips loopback; the test runs on 127.0.0.1 only.
import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: ["127.0.0.1"]

import av  # noqa: E402
import numpy  # noqa: E402
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription  # noqa: E402
from whip_http import http  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack  # noqa: E402


class MovingBars(VideoStreamTrack):
    """320x240 frames with a bar that moves, so every frame differs."""

    def __init__(self):
        super().__init__()
        self.n = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        img = numpy.zeros((240, 320, 3), numpy.uint8)
        x = (self.n * 4) % 320
        img[:, x:x + 16] = (255, 255, 255)
        img[:, :, 1] = 96
        self.n += 1
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


def prefer(pc, codec):
    if codec != "h264":
        return
    caps = RTCRtpSender.getCapabilities("video").codecs
    wanted = [c for c in caps if c.mimeType.lower() == "video/h264"]
    for t in pc.getTransceivers():
        if t.kind == "video":
            t.setCodecPreferences(wanted)


async def main(url, token, seconds, codec):
    pc = RTCPeerConnection()
    pc.addTransceiver(MovingBars(), direction="sendonly")
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    prefer(pc, codec)
    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    status, headers, answer = await loop.run_in_executor(
        None, http, "POST", url, token, pc.localDescription.sdp.encode(), "application/sdp")
    if status != 201:
        print(json.dumps({"error": "WHIP POST failed", "status": status, "body": answer}))
        return 1
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    print(json.dumps({"event": "published", "status": status,
                      "location": headers.get("Location")}), flush=True)
    deadline = time.time() + seconds
    while time.time() < deadline and pc.connectionState not in ("failed", "closed"):
        await asyncio.sleep(0.2)
    state = pc.connectionState
    location = urllib.parse.urljoin(url, headers.get("Location"))
    del_status, _, _ = await loop.run_in_executor(None, http, "DELETE", location, token)
    await pc.close()
    print(json.dumps({"event": "done", "state": state, "delete": del_status}), flush=True)
    return 0 if state == "connected" and del_status in (200, 204) else 1


if __name__ == "__main__":
    import urllib.parse
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    codec = sys.argv[4] if len(sys.argv) > 4 else "vp8"
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), codec)))
