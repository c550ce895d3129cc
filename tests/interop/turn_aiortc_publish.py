#!/usr/bin/python3
"""aiortc publishing over TURN (issue 16), from a clinic namespace that may reach only coturn's TCP port.

aiortc cannot change its ICE servers once it has made its offer, so it asks
the WHIP endpoint for them first: an OPTIONS with its token (RFC 9725 §4.6
allows it for such stacks), whose Link rel="ice-server" headers carry the
TURN URLs with time-limited credentials. aioice takes one TURN server: the
first TURN URL over TCP. Then it publishes the moving bars of
aiortc_whip_publish.py (VP8 + Opus) with only ADDRESS as its host candidate
and reports the candidates of the pair aioice nominated.

usage: turn_aiortc_publish.py ADDRESS URL TOKEN SECONDS
Prints JSON lines: ice-servers (URLs, no credentials), published, connected
(the nominated pair: local and remote candidate type and protocol, and ms
from the POST), done; or {"error": ...}.
"""
import asyncio
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in tests/interop
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aioice.ice  # noqa: E402
import aiortc_whip_publish as publisher  # noqa: E402  (sets 127.0.0.1; replaced in main)
from aiortc import (RTCConfiguration, RTCIceServer, RTCPeerConnection,  # noqa: E402
                    RTCSessionDescription)
from aiortc.mediastreams import AudioStreamTrack  # noqa: E402

LINK_RE = re.compile(r'<([^>]*)>((?:\s*;\s*[\w-]+\s*=\s*(?:"[^"]*"|[^;,]*))*)')
PARAM_RE = re.compile(r';\s*([\w-]+)\s*=\s*(?:"([^"]*)"|([^;,]*))')


def ice_servers(url, token):
    """The Link rel="ice-server" headers of an authenticated OPTIONS, as RTCIceServer objects."""
    req = urllib.request.Request(url, method="OPTIONS")
    req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=10) as res:
        values = res.headers.get_all("Link") or []
    servers = []
    for m in LINK_RE.finditer(", ".join(values)):
        params = {p.group(1).lower(): p.group(2) if p.group(2) is not None else p.group(3).strip()
                  for p in PARAM_RE.finditer(m.group(2))}
        if params.get("rel") == "ice-server":
            servers.append(RTCIceServer(urls=m.group(1), username=params.get("username"),
                                        credential=params.get("credential")))
    return servers


def nominated(pc):
    """The candidates of the pair aioice nominated on the (bundled) transport, or None."""
    for t in pc.getTransceivers():
        conn = t.sender.transport.transport._connection
        pair = conn._nominated.get(1)
        if pair:
            lc, rc = pair.local_candidate, pair.remote_candidate
            return {"local": lc.type, "localProtocol": lc.transport, "localAddress": f"{lc.host}:{lc.port}",
                    "remote": rc.type, "remoteProtocol": rc.transport}
    return None


async def publish(url, token, seconds, servers):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
    pc.addTransceiver(publisher.MovingBars(), direction="sendonly")
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    posted = time.monotonic()
    status, headers, answer = await loop.run_in_executor(
        None, publisher.http, "POST", url, token, pc.localDescription.sdp.encode(), "application/sdp")
    if status != 201:
        print(json.dumps({"error": "WHIP POST failed", "status": status, "body": answer}), flush=True)
        return 1
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    print(json.dumps({"event": "published", "status": status}), flush=True)
    deadline = time.time() + seconds
    reported = False
    while time.time() < deadline and pc.connectionState not in ("failed", "closed"):
        if not reported and pc.connectionState == "connected":
            print(json.dumps({"event": "connected", "ms": round((time.monotonic() - posted) * 1000),
                              "pair": nominated(pc)}), flush=True)
            reported = True
        await asyncio.sleep(0.1)
    state = pc.connectionState
    location = urllib.parse.urljoin(url, headers.get("Location"))
    del_status, _, _ = await loop.run_in_executor(None, publisher.http, "DELETE", location, token)
    await pc.close()
    print(json.dumps({"event": "done", "state": state, "delete": del_status}), flush=True)
    return 0 if reported and del_status in (200, 204) else 1


async def main(address, url, token, seconds):
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: [address]
    servers = await asyncio.get_running_loop().run_in_executor(None, ice_servers, url, token)
    print(json.dumps({"event": "ice-servers", "urls": [s.urls for s in servers],
                      "withCredentials": [s.username is not None for s in servers]}), flush=True)
    tcp = [s for s in servers if s.urls.startswith("turn:") and s.urls.endswith("?transport=tcp")]
    if not tcp:
        print(json.dumps({"error": "no turn:...?transport=tcp among the ICE servers"}), flush=True)
        return 1
    return await publish(url, token, seconds, tcp[:1])


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))))
