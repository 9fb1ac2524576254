"""Issue 11: diagnoses that stay right on real traffic. Each test is one of the issue's cases, on
genuine handshakes (synth/diag_scenarios.py) or the public corpus: the cause named is
the one the capture shows, and nothing is said where the context does not hold."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

import inspector
from inspector.output import report
from inspector.diagnose import contexts, diagnose_contexts
from synth.diag_scenarios import CLOCK_1970_T0, SHA1_FLOWS, UNANSWERED_WAIT_S, sha1_pki

from test_diagnose_rules import capture_of
from corpus import corpus_path



@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("issue11")


def rows(cap, code):
    return cap.findings[cap.findings.code == code]


def one(cap, code):
    r = rows(cap, code)
    assert len(r) == 1, (code, sorted(cap.findings.code))
    return r.iloc[0]


# ---- 1. connected by address ---------------------------------------------------------------------

def test_connected_by_ip_names_the_address_not_a_corrupt_certificate(tmp) -> None:
    cap = capture_of("by_ip_bad_certificate_8443", tmp)
    f = one(cap, "ip_not_in_cert")
    assert list(f.flow_ids) == [2]
    assert "The client connected to 10.48.36.215 by address (no SNI)" in f.message
    assert "not among the certificate's SANs (cucm1.example.lab)" in f.message
    assert "IP address entry" in f.fix and "FQDN (cucm1.example.lab)" in f.fix
    ev = json.loads(f.evidence)
    assert ev["server_ip"] == "10.48.36.215" and ev["alert"] == "client:fatal:bad_certificate"
    assert ev["names_elsewhere"] == ["cucm1.example.lab"]  # flow 1 connected by that name
    rejected = one(cap, "certificate_rejected")
    assert "corrupt" not in rejected.message and "see ip_not_in_cert" in rejected.message
    assert set(cap.findings.code) == {"ip_not_in_cert", "certificate_rejected"}  # flow 1: nothing


def test_no_sni_but_the_name_is_known_from_other_flows(tmp) -> None:
    """The SNI of this flow was not captured; other flows to the server asked for a name the
    certificate does not cover: that name is the cause."""
    cap = capture_of("sni_mismatch_8443", tmp)
    (ctx,) = list(contexts(cap.analysis))
    silent = dataclasses.replace(ctx, flow=dataclasses.replace(ctx.flow, flow_id=2, sni=None))
    ctx.alerts = []  # flow 1 was not rejected; only flow 2 was
    ctx.flow = dataclasses.replace(ctx.flow, outcome="established", alerts=())
    found = [f for f in diagnose_contexts([ctx, silent]) if f.flow_id == 2]
    by_code = {f.code: f for f in found}
    assert "ip_not_in_cert" not in by_code  # 10.48.36.215 is in the certificate's IP SANs
    f = by_code["sni_not_in_cert"]
    assert "other flows to 10.48.36.215 ask for 'cucm-pub.example.lab' (flows 1)" in f.message
    assert f.evidence["name_seen_in_flows"] == [1]
    assert "see sni_not_in_cert" in by_code["certificate_rejected"].message


def test_no_sni_and_not_rejected_says_nothing_about_names(tmp) -> None:
    cap = capture_of("by_ip_accepted_8443", tmp)
    assert len(cap.findings) == 0


# ---- 2. DH size only in SPA/ATA provisioning -----------------------------------------------------

def test_printer_dhe_silent_close_is_not_a_spa_dh_problem(tmp) -> None:
    cap = capture_of("printer_dhe_silent_close_443", tmp)
    assert int(cap.flows.dh_bits.iloc[0]) == 2048
    assert set(cap.findings.code) == {"handshake_reset", "self_signed_server_cert"}
    reset = one(cap, "handshake_reset")
    assert "SPA" not in reset.fix
    assert "on port 443 presents" in one(cap, "self_signed_server_cert").message
    assert "provisioning" not in one(cap, "self_signed_server_cert").message


def test_spa_provisioning_keeps_its_dh_diagnosis(tmp) -> None:
    cap = capture_of("spa_provisioning_dhe2048_443", tmp)
    f = one(cap, "dh_key_too_large_for_legacy")
    assert "2048-bit prime" in f.message and "SPA/ATA" in f.message
    assert "DH size on old SPA firmware" in one(cap, "handshake_reset").fix


# ---- 3. the server never answered ---------------------------------------------------------------

def test_unanswered_client_hello(tmp) -> None:
    cap = capture_of("client_hello_unanswered_443", tmp)
    f = one(cap, "no_server_hello")
    assert f.message.startswith(f"No ServerHello in {UNANSWERED_WAIT_S:.1f} s: the server, or a firewall on the way, "
                                "did not answer")
    assert "the client gave up and closed the connection" in f.message
    ev = json.loads(f.evidence)
    assert ev["closed_by"] == "client" and UNANSWERED_WAIT_S <= ev["waited_s"] < UNANSWERED_WAIT_S + 0.1
    assert "disliked" not in " ".join(cap.findings.message.tolist() + cap.findings.fix.tolist())
    assert set(cap.findings.code) == {"no_server_hello"}


# ---- 5. one finding per fact ---------------------------------------------------------------------

def test_sha1_intermediate_on_28_flows_is_one_finding_and_the_root_none(tmp) -> None:
    cap = capture_of("sha1_chain_28_flows_443", tmp)
    assert len(cap.flows) == SHA1_FLOWS
    f = one(cap, "sha1_signature")
    assert list(f.flow_ids) == list(range(1, SHA1_FLOWS + 1)) and f.flow_id == 1
    root, inter, _ = sha1_pki()
    assert "Example SHA-1 Issuing CA" in f.message
    certs = cap.certificates.set_index("subject_cn")
    assert json.loads(f.evidence)["cert"] == certs.loc["Example SHA-1 Issuing CA", "sha256"]
    assert certs.loc["Example SHA-1 Root CA", "signature_hash"] == "sha1"  # sent, SHA-1, and no finding
    assert set(cap.findings.code) == {"sha1_signature"}


def test_report_lists_the_flows_of_one_finding_once(tmp) -> None:
    cap = capture_of("sha1_chain_28_flows_443", tmp)
    out = io.StringIO()
    report.render_table(cap, Console(file=out, width=400), quiet=True)
    text = out.getvalue()
    assert text.count("sha1_signature") == 1
    assert "1, 2, 3, ... (28 flows)" in text
    rows_ = report.table_rows(cap, "findings")
    assert len(rows_) == 1 and rows_[0]["flow_ids"] == list(range(1, 29))


def test_streaming_rows_carry_flow_ids(tmp) -> None:
    path = capture_of("sha1_chain_28_flows_443", tmp).path
    got: dict[str, list] = {}
    inspector.stream_capture(path, lambda t, r: got.setdefault(t, []).extend(r))
    (f,) = got["findings"]
    assert f["code"] == "sha1_signature" and f["flow_ids"] == list(range(1, 29))


def test_cross_certificate_of_an_anchor_root_is_not_a_sha1_finding(tmp) -> None:
    cap = capture_of("verisign_g5_cross_443", tmp)
    g5 = cap.certificates[cap.certificates.subject_cn.str.endswith("- G5")].iloc[0]
    assert g5.signature_hash == "sha1" and g5.is_ca and not g5.self_issued
    assert len(cap.findings) == 0


def test_same_self_signed_cert_on_two_flows_is_one_finding(tmp) -> None:
    cap = capture_of("ecdsa_selfsigned_6972_unknown_ca", tmp)
    for code in ("self_signed_server_cert", "ecdsa_server_cert"):
        assert list(one(cap, code).flow_ids) == [1, 2]
    assert sorted(rows(cap, "unknown_ca").flow_id) == [1, 2]  # a rejection is a fact per flow


def test_flow_view_shows_a_shared_finding_on_every_flow(tmp) -> None:
    cap = capture_of("ecdsa_selfsigned_6972_unknown_ca", tmp)
    assert "self_signed_server_cert" in set(cap.flow(2).findings.code)


# ---- 6. the capture's clock ----------------------------------------------------------------------

def test_1970_clock_is_one_capture_finding(tmp) -> None:
    cap = capture_of("1970:ca_chain_8443", tmp)
    assert cap.flows.ts_start.iloc[0].year == 1970
    f = one(cap, "capture_clock")
    assert "The capture's clock reads 1970-01-31" in f.message and "2 of the 2 certificates" in f.message
    assert "capturing device's clock" in f.fix
    assert set(cap.findings.code) == {"capture_clock"}
    assert json.loads(f.evidence)["not_yet_valid"] == 2


def test_a_rejected_future_certificate_is_not_the_capture_clock(tmp) -> None:
    cap = capture_of("not_yet_valid_rejected_443", tmp)
    f = one(cap, "not_yet_valid")
    assert f.severity == "error" and "the flow was rejected" in f.message
    assert "device that rejected it" in f.fix
    rejected = one(cap, "certificate_rejected")
    assert "not valid yet" in rejected.message and "corrupt" not in rejected.message


def test_clock_finding_with_a_1970_rejection_keeps_the_flow_error(tmp) -> None:
    """A device that did reject keeps its per-flow not_yet_valid, even under a wrong capture clock."""
    cap = capture_of("not_yet_valid_rejected_443", tmp)
    ctxs = list(contexts(cap.analysis))
    ctxs[0].flow = dataclasses.replace(ctxs[0].flow, ts_start=CLOCK_1970_T0)
    codes = {f.code for f in diagnose_contexts(ctxs)}
    assert {"capture_clock", "not_yet_valid"} <= codes


# ---- 7, 8. client certificates -------------------------------------------------------------------

def test_optional_client_certificate_is_info_without_phone_advice(tmp) -> None:
    cap = capture_of("optional_client_cert_443", tmp)
    f = one(cap, "client_cert_optional")
    assert f.severity == "info" and "did not require one" in f.message
    assert not any(w in f.fix for w in ("LSC", "CAPF", "phone", "MIC"))
    assert "client_cert_missing" not in set(cap.findings.code)


def test_optional_client_certificate_on_cucm_gives_phone_advice(tmp) -> None:
    f = one(capture_of("optional_client_cert_5061", tmp), "client_cert_optional")
    assert "LSC through CAPF" in f.fix


def test_required_client_certificate_missing_points_the_alert_to_it(tmp) -> None:
    cap = capture_of("required_client_cert_missing_5061", tmp)
    assert one(cap, "client_cert_missing").severity == "error"
    assert "see client_cert_missing" in one(cap, "no_common_parameters").message


def test_rejected_lsc_is_not_none_needed(tmp) -> None:
    rejected = one(capture_of("lsc_rejected_unknown_ca", tmp), "client_cert_lsc")
    assert "None needed" not in rejected.fix and "unknown_ca" in rejected.fix
    assert "the server rejected it (unknown_ca)" in rejected.message
    assert "None needed" in one(capture_of("lsc_5061", tmp), "client_cert_lsc").fix


# ---- 9. ECDSA only for CUCM/Expressway -----------------------------------------------------------

def test_ecdsa_web_server_is_not_a_cucm_upgrade(tmp) -> None:
    cap = capture_of("ecdsa_web_443", tmp)
    assert cap.flows.cipher.iloc[0].startswith("TLS_ECDHE_ECDSA")
    assert len(cap.findings) == 0


# ---- the public corpus ---------------------------------------------------------------------------

def _corpus(rel: str) -> inspector.Capture:
    return inspector.read_capture(corpus_path(rel))


def test_corpus_verisign_g5_cross_certificate_and_expired_leaf() -> None:
    cap = _corpus("zeek-zeek/tls-expired-cert.pcap")
    sha1 = " ".join(rows(cap, "sha1_signature").message)
    assert "VeriSign Class 3 Secure Server CA - G3" in sha1 and "- G5" not in sha1
    assert "www.spidh.org" in one(cap, "expired_cert").message


def test_corpus_one_finding_per_certificate_across_flows() -> None:
    cap = _corpus("zeek-zeek/ssl.v3.pcap")
    assert len(cap.flows) == 3
    for code in ("sha1_signature", "weak_key"):
        assert all(list(ids) == [1, 2, 3] for ids in rows(cap, code).flow_ids), code


def test_corpus_ecdsa_web_servers_have_no_cucm_finding() -> None:
    for rel in ("zeek-zeek/ecdsa-cert.pcap", "ntop-nDPI/long_tls_certificate.pcap"):
        assert "ecdsa_server_cert" not in set(_corpus(rel).findings.code), rel


def test_corpus_optional_client_certificates() -> None:
    for rel in ("zeek-zeek/irc-starttls.pcap", "zeek-zeek/tls-12-amazon-rds.pcap"):
        cap = _corpus(rel)
        assert "client_cert_optional" in set(cap.findings.code) and "client_cert_missing" not in set(cap.findings.code)
    failed = _corpus("zeek-zeek/certificate-request-failed.pcap")
    assert one(failed, "client_cert_missing").severity == "error"


def test_corpus_port_443_is_not_called_provisioning() -> None:
    cap = _corpus("zeek-zeek/ssl-v2.pcap")
    assert "provisioning" not in one(cap, "self_signed_server_cert").message


# ---- 10. old captures, today's store -------------------------------------------------------------

def _certs_output(path: Path) -> str:
    from inspector.cli.certs import run_certs
    out = io.StringIO()
    run_certs(path, trust_set=["mozilla"], console=Console(file=out, width=400), err=Console(file=io.StringIO()))
    return out.getvalue()


def test_root_missing_from_todays_store_on_an_old_capture() -> None:
    path = corpus_path("zeek-zeek/smtp-starttls.pcap")
    text = _certs_output(path)
    assert "Equifax Secure Certificate Authority" in text
    assert "absent from today's Mozilla store" in text and "the capture is from 2014-05-15" in text
    assert "may have been in the store then and removed since" in text
    assert "get it from its CA" not in text


def test_recent_capture_keeps_get_it_from_its_ca(tmp) -> None:
    import certifi
    from datetime import datetime, timezone

    from synth.pcapio import write_capture
    from synth.scenarios import SCENARIOS, build_capture
    store_day = datetime.strptime(certifi.__version__[:10], "%Y.%m.%d").replace(tzinfo=timezone.utc)
    path = tmp / "recent_ca_chain.pcap"
    write_capture(path, build_capture(SCENARIOS["ca_chain_8443"](), t0=store_day.timestamp() - 30 * 86400))
    text = _certs_output(path)
    assert "Example Lab Root CA" in text and "get it from its CA" in text
    assert "absent from today's Mozilla store" not in text


def test_certificate_unknown_by_address_is_the_same_cause(tmp) -> None:
    """Java stacks send certificate_unknown where OpenSSL sends bad_certificate."""
    cap = capture_of("by_ip_bad_certificate_8443", tmp)
    ctxs = list(contexts(cap.analysis))
    for ctx in ctxs:
        ctx.alerts = [dataclasses.replace(a, code="certificate_unknown") for a in ctx.alerts]
    by_code = {f.code: f for f in diagnose_contexts(ctxs)}
    assert "fatal certificate_unknown alert" in by_code["ip_not_in_cert"].message
    assert "see ip_not_in_cert" in by_code["certificate_rejected"].message


def test_merge_keeps_the_most_severe_instance_and_every_flow() -> None:
    from inspector.diagnose import Finding, Severity, merge_certificate_findings
    fs = [Finding(i, "self_signed_server_cert", Severity.error if i == 3 else Severity.warning, f"m{i}", "fix",
                  {"cert": "ab"}, (i,)) for i in (5, 3, 9)]
    fs.append(Finding(4, "unknown_ca", Severity.critical, "u", "fix", {"cert": "ab"}, (4,)))  # a flow fact
    merged = merge_certificate_findings(fs)
    assert [(f.code, f.flow_id, f.flow_ids, f.severity) for f in merged] == [
        ("self_signed_server_cert", 3, (3, 5, 9), Severity.error), ("unknown_ca", 4, (4,), Severity.critical)]
    assert merged[0].message == "m3"
