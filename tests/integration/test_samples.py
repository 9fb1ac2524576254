"""The bundled samples in pcaps/: the findings a TAC engineer expects, the flows their
scenarios promise, and the files `make samples` writes.

``<sample>.findings.json`` comes from ``EXPECTED_FINDINGS`` (domain knowledge in
``synth/samples.py``), never from the inspector's own output.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

import inspector
from synth.samples import EXPECTED_FINDINGS, MIX, MIX_NAME, mix_flow_ids, write_samples
from synth.scenarios import SCENARIOS

PCAPS = Path(__file__).resolve().parents[2] / "pcaps"
FINDINGS_FILES = sorted(PCAPS.glob("*.findings.json"))
MAX_TOTAL_BYTES = 400_000
MAX_SCENARIO_PCAP_BYTES = 20_000

Pair = tuple[int, str]

KNOWN_DIAGNOSE_GAPS: dict[tuple[str, int, str], str] = {}
"""(sample file, flow_id, code) -> reason, for pairs where diagnose.py disagrees with the domain.

A pair listed here is either expected and not reported, or reported and not expected; its test
is xfail(strict=True) so it turns red once diagnose.py is fixed. Empty: every pair agrees.
"""


def _sample_of(findings_file: Path) -> Path:
    document = json.loads(findings_file.read_text(encoding="utf-8"))
    return PCAPS / document["sample"]


@functools.cache
def expected_pairs(sample: str) -> frozenset[Pair]:
    document = json.loads((PCAPS / _findings_name(sample)).read_text(encoding="utf-8"))
    return frozenset((f["flow_id"], f["code"]) for f in document["findings"])


@functools.cache
def capture(sample: str):
    return inspector.read_capture(PCAPS / sample)


@functools.cache
def reported_pairs(sample: str) -> frozenset[Pair]:
    """(flow, code) for every flow a finding is about: a finding about a certificate lists all the
    flows that sent it (one finding per fact), and each of those flows has that finding."""
    findings = capture(sample).findings
    return frozenset((int(f), str(c)) for ids, c in zip(findings.flow_ids, findings.code) for f in ids)


def _findings_name(sample: str) -> str:
    return sample.rsplit(".", 1)[0] + ".findings.json"


def _diff(expected: set[Pair], reported: set[Pair]) -> str:
    lines = [f"  missing (expected, not reported): {sorted(expected - reported)}",
             f"  unexpected (reported, not expected): {sorted(reported - expected)}",
             f"  agreeing: {sorted(expected & reported)}"]
    return "\n".join(lines)


SAMPLES = [_sample_of(p).name for p in FINDINGS_FILES]


def test_every_sample_has_its_findings_file() -> None:
    captures = sorted(p.name for p in PCAPS.iterdir() if p.suffix in (".pcap", ".pcapng"))
    assert captures == sorted(SAMPLES)
    assert {f"{name}.pcap" for name in SCENARIOS} | {MIX_NAME} == set(SAMPLES)


# --- (a) the findings a TAC engineer expects ------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_findings_are_the_expected_ones(sample: str) -> None:
    known = {(f, c) for (s, f, c) in KNOWN_DIAGNOSE_GAPS if s == sample}
    expected = set(expected_pairs(sample)) - known
    reported = set(reported_pairs(sample)) - known
    assert reported == expected, f"{sample}: findings differ from {_findings_name(sample)}\n" + _diff(
        expected, reported)


def _pair_params() -> list:
    params = []
    pairs = {(sample, flow, code) for sample in SAMPLES for flow, code in expected_pairs(sample)}
    for sample, flow, code in sorted(pairs | set(KNOWN_DIAGNOSE_GAPS)):
        reason = KNOWN_DIAGNOSE_GAPS.get((sample, flow, code))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(sample, flow, code, marks=marks, id=f"{sample}-{flow}-{code}"))
    return params


@pytest.mark.parametrize("sample,flow_id,code", _pair_params())
def test_finding_pair(sample: str, flow_id: int, code: str) -> None:
    """Each expected pair is reported (and each known deviation, once fixed, agrees)."""
    expected = (flow_id, code) in expected_pairs(sample)
    reported = (flow_id, code) in reported_pairs(sample)
    assert expected == reported, (
        f"{sample}: flow {flow_id} {code} is {'expected' if expected else 'not expected'} but "
        f"{'reported' if reported else 'not reported'}; reported: {sorted(reported_pairs(sample))}")


def test_findings_files_state_the_domain_table() -> None:
    """The bundled findings.json files say what EXPECTED_FINDINGS says (and the mix is renumbered from it)."""
    for name, pairs in EXPECTED_FINDINGS.items():
        assert expected_pairs(f"{name}.pcap") == frozenset(pairs), name
    ids = mix_flow_ids()
    mix = frozenset((ids[(name, flow)], code) for name, _, _ in MIX for flow, code in EXPECTED_FINDINGS[name])
    assert expected_pairs(MIX_NAME) == mix


# --- (b) the bundled files are what `make samples` writes ----------------------------------------


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    write_samples(out)
    return out


def _mask_random(value: object) -> object:
    """expect.json without what changes per run (OpenSSL's session IDs)."""
    if isinstance(value, dict):
        return {k: None if k == "session_id" else _mask_random(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_random(v) for v in value]
    return value


def test_bundled_samples_match_make_samples(fresh: Path) -> None:
    # pcaps/udp/ (DTLS, QUIC, EAP samples of the Rust engine) comes from the generators under
    # rust/core/tests/data/, not from `make samples`
    bundled = sorted(p.name for p in PCAPS.iterdir() if p.is_file())
    written = sorted(p.name for p in fresh.iterdir() if p.is_file())
    assert bundled == written, f"run `make samples`: only bundled {sorted(set(bundled) - set(written))}, " \
                               f"only written {sorted(set(written) - set(bundled))}"
    for name in written:
        if name.endswith(".findings.json"):
            assert (PCAPS / name).read_text() == (fresh / name).read_text(), f"{name} is stale: run `make samples`"
    old = json.loads((PCAPS / "expect.json").read_text())
    new = json.loads((fresh / "expect.json").read_text())
    assert _mask_random(old) == _mask_random(new), "pcaps/expect.json is stale: run `make samples`"


def test_samples_are_small() -> None:
    sizes = {p.name: p.stat().st_size for p in PCAPS.iterdir()}
    assert sum(sizes.values()) < MAX_TOTAL_BYTES, sizes
    big = {n: s for n, s in sizes.items() if n.endswith(".pcap") and s > MAX_SCENARIO_PCAP_BYTES}
    assert not big


# --- (c) the flows each scenario promises (pcaps/expect.json) ----------------------------------


def _expected_flows(sample: str, expect: dict) -> list[dict]:
    """The scenario flows of a sample in flow_id order, with the client port each has in the sample."""
    if sample != MIX_NAME:
        return expect[sample]["flows"]
    ids = mix_flow_ids()
    rows = {}
    for part in expect[MIX_NAME]:
        for n, flow in enumerate(expect[f"{part['scenario']}.pcap"]["flows"], start=1):
            ip, port = flow["client"].rsplit(":", 1)
            rows[ids[(part["scenario"], n)]] = {**flow, "client": f"{ip}:{int(port) + part['port_offset']}"}
    return [rows[i] for i in sorted(rows)]


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_flows_match_scenario(sample: str) -> None:
    expect = json.loads((PCAPS / "expect.json").read_text())
    wanted = _expected_flows(sample, expect)
    flows = capture(sample).flows.sort_values("flow_id")
    assert len(flows) == len(wanted), flows[["flow_id", "client_port", "server_port", "outcome"]]
    for f, e in zip(flows.itertuples(), wanted):
        where = f"{sample} flow {f.flow_id} ({e['client']} -> {e['server']})"
        assert f.client_port == int(e["client"].rsplit(":", 1)[1]), where
        assert f.server_port == e["server_port"], where
        assert f.outcome == e["outcome"], where
        assert f.tls_version == e["tls_version"], where
        alerts = list(f.alerts)
        if e["alert"]:
            assert alerts and alerts[0] == e["alert"], (where, alerts)
            assert alerts[0].split(":")[0] == e["alert"].split(":")[0], where
        else:
            assert not alerts, (where, alerts)
