"""Damaged captures, from real ones: the mutations the fuzzer (`make fuzz`, tests/fuzz/fuzzer.py)
and the differential tests (tests/differential/test_rust_engine.py) share.

``mutate_bytes`` (blind, libFuzzer-like), ``mutate_capture`` (structure-aware: packets dropped,
duplicated, reordered, cut; TLS length fields set to boundary integers), ``fragment_capture`` (IPv4
fragments: overlaps, losses, lying lengths), ``gzip_capture`` (damaged gzip members) and
``mutate_keylog`` (a damaged NSS key log).  All are deterministic from the ``random.Random`` given.
"""

from __future__ import annotations

import random
import struct

#: boundary integers written over length fields
INTERESTING = (0, 1, 2, 3, 4, 5, 0x7F, 0x80, 0xFF, 0x100, 0x3FFF, 0x4000, 0x4800, 0x7FFF, 0x8000,
               0xFFFF, 0x10000, 0xFFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)



def mutate_bytes(rng: random.Random, data: bytes, others: list[bytes] = (), rounds: int | None = None,
                 protect: int = 0) -> bytes:
    """Blind mutations (libFuzzer-like); the first ``protect`` bytes are left alone."""
    b = bytearray(data)
    for _ in range(rounds or rng.randint(1, 8)):
        if len(b) <= protect:
            b += rng.randbytes(rng.randint(1, 16))
            continue
        pos = rng.randrange(protect, len(b))
        op = rng.randrange(11)
        if op == 0:
            b[pos] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[pos] = rng.randrange(256)
        elif op in (2, 3):  # boundary integer, 1-4 bytes, either byte order
            size = rng.choice((1, 2, 3, 4))
            v = rng.choice(INTERESTING) & ((1 << (8 * size)) - 1)
            b[pos:pos + size] = v.to_bytes(size, rng.choice(("big", "little")))
        elif op == 4:  # delete a range
            del b[pos:pos + rng.randint(1, 64)]
        elif op == 5:  # duplicate a range
            n = rng.randint(1, 256)
            b[pos:pos] = b[pos:pos + n]
        elif op == 6:  # insert random bytes
            b[pos:pos] = rng.randbytes(rng.randint(1, 32))
        elif op == 7:  # truncate
            del b[max(pos, protect):]
        elif op == 8 and others:  # splice with another seed
            o = rng.choice(others)
            if o:
                j = rng.randrange(len(o))
                b[pos:] = o[j:j + rng.randint(1, 4096)]
        elif op == 9:  # add/subtract a small delta to a byte or a 16-bit length
            if pos + 2 <= len(b) and rng.random() < 0.5:
                v = (int.from_bytes(b[pos:pos + 2], "big") + rng.randint(-16, 16)) & 0xFFFF
                b[pos:pos + 2] = v.to_bytes(2, "big")
            else:
                b[pos] = (b[pos] + rng.randint(-4, 4)) & 0xFF
        else:  # repeat a chunk many times (amplification)
            chunk = bytes(b[pos:pos + rng.randint(1, 16)])
            b[pos:pos] = chunk * rng.randint(2, 2000)
        if len(b) > 4 * 1024 * 1024:
            del b[4 * 1024 * 1024:]
    return bytes(b)


def split_pcap(raw: bytes) -> tuple[bytes, str, list[bytearray]] | None:
    """A classic pcap as (file header, byte order, [record header + data, ...])."""
    if raw[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        return None
    order = "<" if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    recs, off = [], 24
    while off + 16 <= len(raw):
        incl = struct.unpack_from(order + "I", raw, off + 8)[0]
        recs.append(bytearray(raw[off:off + 16 + incl]))
        off += 16 + incl
    return raw[:24], order, recs


def _set_incl(rec: bytearray, order: str) -> None:
    n = len(rec) - 16
    rec[8:12] = struct.pack(order + "I", n)
    rec[12:16] = struct.pack(order + "I", n)


def mutate_capture(rng: random.Random, raw: bytes, others: list[bytes]) -> bytes:
    """Structure-aware (packets and TLS fields) for classic pcaps most of the time, else blind."""
    split = split_pcap(raw) if rng.random() < 0.75 else None
    if split is None or not split[2]:
        return mutate_bytes(rng, raw, others, protect=24 if rng.random() < 0.7 else 0)
    head, order, recs = split
    for _ in range(rng.randint(1, 6)):
        i = rng.randrange(len(recs))
        op = rng.randrange(9)
        if op == 0 and len(recs) > 1:
            del recs[i]
        elif op == 1:
            recs.insert(rng.randrange(len(recs) + 1), bytearray(recs[i]))
        elif op == 2:
            j = rng.randrange(len(recs))
            recs[i], recs[j] = recs[j], recs[i]
        elif op == 3:  # cut the packet's data (caplen follows)
            rec = recs[i]
            del rec[16 + rng.randrange(max(1, len(rec) - 16)):]
            _set_incl(rec, order)
        elif op in (4, 5, 6):  # damage a TLS record/handshake length, or payload bytes
            rec = recs[i]
            tls = rec.find(b"\x16\x03", 16 + 54)
            if tls < 0:
                tls = rec.find(b"\x15\x03", 16 + 54)
            if tls >= 0 and op != 6:
                at = rng.choice((tls + 3, tls + 6, tls + 7, tls + 8, rng.randrange(tls, len(rec))))
                size = rng.choice((1, 2, 3))
                v = rng.choice(INTERESTING) & ((1 << (8 * size)) - 1)
                rec[at:at + size] = v.to_bytes(size, "big")
                del rec[len(rec):]
                _set_incl(rec, order)
            elif len(rec) > 16 + 54:
                body = mutate_bytes(rng, bytes(rec[16 + 54:]), rounds=rng.randint(1, 4))
                rec[16 + 54:] = body
                _set_incl(rec, order)
        elif op == 7:  # a header field of the record: caplen/origlen/timestamps
            rec = recs[i]
            at = rng.choice((0, 4, 8, 12))
            rec[at:at + 4] = struct.pack(order + "I", rng.choice(INTERESTING))
            if at == 8 and rng.random() < 0.5:  # keep the file framing sane most of the time
                _set_incl(rec, order)
        else:  # L2-L4 header byte
            rec = recs[i]
            if len(rec) > 16:
                j = 16 + rng.randrange(min(54, len(rec) - 16))
                rec[j] = rng.randrange(256)
    return head + b"".join(bytes(r) for r in recs)


def fragment_capture(rng: random.Random, raw: bytes) -> bytes:
    """The IPv4 packets of a classic pcap as IPv4 fragments: random sizes, overlaps carrying other
    bytes, duplicates, losses, disorder, lying offsets and sizes past 64 KiB (issue 14, item 1)."""
    split = split_pcap(raw)
    if split is None:
        return raw
    head, order, recs = split
    out: list[bytearray] = []
    for rec in recs:
        d = bytes(rec[16:])
        if len(d) < 34 or d[12:14] != b"\x08\x00" or d[14] >> 4 != 4 or rng.random() < 0.2:
            out.append(rec)
            continue
        ihl = (d[14] & 15) * 4
        ip, payload = d[14:14 + ihl], d[14 + ihl:]
        ident = rng.choice((d[18:20], bytes([rng.randrange(256), rng.randrange(256)])))
        pieces, off = [], 0
        while off < len(payload):
            n = rng.choice((8, 16, 64, 96, 512, 1480)) if rng.random() < 0.9 else rng.randrange(1, 2000)
            pieces.append((off, payload[off:off + n], off + n < len(payload)))
            off += max(8, n - n % 8)
        for _ in range(rng.choice((0, 0, 1, 3, 20))):  # overlaps with other bytes
            o = rng.randrange(0, max(1, len(payload) // 8 + 2)) * 8
            pieces.append((o, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), True))
        if rng.random() < 0.1:
            pieces.append((65528 - 8 * rng.randrange(4), b"x" * rng.randrange(8, 200), rng.random() < 0.5))
        if rng.random() < 0.2 and pieces:
            del pieces[rng.randrange(len(pieces))]
        if rng.random() < 0.3:
            rng.shuffle(pieces)
        for o, part, more in pieces:
            h = bytearray(ip)
            h[2:4] = (ihl + len(part)).to_bytes(2, "big") if rng.random() < 0.95 else rng.randrange(65536).to_bytes(2, "big")
            h[4:6] = ident
            h[6:8] = (((1 if more else 0) << 13) | ((o // 8) & 0x1FFF)).to_bytes(2, "big")
            frame = bytearray(rec[:16]) + d[:14] + h + part
            _set_incl(frame, order)
            out.append(frame)
    return head + b"".join(bytes(r) for r in out)


def gzip_capture(rng: random.Random, raw: bytes) -> bytes:
    """A capture gzip-compressed, then cut short, damaged, followed by garbage or by more members,
    or turned into a flood of empty records (issue 14, items 3 and 6)."""
    import gzip as _gzip

    op = rng.randrange(6)
    if op == 5:  # a small member of empty records, repeated
        empty = raw[:24] + b"\0" * 16 * rng.choice((1000, 70000))
        return _gzip.compress(empty) * rng.randint(1, 20)
    gz = bytearray(_gzip.compress(raw, compresslevel=rng.choice((1, 6, 9))))
    if op == 0:
        del gz[rng.randrange(2, len(gz)):]
    elif op == 1:
        for _ in range(rng.randint(1, 8)):
            gz[rng.randrange(10, len(gz))] ^= 1 << rng.randrange(8)
    elif op == 2:
        gz += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    elif op == 3:
        gz += _gzip.compress(raw[24:] if raw[:4] != b"\x0a\x0d\x0d\x0a" else raw)
    else:
        gz[-8:] = bytes(rng.randrange(256) for _ in range(8))  # CRC and size
    return bytes(gz)


def mutate_keylog(rng: random.Random, seed: bytes) -> bytes:
    """NSS key log lines from the sample, mutated: junk, NULs, over-long lines, CRLF, bad hex,
    truncation, repeats (issue 14, item 4); ``seed`` is a real key log."""
    lines = seed.splitlines(keepends=True) or [b"# none\n"]
    out: list[bytes] = []
    for _ in range(rng.randint(0, 40)):
        op = rng.randrange(10)
        line = rng.choice(lines)
        if op == 0:
            out.append(b"\0" * rng.choice((1, 100, 5000, 70000)))
        elif op == 1:
            out.append(b"CLIENT_RANDOM " + b"a" * rng.choice((63, 64, 65, 2000)) + b" " + b"b" * 96 + b"\n")
        elif op == 2:
            out.append(line.replace(b"\n", b"\r\n"))
        elif op == 3:
            out.append(mutate_bytes(rng, line, rounds=rng.randint(1, 3)))
        elif op == 4:
            out.append(line[:rng.randrange(len(line) + 1)])
        elif op == 5:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
        else:
            out.append(line)
    return b"".join(out)
