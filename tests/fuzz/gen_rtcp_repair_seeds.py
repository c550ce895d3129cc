#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_rtcp_repair (loss repair's NACK, XR,
RTX and missing-packet list) into tests/fuzz/corpus/fuzz_rtcp_repair/:
RTCP compounds, RTP retransmissions and event scripts in the input format
described at the top of tests/fuzz/fuzz_rtcp_repair.c. Standard library only.

    tests/fuzz/gen_rtcp_repair_seeds.py [OUT_DIR]

Files it does not know (inputs the fuzzer found, crashes kept as
regression tests) are left alone; its own are rewritten.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

RTPFB, XR, RR = 205, 207, 201


def rtcp(pt, count, body, padding=0):
    """One RTCP packet (RFC 3550 §6.4.1 common header), padded to words."""
    assert len(body) % 4 == 0
    pad = b""
    if padding:
        pad = bytes(padding - 1) + bytes([padding])
    n = 4 + len(body) + len(pad)
    first = 0x80 | (0x20 if padding else 0) | count
    return struct.pack(">BBH", first, pt, n // 4 - 1) + body + pad


def rr(ssrc, blocks=()):
    body = struct.pack(">I", ssrc)
    for b in blocks:
        body += struct.pack(">IIIIII", *b)
    return rtcp(RR, len(blocks), body)


def nack(sender, media, entries):
    """Generic NACK (RFC 4585 §6.2.1): entries are (PID, BLP)."""
    body = struct.pack(">II", sender, media)
    for pid, blp in entries:
        body += struct.pack(">HH", pid, blp)
    return rtcp(RTPFB, 1, body)


def block(bt, words, extra=0):
    """An XR report block (RFC 3611 §3); words are 32-bit values."""
    return struct.pack(">BBH", bt, 0, len(words) + extra) + b"".join(
        struct.pack(">I", w) for w in words)


def xr(ssrc, blocks, padding=0):
    return rtcp(XR, 0, struct.pack(">I", ssrc) + b"".join(blocks), padding)


def rrtr(ntp):
    return block(4, [ntp >> 32, ntp & 0xFFFFFFFF])


def dlrr(subs):
    words = []
    for ssrc, lrr, delay in subs:
        words += [ssrc, lrr, delay]
    return block(5, words)


def rtp(pt, seq, ts, ssrc, payload, marker=False, csrcs=(), ext=None, padding=0):
    """An RTP packet (RFC 3550 §5.1); ext is (profile, data) or None."""
    first = 0x80 | (0x20 if padding else 0) | (0x10 if ext else 0) | len(csrcs)
    out = struct.pack(">BBHII", first, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    for c in csrcs:
        out += struct.pack(">I", c)
    if ext:
        profile, data = ext
        data += bytes(-len(data) % 4)
        out += struct.pack(">HH", profile, len(data) // 4) + data
    out += payload
    if padding:
        out += bytes(padding - 1) + bytes([padding])
    return out


def ev(op, v=0, dt_us=0):
    """One list event: op, v, and the time step encoded as the target reads
    it (low 6 bits << (top 2 bits * 4) µs), rounded down."""
    for shift in range(4):
        if dt_us < 64 << (shift * 4):
            dt = shift << 6 | dt_us >> (shift * 4)
            break
    else:
        dt = 0xFF
    return struct.pack(">BHB", op, v, dt)


PKT_NEXT, PKT_LATE, PKT_AT, PKT_ENTRY, KEYFRAME, DUE, RUN = 0, 2, 3, 4, 5, 6, 7


def seeds():
    s = {}
    # (a) RTCP
    s["nack_rfc"] = nack(0xDEADBEEF, 0x01020304, [(1000, 0x0005), (1018, 0)])
    s["rr_nack_wrap"] = rr(0x11) + nack(0x11, 0x22, [(65530, 0x4070), (11, 0xFFFF), (40, 0)])
    s["nack_full_blp"] = nack(1, 2, [(65528, 0xFFFF)] * 3)
    s["nack_empty"] = rtcp(RTPFB, 1, struct.pack(">II", 1, 2))
    s["xr_dlrr_blocks"] = xr(0x99999999, [
        rrtr(0xE86B1C3980000000),
        dlrr([(0xA0A0A0A0, 0x00010001, 0x100), (0xB0B0B0B0, 0x00020002, 0x200)]),
        block(7, [0x05050505] * 8),
        dlrr([(0xC0C0C0C0, 0x00030003, 0x300)]),
    ])
    s["rr_xr_dlrr"] = rr(0x99999999, [(0x1234, 0, 5, 3, 5, 6)]) + xr(
        0x99999999, [rrtr(0xE86B1C3980000000), dlrr([(0xABCD, 0x1C398000, 0x10000)])])
    s["xr_padded"] = xr(5, [dlrr([(0xABCDEF01, 0x12345678, 0x8000)])], padding=8)
    s["xr_rrtr"] = xr(0xCAFEBABE, [rrtr(0xE86B1C3980000001)])
    s["xr_block_overlong"] = xr(1, [block(5, [1, 2, 3], extra=4)])
    s["xr_dlrr_not_whole"] = xr(1, [block(5, [0x42] * 4)])
    # (b) RTP retransmissions
    s["rtx_csrc_ext_pad"] = rtp(97, 5000, 0x11223344, 0xAABBCCDD,
                                b"\x12\x34" + bytes(range(0xA0, 0xAA)), marker=True,
                                csrcs=(0x01010101, 0x02020202),
                                ext=(0xBEDE, b"\x10\x7f\x31ab"), padding=4)
    s["rtx_two_byte_ext"] = rtp(97, 65535, 9, 0xAABBCCDD, b"\xff\xff\x9d\x01\x2a",
                                ext=(0x1000, b"\x03\x02xy"))
    s["rtx_osn_only"] = rtp(97, 8, 9, 0xAABBCCDD, b"\x00\x05")
    s["rtx_short"] = rtp(97, 1, 9, 0xAABBCCDD, b"\x42", padding=7)
    # (c) missing-packet list scripts
    s["nack_gap_fill"] = b"".join([
        ev(PKT_AT, 10), ev(PKT_NEXT, 3),          # 11, 12, 13 missing
        ev(DUE, 0x0040, 9000), ev(DUE, 0x0040, 1000),
        ev(PKT_ENTRY, 1, 5000),                   # 12 comes back
        ev(DUE, 0x0040, 20000), ev(PKT_LATE, 0), ev(PKT_ENTRY, 0),
        ev(PKT_NEXT, 0, 100), ev(PKT_NEXT, 7, 100), ev(KEYFRAME, 0x0001),
        ev(DUE, 0x3220, 60000), ev(PKT_ENTRY, 5, 3000),
    ])
    s["nack_wrap"] = b"".join([
        ev(PKT_AT, 65534), ev(PKT_AT, 2), ev(DUE, 0x0008, 10000),
        ev(PKT_AT, 0, 2000), ev(PKT_NEXT, 5), ev(KEYFRAME, 0x0103),
        ev(RUN, 0x2000, 1000),
    ])
    s["nack_overflow_restart"] = b"".join([
        ev(PKT_AT, 1000), ev(PKT_AT, 1201), ev(DUE, 0x0082, 10000),
        ev(PKT_AT, 1301, 1000), ev(DUE, 0x0010, 30000),
        ev(PKT_AT, 1301 + 600, 1000), ev(RUN, 0xFF00), ev(PKT_LATE, 0x0003),
    ])
    tries = [ev(PKT_AT, 1), ev(PKT_AT, 3)]
    tries += [ev(PKT_LATE, 0x0005, 16000) for _ in range(80)]
    s["nack_tries_age"] = b"".join(tries)
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "fuzz_rtcp_repair")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds())} seeds in {out}")


if __name__ == "__main__":
    main()
