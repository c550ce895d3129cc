#!/usr/bin/python3
"""Publish a VP8 test pattern and an Opus tone to a WHIP endpoint with webrtcbin.

GStreamer's webrtcbin is a third WebRTC stack (after Chromium and aiortc):
libnice for ICE, its own DTLS (OpenSSL) and SRTP (libsrtp2) elements and its
own SDP writer. It is set up the way GStreamer's WHIP clients (whipsink and
whipclientsink in gst-plugins-rs) set it up:

- bundle-policy max-bundle, so every m-section after the first is written
  as `m=<kind> 0 ...` with `a=bundle-only` (RFC 8843 section 7.2.1);
- sendonly transceivers;
- the offer is created and set locally, then the client waits for ICE
  gathering to complete and POSTs the local description (the offer plus the
  gathered candidates) exactly as webrtcbin wrote it; no trickle.

libnice never gathers loopback addresses by itself, so 127.0.0.1 is added
with the ICE agent's `add-local-ip-address` signal before gathering; libnice
then gathers on that address only.

usage: gst_webrtcbin_whip_publish.py URL TOKEN SECONDS [--offer-out FILE]

It publishes for SECONDS at most, or until a line "stop" (or end of file)
arrives on stdin, then DELETEs the session.

Prints JSON lines on stdout:
  {"event": "offer", ...}       the offer's shape, before the POST
  {"event": "published", ...}   201, Location, the answer's shape
  {"event": "connected", ...}   webrtcbin's connection-state became connected
  {"event": "done", ...}        the final state, what webrtcbin sent, DELETE status
  {"error": "...", ...}         what went wrong (webrtcbin's own message when it
                                refused the answer)
Exit status 0 when it stayed connected and DELETE answered 200/204.
"""
import argparse
import json
import sys
import threading
import time
import urllib.parse

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

from whip_http import http as whip_request  # noqa: E402

GATHER_TIMEOUT_S = 10
HTTP_TIMEOUT_S = 15

PIPELINE = (
    "webrtcbin name=webrtc bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=ball ! "
    "video/x-raw,width=320,height=240,framerate=15/1 ! videoconvert ! queue ! "
    "vp8enc deadline=1 cpu-used=8 keyframe-max-dist=30 target-bitrate=300000 ! "
    "rtpvp8pay pt=96 picture-id-mode=15-bit ! "
    "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! webrtc. "
    "audiotestsrc is-live=true wave=sine freq=440 volume=0.3 ! audioconvert ! audioresample ! "
    "queue ! opusenc ! rtpopuspay pt=111 ! "
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc. "
)


def emit(obj):
    print(json.dumps(obj), flush=True)


def http(method, url, token, body=None, ctype=None):
    """whip_http's call; a connection that fails is status 0, with why."""
    try:
        return whip_request(method, url, token, body, ctype, HTTP_TIMEOUT_S)
    except OSError as e:
        return 0, {}, f"{type(e).__name__}: {e}"


def sdp_shape(text):
    """Each m-section's kind, port, direction, bundle-only, candidates, fingerprint."""
    sections = []
    for line in text.splitlines():
        if line.startswith("m="):
            parts = line[2:].split(" ")
            sections.append({"kind": parts[0], "port": int(parts[1]), "proto": parts[2],
                             "payloads": parts[3:], "bundleOnly": False, "candidates": 0,
                             "fingerprint": False, "direction": "", "mid": ""})
        elif sections:
            s = sections[-1]
            if line == "a=bundle-only":
                s["bundleOnly"] = True
            elif line.startswith("a=candidate:"):
                s["candidates"] += 1
            elif line.startswith("a=fingerprint:"):
                s["fingerprint"] = True
            elif line.startswith("a=mid:"):
                s["mid"] = line[6:]
            elif line[2:] in ("sendonly", "recvonly", "sendrecv", "inactive"):
                s["direction"] = line[2:]
    group = next((ln for ln in text.splitlines() if ln.startswith("a=group:BUNDLE")), "")
    return {"bundle": group, "sections": sections}


def promise_error(reply):
    """The error a webrtcbin promise was answered with, or ''."""
    if reply is None:
        return ""
    if reply.has_field("error"):
        err = reply.get_value("error")
        return getattr(err, "message", None) or str(err)
    return ""


class Publisher:
    def __init__(self, url, token, seconds, offer_out):
        self.url = url
        self.token = token
        self.seconds = seconds
        self.offer_out = offer_out
        self.loop = GLib.MainLoop()
        self.pipe = Gst.parse_launch(PIPELINE)
        self.webrtc = self.pipe.get_by_name("webrtc")
        self.location = None
        self.status = 1
        self.connected_at = None
        self.offer_sent = False
        self.ended = False
        self.rtp_in = {}

        # 127.0.0.1 only (libnice skips loopback unless told). The agent's
        # Python wrapper is kept: with GStreamer 1.22 and PyGObject 3.42,
        # letting it go freed the agent under webrtcbin (seen here: criticals
        # from gst_webrtc_ice_add_stream, then a segfault).
        self.ice = self.webrtc.get_property("ice-agent")
        self.ice.emit("add-local-ip-address", "127.0.0.1")
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering_state)
        self.webrtc.connect("notify::connection-state", self.on_connection_state)
        GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()),
                          GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP, self.on_stdin)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_bus_error)

    def fail(self, message, **extra):
        emit({"error": message, **extra})
        self.finish()

    def on_stdin(self, _channel, _cond):
        line = sys.stdin.readline()
        if line == "" or line.strip() == "stop":
            self.finish()
            return False
        return True

    def on_bus_error(self, _bus, msg):
        err, dbg = msg.parse_error()
        self.fail(f"pipeline error: {err.message}", debug=dbg)

    def set_sendonly(self):
        # Each requested sink pad has its transceiver (get-transceivers
        # returns a GArray, which PyGObject cannot iterate).
        for pad in self.webrtc.sinkpads:
            pad.get_property("transceiver").set_property(
                "direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)

    def on_negotiation_needed(self, _element):
        if self.offer_sent:
            return
        self.set_sendonly()
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        self.webrtc.emit("create-offer", None, promise)

    def on_offer_created(self, promise, _data):
        promise.wait()
        reply = promise.get_reply()
        err = promise_error(reply)
        if err or reply is None:
            GLib.idle_add(self.fail, f"create-offer failed: {err or 'no reply'}")
            return
        offer = reply.get_value("offer")
        self.webrtc.emit("set-local-description", offer, Gst.Promise.new())
        GLib.timeout_add_seconds(GATHER_TIMEOUT_S, self.gather_timeout)

    def gather_timeout(self):
        if not self.offer_sent:
            state = self.webrtc.get_property("ice-gathering-state")
            self.fail(f"ICE gathering not complete after {GATHER_TIMEOUT_S} s (state {state.value_nick})")
        return False

    def on_gathering_state(self, _element, _pspec):
        state = self.webrtc.get_property("ice-gathering-state")
        if state == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not self.offer_sent:
            self.offer_sent = True
            # Leave the signal handler (webrtcbin's thread) before blocking on HTTP.
            GLib.idle_add(self.post_offer)

    def post_offer(self):
        offer = self.webrtc.get_property("local-description").sdp.as_text()
        if self.offer_out:
            with open(self.offer_out, "w", newline="") as f:
                f.write(offer)
        emit({"event": "offer", "shape": sdp_shape(offer), "bytes": len(offer)})
        threading.Thread(target=self.post_thread, args=(offer,), daemon=True).start()
        return False

    def post_thread(self, offer):
        status, headers, body = http("POST", self.url, self.token, offer.encode(), "application/sdp")
        GLib.idle_add(self.on_answer, status, headers, body)

    def on_answer(self, status, headers, body):
        if status != 201:
            self.fail("WHIP POST failed", status=status, body=body[:2000])
            return False
        self.location = urllib.parse.urljoin(self.url, headers.get("Location") or "")
        emit({"event": "published", "status": status, "location": headers.get("Location"),
              "answerShape": sdp_shape(body), "answer": body})
        ok, msg = GstSdp.SDPMessage.new_from_text(body)
        if ok != GstSdp.SDPResult.OK:
            self.fail("the answer is not SDP that GStreamer can parse", answer=body[:2000])
            return False
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        promise = Gst.Promise.new_with_change_func(self.on_answer_set, None)
        self.webrtc.emit("set-remote-description", answer, promise)
        GLib.timeout_add(int(self.seconds * 1000), self.finish)
        return False

    def on_answer_set(self, promise, _data):
        promise.wait()
        err = promise_error(promise.get_reply())
        if err:
            GLib.idle_add(self.fail, f"webrtcbin refused the answer: {err}")

    def on_connection_state(self, _element, _pspec):
        state = self.webrtc.get_property("connection-state")
        nick = state.value_nick
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED and self.connected_at is None:
            self.connected_at = time.time()
            GLib.idle_add(lambda: emit({"event": "connected"}) and False)
        elif state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            GLib.idle_add(self.fail, f"webrtcbin connection-state {nick}")

    def count_rtp(self):
        """Counts the RTP buffers handed to webrtcbin, per kind (webrtcbin 1.22's
        get-stats has no outbound-rtp entries for this pipeline)."""
        for pad in self.webrtc.sinkpads:
            caps = pad.get_current_caps() or pad.peer_query_caps(None)
            kind = caps.get_structure(0).get_string("media") if caps and caps.get_size() else None
            kind = kind or pad.get_name()
            self.rtp_in.setdefault(kind, 0)

            def probe(_pad, _info, k=kind):
                self.rtp_in[k] += 1
                return Gst.PadProbeReturn.OK

            pad.add_probe(Gst.PadProbeType.BUFFER, probe)

    def finish(self):
        if self.ended:
            return False
        self.ended = True
        state = self.webrtc.get_property("connection-state").value_nick
        delete = None
        if self.location:
            delete, _, _ = http("DELETE", self.location, self.token)
        emit({"event": "done", "state": state, "delete": delete, "rtpBuffersIn": dict(self.rtp_in)})
        if state == "connected" and delete in (200, 204):
            self.status = 0
        self.loop.quit()
        return False

    def run(self):
        self.count_rtp()
        if self.pipe.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            emit({"error": "the pipeline did not start (missing element?)"})
            return 2
        self.loop.run()
        self.pipe.set_state(Gst.State.NULL)
        return self.status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url")
    ap.add_argument("token")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--offer-out", help="write the offer, as POSTed, to this file")
    args = ap.parse_args()
    Gst.init(None)
    for name in ("webrtcbin", "nicesrc", "vp8enc", "opusenc", "rtpvp8pay", "rtpopuspay", "dtlssrtpenc"):
        if Gst.ElementFactory.find(name) is None:
            emit({"error": f"GStreamer element {name} is missing (scripts/deps.sh test installs it)"})
            return 2
    return Publisher(args.url, args.token, args.seconds, args.offer_out).run()


if __name__ == "__main__":
    sys.exit(main())
