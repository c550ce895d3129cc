#!/usr/bin/python3
"""A/V sync pattern and its measurement, for recording tests.

  avpattern.py make DIR            writes DIR/flash.y4m and DIR/beep.wav: a
                                   2-second loop (320x240, 30 fps; 48 kHz
                                   mono) with a white frame and a 1 kHz beep
                                   starting at the same instant, for
                                   Chromium's --use-file-for-fake-*-capture
  avpattern.py measure FILE        prints JSON: flash and beep onsets in the
                                   recording (from ffprobe's signalstats and
                                   astats) and the audio-minus-video offset
                                   of each matched pair, in ms

Stdlib only, plus ffprobe (package ffmpeg).
"""
import json
import math
import os
import struct
import subprocess
import sys

W, H, FPS, LOOP_S, RATE = 320, 240, 30, 2, 48000
FLASH_FRAMES = 3          # 100 ms white
BEEP_MS = 100


def make(folder):
    os.makedirs(folder, exist_ok=True)
    y = W * H
    black = b"\x10" * y + b"\x80" * (y // 2)
    white = b"\xeb" * y + b"\x80" * (y // 2)
    with open(os.path.join(folder, "flash.y4m"), "wb") as f:
        f.write(f"YUV4MPEG2 W{W} H{H} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(FPS * LOOP_S):
            f.write(b"FRAME\n")
            f.write(white if i < FLASH_FRAMES else black)
    n = RATE * LOOP_S
    samples = bytearray()
    for i in range(n):
        v = 0
        if i < RATE * BEEP_MS // 1000:
            v = int(20000 * math.sin(2 * math.pi * 1000 * i / RATE))
        samples += struct.pack("<h", v)
    with open(os.path.join(folder, "beep.wav"), "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16))
        f.write(b"data" + struct.pack("<I", len(samples)) + samples)


def probe(args):
    out = subprocess.run(["ffprobe", "-v", "error"] + args, capture_output=True, text=True,
                         timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-500:])
    return out.stdout


def onsets(series, threshold, min_gap):
    """Times where the value crosses above threshold, at least min_gap apart."""
    times, last, prev = [], -1e9, None
    for t, v in series:
        above = v > threshold
        if above and not prev and t - last > min_gap:
            times.append(t)
            last = t
        prev = above
    return times


def measure(path):
    lavfi = path.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")
    video = probe(["-f", "lavfi", "-i", f"movie='{lavfi}',signalstats", "-show_entries",
                   "frame=pts_time:frame_tags=lavfi.signalstats.YAVG", "-of", "csv=p=0"])
    vs = []
    for line in video.splitlines():
        parts = line.split(",")
        if len(parts) >= 2 and parts[0] and parts[1]:
            vs.append((float(parts[0]), float(parts[1])))
    audio = probe(["-f", "lavfi", "-i",
                   f"amovie='{lavfi}',asetnsamples=n=240,astats=metadata=1:reset=1",
                   "-show_entries", "frame=pts_time:frame_tags=lavfi.astats.Overall.RMS_level",
                   "-of", "csv=p=0"])
    aus = []
    for line in audio.splitlines():
        parts = line.split(",")
        if len(parts) >= 2 and parts[0] and parts[1] not in ("", "-inf"):
            aus.append((float(parts[0]), float(parts[1])))
    flashes = onsets(vs, 128, 1.0)
    beeps = onsets(aus, -30.0, 1.0)
    pairs = []
    for f in flashes:
        near = min(beeps, key=lambda b: abs(b - f), default=None)
        if near is not None and abs(near - f) < 0.5:
            pairs.append(round((near - f) * 1000, 1))
    return {"flashes": len(flashes), "beeps": len(beeps), "offsets_ms": pairs,
            "video_frames": len(vs), "duration_s": vs[-1][0] if vs else 0}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "measure":
        print(json.dumps(measure(sys.argv[2])))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
