"""Shared fixtures: small genuine captures built once per test session."""

import pytest

from inspector.synth import scenarios as sc
from inspector.synth.pcapio import write_capture


@pytest.fixture(scope="session")
def lab_capture(tmp_path_factory):
    """A pcapng with an established MIC flow, a rejected LSC and a rejected self-signed ECDSA server."""
    packets = []
    for i, name in enumerate(["mic_5061", "lsc_rejected_unknown_ca", "ecdsa_selfsigned_6972_unknown_ca"]):
        packets += sc.build_capture(sc.SCENARIOS[name](), port_offset=i * 10,
                                    t0=sc.CAPTURE_T0 + i * 10)
    packets.sort(key=lambda p: p.ts)
    path = tmp_path_factory.mktemp("lab") / "lab.pcapng"
    write_capture(path, packets)
    return path
