"""Write the bundled sample captures: ``python -m synth.samples OUTDIR``.

Writes, for every scenario, ``<scenario>.pcap`` (Ethernet, IPv4) and
``<scenario>.findings.json`` (what a TAC engineer expects the inspector to find, from
``EXPECTED_FINDINGS``); ``cisco_lab_mix.pcapng`` (the most instructive scenarios
interleaved, over Ethernet, 802.1Q, QinQ and Linux SLL, some over IPv6) with its own
``cisco_lab_mix.findings.json``; ``<scenario>.keylog`` where a key log exists; and
``expect.json`` (each scenario's handshake facts, and how the mix was framed).
Handshake randoms and keys change on every run; the file names and the findings do not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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
    ("sni_mismatch_8443", "sll", True),
    ("expired_root_443", "qinq", True),
    ("spa_provisioning_dhe2048_443", "vlan", False),
]
"""(scenario, link, ipv6) of each part of the mix (two link types: Ethernet and Linux SLL)."""
MIX_STAGGER_S = 0.0005
"""Start offset between mix parts, small enough for their packets to interleave."""
MIX_T0 = CAPTURE_T0 + 60
"""Start of the mix's first part."""

Expected = list[tuple[int, str]]

_PHONE_MIC = [(1, "self_signed_server_cert"), (1, "client_cert_mic")]
_PHONE_LSC = [(1, "self_signed_server_cert"), (1, "client_cert_lsc")]

EXPECTED_FINDINGS: dict[str, Expected] = {
    # Phones to CUCM (5061 SIP, 2443 SCCP). CUCM presents its self-signed CallManager certificate,
    # which the phones trust through their ITL/CTL: worth a warning, not an error. The phone's
    # certificate is visible in the clear: its issuer tells MIC (Cisco Manufacturing CA SHA2)
    # from LSC (CAPF-a6d4c572). Nothing else is wrong: RSA 2048, SHA-256, valid at capture time.
    "mic_5061": _PHONE_MIC,
    "lsc_5061": _PHONE_LSC,
    "mic_2443": _PHONE_MIC,
    "lsc_2443": _PHONE_LSC,
    # The phone moved from another cluster with its old LSC (CAPF-0badc0de); CUCM answers fatal
    # unknown_ca. Still the self-signed CallManager cert, and still an LSC on the wire.
    "lsc_rejected_unknown_ca": [(1, "unknown_ca"), (1, "self_signed_server_cert"), (1, "client_cert_lsc")],
    # Expressway-C to CUCM tomcat with a CA-signed chain and matching SANs: healthy, nothing to say.
    "ca_chain_8443": [],
    # CUCM serves its self-signed tomcat-ECDSA cert on 6972 and sends a CertificateRequest;
    # Expressway-C (X14.2+ always verifies) answers fatal unknown_ca, and again on its retry.
    "ecdsa_selfsigned_6972_unknown_ca": [
        (flow, code) for flow in (1, 2) for code in ("unknown_ca", "self_signed_server_cert", "ecdsa_server_cert")
    ],
    # TLS 1.3 encrypts the certificates: the engineer needs a key log or a TLS 1.2 capture.
    "tls13_443": [(1, "certs_not_visible")],
    # The first connection shows a healthy CA-signed chain; the second resumes it (no Certificate).
    "resumption_8443": [(2, "certs_not_visible")],
    # Expressway-C connects as cucm-pub.example.lab, absent from the SAN/CN ("SNI (...) not in
    # certificate"); OpenSSL's client says so with a fatal bad_certificate alert.
    "sni_mismatch_8443": [(1, "sni_not_in_cert"), (1, "certificate_rejected")],
    # The Expressway-E cert chains only to AddTrust External CA Root, expired 2020-05-30, before the
    # capture (2023): the phone (firmware 12.7) sends fatal certificate_expired.
    "expired_root_443": [(1, "certificate_rejected"), (1, "expired_in_chain")],
    # A provisioning server with a 1024-bit RSA key (and a 1024-bit DHE group, which old SPA
    # firmware needs and accepts): established, but the key is weak.
    "dhe1024_443": [(1, "weak_key")],
    # SPA provisioning done right for old firmware: Small Business provisioning CA on the server,
    # Small Business client CA on the phone, RSA 2048, DHE 1024: established, nothing wrong.
    "spa_provisioning_dhe1024_443": [],
    # The same with a 2048-bit DHE group: the old SPA firmware closes (FIN) after ServerHelloDone
    # without an alert. The flow stops silently, and the DH size is the known cause.
    "spa_provisioning_dhe2048_443": [(1, "handshake_reset"), (1, "dh_key_too_large_for_legacy")],
}
"""(flow_id, finding code) pairs a TAC engineer expects for each scenario's capture.

Stated as domain knowledge (DOMAIN.md), never copied from the inspector's output. Flow ids
count the scenario's connections in the order they start (1-based).
"""


def mix_flow_ids() -> dict[tuple[str, int], int]:
    """(scenario, flow id within the scenario) -> flow id in the mix.

    Flows are numbered by their start time; part ``i`` of the mix starts at
    ``MIX_T0 + i * MIX_STAGGER_S`` and its connection ``j`` one second later per step
    (``build_capture``).
    """
    starts = []
    for i, (name, _, _) in enumerate(MIX):
        for j in range(_flow_count(name)):
            starts.append((MIX_T0 + i * MIX_STAGGER_S + j, i, name, j + 1))
    return {(name, flow): n for n, (_, _, name, flow) in enumerate(sorted(starts), start=1)}


_FLOW_COUNTS: dict[str, int] = {}


def _flow_count(name: str) -> int:
    """Connections in a scenario (built once per process)."""
    if name not in _FLOW_COUNTS:
        _FLOW_COUNTS[name] = len(SCENARIOS[name]().conversations)
    return _FLOW_COUNTS[name]


def mix_expected_findings() -> list[dict[str, Any]]:
    """The expected findings of the mix, from ``EXPECTED_FINDINGS`` renumbered by ``mix_flow_ids``."""
    ids = mix_flow_ids()
    rows = [
        {"flow_id": ids[(name, flow)], "code": code, "scenario": name, "scenario_flow_id": flow}
        for name, _, _ in MIX
        for flow, code in EXPECTED_FINDINGS[name]
    ]
    return sorted(rows, key=lambda r: (r["flow_id"], r["code"]))


def findings_document(sample: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The content of ``<sample stem>.findings.json``."""
    return {"sample": sample, "source": "EXPECTED_FINDINGS in synth/samples.py (domain knowledge)",
            "findings": findings}


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")


def _write_findings(path: Path, document: dict[str, Any]) -> None:
    """Like ``_write_json``, one finding per line."""
    head = {k: v for k, v in document.items() if k != "findings"}
    lines = ",\n".join(f"  {json.dumps(f)}" for f in document["findings"])
    body = json.dumps(head, indent=1)[:-2]
    path.write_text(f'{body},\n "findings": [' + (f"\n{lines}\n ]" if lines else "]") + "\n}\n",
                    encoding="utf-8")


def write_samples(outdir: Path) -> list[Path]:
    """Write all sample files into ``outdir``; return their paths."""
    missing = set(SCENARIOS) ^ set(EXPECTED_FINDINGS)
    if missing:
        raise RuntimeError(f"EXPECTED_FINDINGS and SCENARIOS disagree on: {sorted(missing)}")
    outdir.mkdir(parents=True, exist_ok=True)
    built: dict[str, Scenario] = {name: make() for name, make in SCENARIOS.items()}
    _FLOW_COUNTS.update({name: len(s.conversations) for name, s in built.items()})
    written: list[Path] = []
    expectations: dict[str, object] = {}
    for name, scenario in built.items():
        path = outdir / f"{name}.pcap"
        write_capture(path, build_capture(scenario))
        written.append(path)
        expectations[path.name] = scenario.expect
        findings_path = outdir / f"{name}.findings.json"
        _write_findings(findings_path, findings_document(
            path.name, [{"flow_id": flow, "code": code} for flow, code in sorted(EXPECTED_FINDINGS[name])]))
        written.append(findings_path)
        keylog = "".join(conv.keylog for conv, _, _ in scenario.conversations)
        if keylog:
            keylog_path = outdir / f"{name}.keylog"
            keylog_path.write_text(keylog, encoding="ascii")
            written.append(keylog_path)

    parts = [
        build_capture(built[name], link=link, ipv6=ipv6, t0=MIX_T0 + i * MIX_STAGGER_S, port_offset=i + 1)
        for i, (name, link, ipv6) in enumerate(MIX)
    ]
    mix_path = outdir / MIX_NAME
    write_capture(mix_path, merge(*parts))
    written.append(mix_path)
    mix_findings_path = outdir / (MIX_NAME.removesuffix(".pcapng") + ".findings.json")
    _write_findings(mix_findings_path, findings_document(MIX_NAME, mix_expected_findings()))
    written.append(mix_findings_path)
    expectations[MIX_NAME] = [
        {"scenario": name, "link": link, "ipv6": ipv6, "port_offset": i + 1} for i, (name, link, ipv6) in enumerate(MIX)
    ]

    expect_path = outdir / "expect.json"
    _write_json(expect_path, expectations)
    written.append(expect_path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m synth.samples OUTDIR", file=sys.stderr)
        return 2
    for path in write_samples(Path(args[0])):
        print(f"{path.stat().st_size:8d}  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
