#!/bin/bash
# Captures what real WebRTC clients send through medrelay (see
# tests/bench/README.md, "Real clients"): in a network namespace of its own
# (so the capture holds nobody else's traffic), starts medrelay, a headless
# Chromium publisher and viewers (capture.js) and optionally GStreamer
# webrtcbin viewers (gst_whep.py), captures the loopback with tcpdump, and
# prints what analyze.py finds in it. Root (namespaces, tcpdump).
#
#   tests/bench/clients/capture.sh [--seconds 60] [--viewers 2] [--gst-viewers 1]
#                                  [--out DIR] [--size 1280x720] [--camera noisy|scene]
# Environment: BUILD_DIR [build] (or MEDRELAY_BIN).
set -euo pipefail
cd "$(dirname "$0")/../../.."
SRC=$PWD
BUILD_DIR=${BUILD_DIR:-build}
seconds=60 viewers=2 gst=0 out=tests/artifacts/bench/clients size=1280x720 camera=scene
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2 ;;
        --viewers) viewers=$2 ;;
        --gst-viewers) gst=$2 ;;
        --out) out=$2 ;;
        --size) size=$2 ;;
        --camera) camera=$2 ;;
        *) echo "capture.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
done
w=${size%x*} h=${size#*x}
command -v tcpdump >/dev/null || { echo "capture.sh: apt-get install tcpdump" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
ns=mrcap-$$
tmp=$(mktemp -d /tmp/mrcap.XXXXXX)
cleanup() {
    [ -z "${dump:-}" ] || kill "$dump" 2>/dev/null || true
    wait 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A camera whose picture VP8 must spend its bitrate on, as on a real camera
# (Chromium's own fake picture is a flat animation a few kbit/s encode),
# 10 s, looped by Chromium. noisy: colour bars sliding sideways under
# sensor-like noise (every frame costs about the same); scene: still colour
# bars, a ball moving across and fainter noise (frame sizes vary more).
y4m=$tmp/cam.y4m
caps="video/x-raw,width=$w,height=$h,framerate=30/1"
if [ "$camera" = noisy ]; then
    gst-launch-1.0 -q compositor name=mix sink_1::alpha=0.12 ! video/x-raw,format=I420 ! y4menc ! \
        filesink location="$y4m" \
        videotestsrc num-buffers=300 pattern=smpte horizontal-speed=3 ! $caps ! mix. \
        videotestsrc num-buffers=300 pattern=snow ! $caps ! mix.
else
    gst-launch-1.0 -q compositor name=mix sink_1::alpha=0.5 sink_2::alpha=0.05 ! \
        video/x-raw,format=I420 ! y4menc ! filesink location="$y4m" \
        videotestsrc num-buffers=300 pattern=smpte ! $caps ! mix. \
        videotestsrc num-buffers=300 pattern=ball motion=sweep flip=true ! $caps ! mix. \
        videotestsrc num-buffers=300 pattern=snow ! $caps ! mix.
fi

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" tcpdump -q -i lo -s 200 -w "$out/capture.pcap" udp >/dev/null 2>&1 &
dump=$!
sleep 1
MEDRELAY_BIN=${MEDRELAY_BIN:-$(cd "$BUILD_DIR" && pwd)/medrelay} MEDRELAY_ARTIFACT_DIR=$out/.. \
    ip netns exec "$ns" node tests/bench/clients/capture.js --seconds "$seconds" \
    --viewers "$viewers" --gst-viewers "$gst" --y4m "$y4m" --width "$w" --height "$h" --out "$out"
sleep 1
kill "$dump"; wait "$dump" 2>/dev/null || true
dump=
python3 tests/bench/clients/analyze.py "$out" | tee "$out/analysis.txt"
