#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_wsproto (the room protocol) into
tests/fuzz/corpus/fuzz_wsproto/: scripts in the input format described at
the top of tests/fuzz/fuzz_wsproto.c. Standard library only.

    tests/fuzz/gen_wsproto_seeds.py [OUT_DIR]

Files it does not know (inputs the fuzzer found, crashes kept as
regression tests) are left alone; its own are rewritten.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

CAND = "candidate:1 1 udp 2122260223 10.0.0.5 53122 typ host"


def msg(**fields):
    """One JSON message, compact, keys in the order given ("type" first)."""
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def T(slot, **fields):
    return f"{slot}T{msg(**fields)}"


def join(slot, token, room=""):
    return f"{slot}J{token}{room}"


def publish(slot, stream, rid=None, sdp="@O"):
    f = {"type": "publish"}
    if rid is not None:
        f["id"] = rid
    f.update(stream=stream, sdp=sdp)
    return T(slot, **f)


def subscribe(slot, rid=None, **more):
    f = {"type": "subscribe"}
    if rid is not None:
        f["id"] = rid
    f.update(more)
    return T(slot, **f)


def answer(slot, rid=None, sdp="@A"):
    f = {"type": "answer"}
    if rid is not None:
        f["id"] = rid
    f.update(pc="subscriber", sdp=sdp)
    return T(slot, **f)


def chromium_offer():
    with open(os.path.join(ROOT, "tests/data/sdp/chromium_whip_sendonly.sdp"), newline="") as f:
        text = f.read()
    if "\r\n" not in text:
        text = text.replace("\n", "\r\n")
    return text


SEEDS = {}


def seed(name, *lines, tight=False):
    body = "\n".join((["!"] if tight else []) + list(lines)) + "\n"
    SEEDS[name] = body.encode()


# --- Joining, publishing, subscribing -------------------------------------

seed("join_publish_subscribe",
     join(0, 0),
     publish(0, "cam", 2),
     join(1, 1),
     subscribe(1, 3),
     answer(1, 4),
     T(1, type="candidate", id=5, pc="subscriber", candidate=CAND),
     T(0, type="candidate", pc="publisher", stream="cam", candidate=CAND),
     T(0, type="candidate", id=6, pc="publisher", stream="cam", candidate=None),
     T(1, type="ping", id="p1"),
     "0t3",
     T(1, type="leave", id=7),
     T(0, type="unpublish", id=8, stream="cam"))

seed("chromium_offer_program_viewer",
     join(0, 0),
     T(0, type="publish", id=1, stream="cam", sdp=chromium_offer()),
     join(3, 3),
     subscribe(3, 2),
     join(2, 2, "ward-1"),
     T(2, type="program", id=3, stream="cam"),
     answer(3, 4),
     T(3, type="candidate", pc="subscriber", candidate=""),
     T(2, type="program", id=5, stream=None))

seed("subscribe_variants",
     join(0, 0),
     publish(0, "cam", 1),
     publish(0, "us", 2),
     join(1, 1),
     subscribe(1, 3, streams="*"),
     answer(1, 4),
     subscribe(1, 5, streams=["cam"]),
     answer(1, 6),
     subscribe(1, 7, streams="program"),
     subscribe(1, 8, streams=["cam", "us", "later"], restart=True),
     answer(1, 9),
     subscribe(1, 10, streams=["bad name"]),
     subscribe(1, 11, streams=[f"s{i}" for i in range(33)]),
     subscribe(1, 12, streams=5),
     subscribe(1, 13, streams=["cam", 7]),
     T(0, type="unpublish", id=14, stream="cam"),
     answer(1, 15))

seed("subscribe_nothing_live",
     join(1, 1),
     subscribe(1, 1),
     join(0, 0),
     publish(0, "cam", 2),
     answer(1, 3),
     T(0, type="unpublish", id=4, stream="cam"),
     subscribe(1, 5, streams=["cam"]),
     publish(0, "cam", 6),
     answer(1, 7))

seed("answer_errors",
     join(0, 0),
     publish(0, "cam", 1),
     join(1, 1),
     answer(1, 2),
     subscribe(1, 3),
     T(1, type="answer", id=4, pc="publisher", sdp="@A"),
     T(1, type="answer", id=5, pc="subscriber"),
     answer(1, 6, sdp="hello"),
     answer(1, 7, sdp="v=0\r\na=setup:active\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"),
     answer(1, 8, sdp="v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"),
     answer(1, 9),
     answer(1, 10))

seed("candidates_edge",
     join(0, 0),
     T(0, type="candidate", id=1, pc="subscriber", candidate=CAND),
     publish(0, "cam", 2),
     T(0, type="candidate", id=3, pc="publisher", stream="cam", candidate="a=" + CAND),
     T(0, type="candidate", id=4, pc="publisher", stream="cam", candidate=CAND + "\r\na=x"),
     T(0, type="candidate", id=5, pc="publisher", stream="cam", candidate="candidate:x"),
     T(0, type="candidate", id=6, pc="publisher", stream="cam", candidate="typ host"),
     T(0, type="candidate", id=7, pc="publisher", stream="cam", candidate=5),
     T(0, type="candidate", id=8, pc="publisher", stream="nope", candidate=CAND),
     T(0, type="candidate", id=9, pc="publisher", candidate=CAND),
     T(0, type="candidate", id=10, pc="other", candidate=CAND),
     T(0, type="candidate", id=11, pc="publisher", stream="cam",
       candidate="candidate:" + "9" * 1300 + " 1 udp 1 1.2.3.4 9 typ host"))

# --- Roles and moderation -------------------------------------------------

seed("mute_by_roles",
     join(0, 0),
     publish(0, "cam", 1),
     join(1, 1),
     join(2, 2, "ward-1"),
     join(3, 4),
     T(1, type="mute", id=2, stream="cam", kind="audio", muted=True),
     T(0, type="mute", id=3, stream="cam", kind="audio", muted=True),
     T(2, type="mute", id=4, stream="cam", kind="video", muted=True),
     T(3, type="mute", id=5, stream="cam", kind="video", muted=False),
     T(0, type="mute", id=6, stream="cam", kind="screen", muted=True),
     T(0, type="mute", id=7, stream="cam", kind="audio", muted="yes"),
     T(0, type="mute", id=8, stream="nope", kind="audio", muted=False),
     T(0, type="mute", id=9, kind="audio", muted=False),
     T(2, type="mute", id=10, stream="cam", kind="audio", muted=False))

seed("record_by_roles",
     join(0, 0),
     publish(0, "cam", 1),
     publish(0, "eio-cam", 2),
     join(2, 2, "ward-1"),
     T(0, type="record", id=3, action="start", stream="cam"),
     T(2, type="record", id=4, action="stop", stream="cam"),
     T(2, type="record", id=5, action="stop", stream="cam"),
     T(2, type="record", id=6, action="start", stream="cam"),
     T(2, type="record", id=7, action="start", stream="eio-cam"),
     T(2, type="record", id=8, action="start", stream="nope"),
     T(2, type="record", id=9, action="stop"),
     T(2, type="record", id=10, action="start"),
     T(2, type="record", id=11, action="pause"),
     T(2, type="record", id=12, action="start", stream=5))

seed("record_policies_tight",
     join(1, 5),
     publish(1, "cam", 1),
     join(2, 2, "ward-2"),
     T(2, type="record", id=2, action="start", stream="cam"),
     T(2, type="record", id=3, action="start"),
     join(0, 0),
     publish(0, "cam", 4),
     join(3, 2, "ward-1"),
     T(3, type="record", id=5, action="start", stream="cam"),
     T(3, type="record", id=6, action="stop"),
     tight=True)

seed("program_remove",
     join(0, 0),
     publish(0, "cam", 1),
     join(1, 1),
     join(2, 2, "ward-1"),
     join(3, 3),
     subscribe(3, 2),
     T(2, type="program", id=3, stream="cam"),
     answer(3, 4),
     T(1, type="program", id=5, stream="cam"),
     T(2, type="program", id=6, stream=5),
     T(2, type="program", id=7, stream="bad name"),
     T(2, type="remove", id=8, participant="@M2"),
     T(2, type="remove", id=9, participant="0000000000000000"),
     T(2, type="remove", id=10),
     T(1, type="remove", id=11, participant="@M0"),
     T(2, type="remove", id=12, participant="@M0"),
     "0O",
     join(0, 0),
     T(2, type="remove", id=13, participant="@M3"),
     T(2, type="program", id=14, stream=None))

seed("identity_viewer_with_clinic_sub",
     join(0, 0),
     publish(0, "cam", 1),
     join(1, 4),
     publish(1, "cam", 2),
     T(1, type="mute", id=3, stream="cam", kind="audio", muted=True),
     T(1, type="unpublish", id=4, stream="cam"),
     subscribe(1, 5),
     join(2, 2, "ward-1"),
     T(2, type="program", id=6, stream="cam"),
     answer(1, 7),
     T(0, type="mute", id=8, stream="cam", kind="audio", muted=True),
     T(2, type="remove", id=9, participant="@M1"),
     "1O",
     join(1, 4),
     join(3, 0))

# --- Connections: leaving, replacing, orphans -----------------------------

seed("leave_and_rejoin",
     join(0, 0),
     publish(0, "cam", 1),
     subscribe(0, 2, streams="*"),
     T(0, type="leave", id=3),
     T(0, type="ping", id=4),
     "0O",
     join(0, 0),
     T(0, type="leave"),
     join(1, 1),
     T(1, type="leave", id=5))

seed("replaced_adopts_publishers",
     join(0, 0),
     publish(0, "cam", 1),
     join(1, 1),
     subscribe(1, 2),
     answer(1, 3),
     join(2, 0),
     T(2, type="candidate", id=4, pc="publisher", stream="cam", candidate=CAND),
     T(0, type="ping", id=5),
     publish(2, "cam", 6),
     T(2, type="unpublish", id=7, stream="cam"))

seed("orphan_rejoin",
     join(0, 0),
     publish(0, "cam", 1),
     publish(0, "us", 2),
     join(1, 1),
     subscribe(1, 3),
     answer(1, 4),
     "0C",
     "0t3",
     "0k",
     "0O",
     join(0, 0),
     T(0, type="unpublish", id=5, stream="us"),
     "0C",
     "2O",
     join(2, 0),
     publish(2, "cam", 6))

seed("orphan_expires",
     join(0, 0),
     publish(0, "cam", 1),
     join(1, 1),
     subscribe(1, 2),
     answer(1, 3),
     "0C",
     "0t31",
     "0k",
     "0k",
     "0O",
     join(0, 0))

seed("close_publisher_while_opening",
     join(0, 0),
     "+" + publish(0, "cam", 1),
     "0C",
     "0O",
     join(0, 0),
     "+" + publish(0, "cam", 2),
     T(0, type="unpublish", id=3, stream="cam"),
     "+" + publish(0, "cam", 4),
     publish(0, "cam", 5),
     join(1, 1),
     "+" + subscribe(1, 6),
     "1C")

seed("join_timeout",
     join(1, 1),
     "0t11",
     "0k",
     "1k",
     "0O",
     T(0, type="ping"))

# --- Join refusals and malformed input ------------------------------------

seed("join_errors",
     T(0, type="join", id=1),
     T(0, type="join", id=2, token="garbage"),
     T(0, type="join", id=3, token="@T6"),
     T(0, type="join", id=4, token="@T7", room="ward-1"),
     T(0, type="join", id=5, token="@T2"),
     T(0, type="join", id=6, token="@T5", room="ward-1"),
     T(0, type="join", id=7, token="@T0", room="bad name"),
     T(0, type="join", id=8, token="@T0", room=5),
     T(0, type="join", id=9, token=5),
     join(0, 0),
     join(0, 1))

seed("malformed_json",
     "0T{",
     "0Tnull",
     "0T[]",
     "0T\"ping\"",
     "0T",
     "0T{\"type\":5}",
     "0T{\"type\":\"ping\",\"id\":[1]}",
     "0T{\"type\":\"ping\",\"id\":1.5}",
     "0T{\"type\":\"ping\",\"type\":\"ping\"}",
     "0T{\"type\":\"nope\",\"id\":1}",
     "0T{\"type\":\"publish\",\"id\":2}",
     "0T{\"type\":\"ping\"}\u0000",
     "0T{\"type\":\"ping\",\"id\":\"\\ud800\"}",
     join(0, 0),
     "0T{\"type\":\"subscribe\",\"streams\":{}}",
     "0T{\"type\":\"ping\",\"id\":-9223372036854775808}")

seed("wrong_types",
     join(0, 0),
     T(0, type="publish", id=1, stream=5, sdp="@O"),
     T(0, type="publish", id=2, stream="cam", sdp=5),
     T(0, type="publish", id=3, stream="bad name!", sdp="@O"),
     T(0, type="publish", id=4, stream="x" * 65, sdp="@O"),
     T(0, type="unpublish", id=5),
     T(0, type="unpublish", id=6, stream="cam"),
     T(0, type="subscribe", id=7, restart="yes"),
     T(0, type="leave", id=True),
     T(0, type="join", id=8, token="@T0"))

seed("oversized_and_binary",
     "0L",
     "1Lxxxxxxxx",
     "0B{\"type\":\"ping\"}",
     join(0, 0),
     "0B" + msg(type="publish", stream="cam", sdp="@O"),
     "0T{\"type\":\"ping\",\"id\":\"" + "x" * 5000 + "\"}",
     "0L",
     T(0, type="ping", id=1),
     tight=True)

seed("flood_pings",
     join(0, 0),
     *([T(0, type="ping")] * 260))

seed("flood_windows",
     join(1, 1),
     *([T(1, type="ping")] * 60),
     "1t1",
     *([T(1, type="ping")] * 60),
     "1t1",
     *([T(1, type="ping")] * 60),
     "1t1",
     *([T(1, type="ping")] * 60))

# Each "@O" in the id grows to the ~470-byte offer, so each pong is ~56 KiB:
# a client that does not read passes ws_max_queue (1 MiB) in 19 of them.
seed("slow_reader",
     join(0, 0),
     join(1, 1),
     "1D",
     *([T(1, type="ping", id="@O" * 120)] * 22),
     "1d",
     T(1, type="ping", id=1))

# --- The relay's own events -----------------------------------------------

seed("relay_whip_whep_recording",
     join(1, 1),
     subscribe(1, 1),
     "0Rwwhip",
     "0k",
     answer(1, 2),
     "0Rvwhip",
     "0Rr",
     "0k",
     "0Rrwhip",
     "0k",
     "0Rd",
     "0k",
     "0Rx",
     "0k",
     answer(1, 3),
     "0M")

seed("relay_late_failures",
     join(0, 0),
     "0Re",
     publish(0, "cam", 1),
     publish(0, "cam", 2),
     join(1, 1),
     "1Re",
     subscribe(1, 3),
     subscribe(1, 4),
     answer(1, 5),
     "1Rf0",
     T(1, type="candidate", id=6, pc="subscriber", candidate=CAND),
     answer(1, 7),
     "0Rf0",
     T(0, type="candidate", id=8, pc="publisher", stream="cam", candidate=CAND),
     publish(0, "cam", 9))

seed("publish_refusals",
     "0Rwcam",
     join(0, 0),
     publish(0, "cam", 1),
     publish(0, "a", 2, sdp="hello"),
     publish(0, "a", 3, sdp="v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"),
     publish(0, "a", 4, sdp="v=0\r\ns=-\r\n"),
     *[publish(0, f"s{i}", 10 + i) for i in range(9)],
     join(3, 3),
     publish(3, "v", 20))

seed("limits_tight",
     join(0, 0),
     join(1, 1),
     join(2, 2, "ward-1"),
     join(3, 3),
     "0M",
     "2O",
     "0Rvwhip",
     "0Rwwhip",
     "0Rvwhip",
     "0Rvwhip",
     "3C",
     "3O",
     join(3, 4),
     "0M",
     tight=True)

seed("operator_two_rooms",
     join(1, 5),
     publish(1, "cam", 1),
     join(2, 2, "ward-2"),
     subscribe(2, 2),
     answer(2, 3),
     T(2, type="mute", id=4, stream="cam", kind="audio", muted=True),
     T(2, type="leave", id=5),
     "2O",
     join(2, 2, "ward-1"),
     T(2, type="record", id=6, action="start"),
     "0M")

seed("resubscribe_while_offer_out",
     join(0, 0),
     publish(0, "cam", 1),
     join(1, 1),
     "+" + subscribe(1, 2),
     subscribe(1, 3, streams=["cam"]),
     "+" + publish(0, "us", 4),
     answer(1, 5),
     answer(1, 6),
     "+" + T(0, type="unpublish", id=7, stream="us"),
     subscribe(1, 8, restart=True),
     answer(1, 9))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "fuzz_wsproto")
    os.makedirs(out, exist_ok=True)
    for name, body in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)
    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()
