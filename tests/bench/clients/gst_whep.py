#!/usr/bin/python3
"""A GStreamer webrtcbin WHEP viewer (no trickle), for capture.js: receives
audio and video, decodes them (vp8dec, opusdec) into fakesinks, as a
GStreamer client would, for SECONDS, then exits.

    gst_whep.py URL TOKEN SECONDS SDP_OUT.json
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

url, token, seconds, sdp_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
Gst.init(None)
pipe = Gst.Pipeline.new("whep")
wb = Gst.ElementFactory.make("webrtcbin", "wb")
# max-compat: with max-bundle webrtcbin writes the video section with port 0
# and a=bundle-only (RFC 8843 §7.2.1), which medrelay before 4e77f93 took
# for a rejection.
wb.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_COMPAT)
pipe.add(wb)
# libnice leaves loopback out unless told: the server's host is the address.
# (ice is kept: PyGObject would otherwise drop a reference the bin needs.)
ice = wb.get_property("ice-agent")
ice.emit("add-local-ip-address", urllib.parse.urlsplit(url).hostname)
loop = GLib.MainLoop()

for caps in ("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2,payload=111",
             "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96"):
    wb.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
            Gst.Caps.from_string(caps))


def on_pad(_, pad):
    if pad.direction != Gst.PadDirection.SRC:
        return
    name = pad.get_current_caps().get_structure(0).get_string("encoding-name")
    desc = ("rtpvp8depay ! vp8dec ! fakesink sync=false" if name == "VP8"
            else "rtpopusdepay ! opusdec ! fakesink sync=false")
    bin_ = Gst.parse_bin_from_description(desc, True)
    pipe.add(bin_)
    bin_.sync_state_with_parent()
    pad.link(bin_.get_static_pad("sink"))


wb.connect("pad-added", on_pad)


def post(offer_sdp):
    req = urllib.request.Request(url, data=offer_sdp.encode(), method="POST",
                                 headers={"Content-Type": "application/sdp",
                                          "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            answer = r.read().decode()
    except urllib.error.HTTPError as e:
        sys.exit(f"gst_whep: POST {url}: {e.code} {e.read().decode()}")
    print("gst_whep: answered", len(answer), "bytes", file=sys.stderr)
    with open(sdp_out, "w") as f:
        json.dump({"offer": offer_sdp, "answer": answer}, f, indent=1)
    _, msg = GstSdp.SDPMessage.new_from_text(answer)
    wb.emit("set-remote-description",
            GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg), None)
    return False


def gathered():
    """Polled: POSTs the offer once ICE gathering is complete."""
    if wb.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
        return True
    post(wb.get_property("local-description").sdp.as_text())
    return False


pipe.set_state(Gst.State.PLAYING)
promise = Gst.Promise.new()
wb.emit("create-offer", None, promise)
promise.wait()
reply = promise.get_reply()  # kept: the offer lives in it
offer = reply.get_value("offer")
wb.emit("set-local-description", offer, None)
GLib.timeout_add(100, gathered)
GLib.timeout_add_seconds(seconds, loop.quit)
loop.run()
pipe.set_state(Gst.State.NULL)
