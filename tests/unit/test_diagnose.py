"""Diagnosis rules: the cause and fix a TAC engineer would give, from real handshakes."""

import json

import pytest

import inspector
from inspector.x509 import hostname_matches
from synth import scenarios as sc
from synth.pcapio import write_capture


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    out = {}
    d = tmp_path_factory.mktemp("diag")
    for name in ("lsc_rejected_unknown_ca", "ecdsa_selfsigned_6972_unknown_ca", "sni_mismatch_8443",
                 "expired_root_443", "mic_5061", "tls13_443", "ca_chain_8443"):
        path = d / f"{name}.pcap"
        write_capture(path, sc.build_capture(sc.SCENARIOS[name]()))
        out[name] = inspector.read_capture(path)
    return out


def codes(cap):
    return set(cap.findings.code)


def finding(cap, code):
    rows = cap.findings[cap.findings.code == code]
    assert len(rows) >= 1, f"no {code} in {sorted(codes(cap))}"
    return rows.iloc[0]


def test_old_cluster_lsc_rejected(captures):
    f = finding(captures["lsc_rejected_unknown_ca"], "unknown_ca")
    assert f.severity == "critical"
    assert "The server rejected the client's certificate chain" in f.message
    assert "CAPF-0badc0de" in f.message and "moved from another cluster" in f.message
    assert "Delete the phone's LSC" in f.fix and "CallManager-trust" in f.fix
    ev = json.loads(f.evidence)
    assert ev["alert"] == "server:fatal:unknown_ca" and ev["alert_frame"] > 0
    assert ev["capf"] == "CAPF-0badc0de"


def test_self_signed_ecdsa_rejected_by_expressway(captures):
    cap = captures["ecdsa_selfsigned_6972_unknown_ca"]
    f = finding(cap, "unknown_ca")
    assert "The client rejected the server's certificate chain" in f.message
    assert "self-signed certificate (cucm-EC.steven.lab)" in f.message
    assert "trust store" in f.fix
    assert {"ecdsa_server_cert", "self_signed_server_cert"} <= codes(cap)
    assert finding(cap, "ecdsa_server_cert").severity == "error"


def test_sni_not_in_san(captures):
    f = finding(captures["sni_mismatch_8443"], "sni_not_in_cert")
    assert "cucm-pub.example.lab" in f.message and "cucm1.example.lab" in f.message
    assert json.loads(f.evidence)["sni"] == "cucm-pub.example.lab"


def test_expired_addtrust_root_judged_at_capture_time(captures):
    cap = captures["expired_root_443"]
    f = finding(cap, "expired_in_chain")
    assert "AddTrust External CA Root" in f.message and "2020-05-30" in f.message
    assert "12.8" in f.fix
    assert "certificate_rejected" in codes(cap)


def test_healthy_flows_have_only_informational_findings(captures):
    assert codes(captures["ca_chain_8443"]) == set()
    assert set(captures["mic_5061"].findings.severity) <= {"info", "warning"}
    assert "client_cert_mic" in codes(captures["mic_5061"])
    assert codes(captures["tls13_443"]) == {"certs_not_visible"}


def test_findings_are_sorted_most_severe_first(captures):
    sev = list(captures["lsc_rejected_unknown_ca"].findings.severity)
    order = {"critical": 3, "error": 2, "warning": 1, "info": 0}
    assert [order[s] for s in sev] == sorted((order[s] for s in sev), reverse=True)


@pytest.mark.parametrize("pattern,host,ok", [
    ("cucm1.example.lab", "CUCM1.example.lab", True),
    ("*.example.lab", "cucm1.example.lab", True),
    ("*.example.lab", "a.b.example.lab", False),
    ("*.example.lab", "example.lab", False),
    ("*.lab", "example.lab", False),
    ("cu*.example.lab", "cucm1.example.lab", False),
    ("cucm1.example.lab.", "cucm1.example.lab", True),
])
def test_rfc6125_hostname_matching(pattern, host, ok):
    assert hostname_matches(pattern, host) is ok


@pytest.mark.parametrize("sni,expected", [("10.48.36.215", False), ("10.48.36.99", True),
                                          ("cucm1.example.lab", False), ("cucm2.example.lab", True)])
def test_ip_sni_is_checked_against_ip_sans(captures, sni, expected):
    """Expressway sends the address it connects to as SNI, IP literals included."""
    import dataclasses

    from inspector.diagnose import contexts, sni_not_in_cert
    ctx = next(contexts(captures["ca_chain_8443"].analysis))
    ctx.flow = dataclasses.replace(ctx.flow, sni=sni)
    found = list(sni_not_in_cert(ctx))
    assert bool(found) is expected
    if found:
        assert f"SNI ({sni}) not in certificate" in found[0].message
