"""Shared fixtures: small genuine captures built once per test session."""

import pytest

from synth import scenarios as sc
from synth.pcapio import write_capture


LAB_SCENARIOS = ("mic_5061", "lsc_rejected_unknown_ca", "ecdsa_selfsigned_6972_unknown_ca")


@pytest.fixture(scope="session")
def lab_expect():
    """The expected flows of `lab_capture`, in order (from the scenarios' own objects)."""
    return [f for name in LAB_SCENARIOS for f in sc.SCENARIOS[name]().expect["flows"]]


@pytest.fixture(scope="session")
def lab_capture(tmp_path_factory):
    """A pcapng with an established MIC flow, a rejected LSC and a rejected self-signed ECDSA server."""
    packets = []
    for i, name in enumerate(LAB_SCENARIOS):
        packets += sc.build_capture(sc.SCENARIOS[name](), port_offset=i * 10,
                                    t0=sc.CAPTURE_T0 + i * 10)
    packets.sort(key=lambda p: p.ts)
    path = tmp_path_factory.mktemp("lab") / "lab.pcapng"
    write_capture(path, packets)
    return path


@pytest.fixture(autouse=True)
def _no_inherited_columns(monkeypatch):
    """pytest-xdist workers inherit COLUMNS=80, which the table report honours when piped (as a
    user would want): tests that need a width set it themselves."""
    monkeypatch.delenv("COLUMNS", raising=False)
