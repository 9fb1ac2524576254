"""A capture of many small TLS flows that never finish: the flow-table stress case.

Each flow is a genuine ClientHello (from one OpenSSL handshake) after a SYN/SYN-ACK/ACK, replayed
with a new client address and port, and never answered further (RELIABILITY.md case 33).

    python bench/gen_flows.py --flows 1000000 -o bench/data/flows-1m.pcap
"""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

import sys
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: synth/ (test captures, not shipped)
from synth import scenarios as sc
from synth.frames import tcp_packets
from synth.handshake import Conversation


def template() -> list[bytes]:
    conv = sc.SCENARIOS["ca_chain_8443"]().conversations[0][0]
    hello = Conversation(chunks=[conv.chunks[0]])
    return [p.data for p in tcp_packets(hello, client=("10.0.0.1", 40000), server=("10.48.36.215", 8443),
                                        close=None)]


def write(path: Path, flows: int) -> None:
    frames = template()
    rec = struct.Struct("<IIII")
    with open(path, "wb", buffering=8 << 20) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        t0 = 1_700_000_000
        for k in range(flows):
            ip = (10 << 24) | (1 << 16) | (k >> 14)  # 10.1.x.y: 16384 ports per address
            port = 1024 + (k & 0x3FFF)
            for i, f in enumerate(frames):
                d = bytearray(f)
                from_client = d[26:30] == b"\x0a\x00\x00\x01"
                if from_client:
                    d[26:30] = ip.to_bytes(4, "big")
                    d[34:36] = port.to_bytes(2, "big")
                else:
                    d[30:34] = ip.to_bytes(4, "big")
                    d[36:38] = port.to_bytes(2, "big")
                usec = (k * 50 + i) % 1_000_000
                out.write(rec.pack(t0 + (k * 50 + i) // 1_000_000, usec, len(d), len(d)))
                out.write(d)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=1_000_000)
    ap.add_argument("-o", "--output", type=Path, default=Path("bench/data/flows-1m.pcap"))
    args = ap.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write(args.output, args.flows)
    print(f"{args.output}: {args.flows} flows, {args.output.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
