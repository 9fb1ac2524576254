"""Write the bundled sample captures: ``python -m inspector.synth.samples OUTDIR``.

Writes ``<scenario>.pcap`` per scenario (Ethernet, IPv4), ``cisco_lab_mix.pcapng``
(several scenarios interleaved, over VLAN/QinQ/SLL and IPv6), ``<scenario>.keylog``
where a key log exists, and ``expect.json`` (each scenario's expectations, and how
the mix was framed). Handshake randoms and keys change on every run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .frames import Link, merge
from .pcapio import write_capture
from .scenarios import CAPTURE_T0, SCENARIOS, Scenario, build_capture

MIX_NAME = "cisco_lab_mix.pcapng"
MIX: list[tuple[str, Link, bool]] = [
    ("mic_5061", "ether", False),
    ("lsc_rejected_unknown_ca", "vlan", False),
    ("ca_chain_8443", "ether", True),
    ("ecdsa_selfsigned_6972_unknown_ca", "sll", False),
    ("tls13_443", "vlan", True),
    ("resumption_8443", "qinq", False),
]
"""(scenario, link, ipv6) of each part of the mix."""
MIX_STAGGER_S = 0.0005
"""Start offset between mix parts, small enough for their packets to interleave."""


def write_samples(outdir: Path) -> list[Path]:
    """Write all sample files into ``outdir``; return their paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    built: dict[str, Scenario] = {name: make() for name, make in SCENARIOS.items()}
    written: list[Path] = []
    expectations: dict[str, object] = {}
    for name, scenario in built.items():
        path = outdir / f"{name}.pcap"
        write_capture(path, build_capture(scenario))
        written.append(path)
        expectations[path.name] = scenario.expect
        keylog = "".join(conv.keylog for conv, _, _ in scenario.conversations)
        if keylog:
            keylog_path = outdir / f"{name}.keylog"
            keylog_path.write_text(keylog, encoding="ascii")
            written.append(keylog_path)

    parts = [
        build_capture(built[name], link=link, ipv6=ipv6, t0=CAPTURE_T0 + 60 + i * MIX_STAGGER_S, port_offset=i + 1)
        for i, (name, link, ipv6) in enumerate(MIX)
    ]
    mix_path = outdir / MIX_NAME
    write_capture(mix_path, merge(*parts))
    written.append(mix_path)
    expectations[MIX_NAME] = [
        {"scenario": name, "link": link, "ipv6": ipv6, "port_offset": i + 1} for i, (name, link, ipv6) in enumerate(MIX)
    ]

    expect_path = outdir / "expect.json"
    expect_path.write_text(json.dumps(expectations, indent=1) + "\n", encoding="utf-8")
    written.append(expect_path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m inspector.synth.samples OUTDIR", file=sys.stderr)
        return 2
    for path in write_samples(Path(args[0])):
        print(f"{path.stat().st_size:8d}  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
