"""Every rule of the diagnosis table fires on a capture where it applies and stays silent on one
where it must not (issue 11: the real-traffic false positives are among the silent ones); the
table is the one the checks, the README and ``--explain`` use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import inspector
from inspector.cli.app import main
from inspector.diagnose import CAPTURE_RULES, RULE_TABLE, RULES, RULES_BY_CODE, explain, rules_markdown
from synth.diag_scenarios import CLOCK_1970_T0, DIAG_SCENARIOS, diag_packets
from synth.pcapio import write_capture
from synth.scenarios import SCENARIOS

README = Path(__file__).resolve().parents[2] / "README.md"
AFTER_2034 = 2051222400.0  # 2035-01-01, after every default certificate's end of validity

# code -> (capture where it fires, flow it fires on, capture where it must not fire)
CASES: dict[str, tuple[str, int, str]] = {
    "unknown_ca": ("lsc_rejected_unknown_ca", 1, "mic_5061"),
    "certificate_rejected": ("sni_mismatch_8443", 1, "ca_chain_8443"),
    "no_common_parameters": ("protocol_version_443", 1, "ca_chain_8443"),
    "fatal_alert": ("internal_error_443", 1, "protocol_version_443"),
    "sni_not_in_cert": ("sni_mismatch_8443", 1, "by_ip_bad_certificate_8443"),
    "ip_not_in_cert": ("by_ip_bad_certificate_8443", 2, "by_ip_accepted_8443"),
    "self_signed_server_cert": ("mic_5061", 1, "ca_chain_8443"),
    "ecdsa_server_cert": ("ecdsa_selfsigned_6972_unknown_ca", 1, "ecdsa_web_443"),
    "expired_cert": ("2035:ca_chain_8443", 1, "ca_chain_8443"),
    "expired_in_chain": ("expired_root_443", 1, "ca_chain_8443"),
    "not_yet_valid": ("not_yet_valid_rejected_443", 1, "1970:ca_chain_8443"),
    "capture_clock": ("1970:ca_chain_8443", 1, "not_yet_valid_rejected_443"),
    "client_cert_lsc": ("lsc_5061", 1, "mic_5061"),
    "client_cert_mic": ("mic_5061", 1, "lsc_5061"),
    "client_cert_missing": ("required_client_cert_missing_5061", 1, "optional_client_cert_443"),
    "client_cert_optional": ("optional_client_cert_443", 1, "required_client_cert_missing_5061"),
    "dh_key_too_large_for_legacy": ("spa_provisioning_dhe2048_443", 1, "printer_dhe_silent_close_443"),
    "weak_key": ("dhe1024_443", 1, "ca_chain_8443"),
    "sha1_signature": ("sha1_chain_28_flows_443", 1, "verisign_g5_cross_443"),
    "no_server_hello": ("client_hello_unanswered_443", 1, "printer_dhe_silent_close_443"),
    "handshake_reset": ("printer_dhe_silent_close_443", 1, "client_hello_unanswered_443"),
    "certs_not_visible": ("tls13_443", 1, "ca_chain_8443"),
}

# OpenSSL through Python's ssl cannot list CA names in its CertificateRequest: this rule is
# exercised on a real handshake whose flow row is given the names CUCM would list.
# capture_missed_bytes needs a capture that lost a segment the peer acknowledged: tests/unit/test_missed_bytes.py
# drops the server's alert from a genuine handshake, and checks it fires there and not on the lab captures.
CONTEXT_CASES = {"client_cert_not_in_requested_cas", "capture_missed_bytes"}
# 802.1X rules fire on EAP-TLS framed into EAPOL/RADIUS: tests/unit/test_diagnose_eap.py has their cases.
EAP_CASES = {"eap_phone_cert_rejected", "eap_server_cert_rejected", "eap_access_reject_policy"}

_CAPTURES: dict[str, inspector.Capture] = {}


def capture_of(spec: str, tmp: Path) -> inspector.Capture:
    """``name`` (a scenario of scenarios.py or diag_scenarios.py), ``1970:name`` or ``2035:name``
    (the same handshakes framed with that clock); read once per test session."""
    if spec not in _CAPTURES:
        clock, _, name = spec.rpartition(":")
        t0 = {"": None, "1970": CLOCK_1970_T0, "2035": AFTER_2034}[clock]
        scenario = (DIAG_SCENARIOS.get(name) or SCENARIOS[name])()
        packets = diag_packets(scenario) if t0 is None else diag_packets(scenario, t0=t0)
        path = tmp / f"{spec.replace(':', '_')}.pcap"
        write_capture(path, packets)
        _CAPTURES[spec] = inspector.read_capture(path)
    return _CAPTURES[spec]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rules")


def flows_with(cap: inspector.Capture, code: str) -> set[int]:
    rows = cap.findings[cap.findings.code == code]
    return {int(i) for ids in rows.flow_ids for i in ids}


def test_every_code_has_a_case_and_a_check() -> None:
    assert set(CASES) | CONTEXT_CASES | EAP_CASES == set(RULES_BY_CODE)
    declared = {c for fn in list(RULES) + list(CAPTURE_RULES) for c in fn.codes}
    assert declared == set(RULES_BY_CODE)
    assert len(RULE_TABLE) == len(RULES_BY_CODE), "a code is listed twice"


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fires_where_it_applies(code: str, tmp: Path) -> None:
    fires, flow, _ = CASES[code]
    cap = capture_of(fires, tmp)
    assert flow in flows_with(cap, code), f"{code} not on flow {flow} of {fires}: {sorted(set(cap.findings.code))}"
    assert set(cap.findings.code) <= set(RULES_BY_CODE)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_silent_where_it_does_not_apply(code: str, tmp: Path) -> None:
    _, _, quiet = CASES[code]
    cap = capture_of(quiet, tmp)
    assert code not in set(cap.findings.code), cap.findings[cap.findings.code == code].message.tolist()


def test_readme_lists_every_code_from_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- findings:start -->\n(.*)<!-- findings:end -->", text, re.S)
    assert m, "README lost its findings markers"
    assert m.group(1) == rules_markdown(), "run: python -m inspector.diagnose, and paste into README"
    for code in RULES_BY_CODE:
        assert f"| `{code}` |" in m.group(1)


def test_explain_prints_the_rule(capsys) -> None:
    main(["--explain", "dh_key_too_large_for_legacy"])
    out = capsys.readouterr().out
    assert out.startswith("dh_key_too_large_for_legacy\n")
    assert "SPA/ATA provisioning context only" in out and "Prefer ECDHE" in out
    assert out.strip() == explain("dh_key_too_large_for_legacy")


def test_explain_an_unknown_code_is_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--explain", "no_such_code"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "no finding code 'no_such_code'" in err and "ip_not_in_cert" in err


CALLMANAGER_TRUST = ("CN=CAPF-a6d4c572,OU=VTG,O=Cisco,L=RTP,ST=NC,C=US",
                     "CN=Cisco Manufacturing CA SHA2,O=Cisco", "CN=Cisco Root CA 2048,O=Cisco Systems")


@pytest.mark.parametrize("scenario,fires", [("lsc_rejected_unknown_ca", True), ("lsc_5061", False),
                                            ("mic_5061", False)])
def test_client_issuer_not_among_requested_ca_names(scenario: str, fires: bool, tmp: Path) -> None:
    import dataclasses

    from inspector.diagnose import contexts, diagnose_contexts
    ctxs = list(contexts(capture_of(scenario, tmp).analysis))
    for ctx in ctxs:
        ctx.flow = dataclasses.replace(ctx.flow, requested_ca_names=CALLMANAGER_TRUST)
    found = [f for f in diagnose_contexts(ctxs) if f.code == "client_cert_not_in_requested_cas"]
    assert bool(found) is fires
    if fires:
        assert "CAPF-0badc0de" in found[0].message and "3 CA names" in found[0].message
        assert "CallManager-trust" in found[0].fix  # a phone context: the phone's trust store is named
        unknown = next(f for f in diagnose_contexts(ctxs) if f.code == "unknown_ca")
        assert "not among the 3 CAs the server lists" in unknown.message
