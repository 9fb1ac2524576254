"""802.1X diagnoses (issue 10): a phone authenticating by EAP-TLS with its MIC or LSC to ISE, on
genuine OpenSSL handshakes (Python ssl over memory BIOs) framed into EAPOL and RADIUS by the
generator of rust/core/tests/data/eap.  Each rule fires where it applies and stays silent where it
must not; tshark reads the same alerts from the same bytes."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

import inspector
from synth import pki

ROOT = Path(__file__).resolve().parents[2]
EAP_DATA = ROOT / "rust" / "core" / "tests" / "data" / "eap"
_spec = importlib.util.spec_from_file_location("gen_eap", EAP_DATA / "gen_eap.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)  # type: ignore[union-attr]

EAP_CODES = ("eap_phone_cert_rejected", "eap_server_cert_rejected", "eap_access_reject_policy")


def handshake(server: pki.Identity, client: pki.Identity | None, server_trusts, client_trusts):
    """Flights [("A" supplicant / "B" server, bytes)] of one TLS 1.2 handshake, each side trusting
    the roots given."""
    return gen.handshake(server, client, server_trusts, client_trusts)


def ise() -> pki.Identity:
    return pki.make_leaf("ise.example.lab", pki.example_issuing_ca(), san_dns=["ise.example.lab"], org="Example Lab")


def capf_root():
    return pki.phone_lsc().root


def mic_root():
    return pki.cisco_manufacturing_ca_sha2().root


def laptop() -> pki.Identity:
    return pki.make_leaf("laptop-42.example.lab", pki.example_issuing_ca(), client=True, server=False,
                         org="Example Lab")


def _flights(case: str):
    """(flights, EAP method, success) of each authentication."""
    lab_root = ise().root
    if case == "lsc_rejected":  # ISE trusts only the manufacturing CA: it refuses the LSC (unknown_ca)
        return handshake(ise(), pki.phone_lsc(), [mic_root()], [lab_root]), 13, False
    if case == "mic_rejected":  # ISE trusts only the CAPF: it refuses the MIC
        return handshake(ise(), pki.phone_mic(), [capf_root()], [lab_root]), 13, False
    if case == "mic_accepted":
        return handshake(ise(), pki.phone_mic(), [mic_root()], [lab_root]), 13, True
    if case == "lsc_accepted":
        return handshake(ise(), pki.phone_lsc(), [capf_root()], [lab_root]), 13, True
    if case == "lsc_rejected_silently":  # the same refusal, the server's alert flight not sent
        fl = handshake(ise(), pki.phone_lsc(), [mic_root()], [lab_root])
        assert fl[-1][0] == "B" and fl[-1][1][0] == 0x15  # a TLS alert record
        return fl[:-1], 13, False
    if case == "phone_rejects_ise":  # the phone trusts the CAPF root only, not ISE's CA
        return handshake(ise(), pki.phone_lsc(), [capf_root()], [capf_root()]), 13, False
    if case == "policy_reject":  # certificates accepted, handshake complete, then Access-Reject
        return handshake(ise(), pki.phone_lsc(), [capf_root()], [lab_root]), 13, False
    if case == "peap_policy_reject":
        return handshake(ise(), None, [], [lab_root]), 25, False
    if case == "laptop_rejected":  # not a phone certificate: the generic unknown_ca applies
        return handshake(ise(), laptop(), [mic_root()], [lab_root]), 13, False
    raise KeyError(case)


_CAPTURES: dict[str, inspector.Capture] = {}


def capture(spec: str, tmp: Path) -> inspector.Capture:
    """``radius:case`` or ``eapol:case``, read once per module."""
    if spec not in _CAPTURES:
        how, _, case = spec.partition(":")
        fl, method, ok = _flights(case)
        packets = gen.frame_eap(fl, method, ok)
        frames = gen.radius_frames(packets) if how == "radius" else gen.eapol_frames(packets, None)
        path = tmp / f"{how}_{case}.pcap"
        gen.write_pcap(path, frames)
        _CAPTURES[spec] = inspector.read_capture(path)
    return _CAPTURES[spec]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("eapdiag")


def ev(finding) -> dict:
    e = finding.evidence
    return json.loads(e) if isinstance(e, str) else dict(e)


def codes(cap: inspector.Capture) -> set[str]:
    return set(cap.findings.code)


def one(cap: inspector.Capture, code: str):
    rows = cap.findings[cap.findings.code == code]
    assert len(rows) == 1, (code, cap.findings[["code", "message"]].values.tolist())
    return rows.iloc[0]


# ---- where each rule fires, and where it must not -------------------------------------------------

FIRES = {
    "eap_phone_cert_rejected": ["radius:lsc_rejected", "eapol:lsc_rejected", "radius:mic_rejected",
                                "radius:lsc_rejected_silently"],
    "eap_server_cert_rejected": ["radius:phone_rejects_ise", "eapol:phone_rejects_ise"],
    "eap_access_reject_policy": ["radius:policy_reject", "eapol:peap_policy_reject"],
}
SILENT = {
    "eap_phone_cert_rejected": ["radius:lsc_accepted", "radius:mic_accepted", "radius:phone_rejects_ise",
                                "radius:policy_reject", "radius:laptop_rejected"],
    "eap_server_cert_rejected": ["radius:lsc_rejected", "radius:lsc_accepted", "radius:policy_reject"],
    "eap_access_reject_policy": ["radius:lsc_rejected", "radius:lsc_rejected_silently", "radius:lsc_accepted",
                                 "radius:phone_rejects_ise"],
}


@pytest.mark.parametrize("code,spec", [(c, s) for c, specs in FIRES.items() for s in specs])
def test_rule_fires(code, spec, tmp):
    cap = capture(spec, tmp)
    assert code in codes(cap), cap.findings[["code", "message"]].values.tolist()
    assert one(cap, code).flow_id == 1


@pytest.mark.parametrize("code,spec", [(c, s) for c, specs in SILENT.items() for s in specs])
def test_rule_silent(code, spec, tmp):
    assert code not in codes(capture(spec, tmp))


def test_lsc_rejected_names_the_capf_ise_must_trust_and_nothing_of_callmanager(tmp):
    cap = capture("radius:lsc_rejected", tmp)
    f = one(cap, "eap_phone_cert_rejected")
    assert f.severity == "critical"
    assert "CAPF-a6d4c572" in f.message and "unknown_ca" in f.message and "Access-Reject" in f.message
    assert "10.1.1.2" in f.message
    assert f.fix.startswith("Import the CAPF certificate CAPF-a6d4c572 into ISE's Trusted Certificates")
    assert "Trust for client authentication" in f.fix
    assert ev(f)["kind"] == "LSC" and ev(f)["alert"] == "server:fatal:unknown_ca"
    # one finding per fact: no generic unknown_ca with CUCM's fix beside it
    assert "unknown_ca" not in codes(cap) and "certificate_rejected" not in codes(cap)
    assert not cap.findings.fix.str.contains("CallManager").any()
    # the client certificate is classified as on 5061
    assert cap.flows.client_cert_kind.tolist() == ["LSC"]


def test_mic_rejected_names_the_manufacturing_ca_and_its_root(tmp):
    cap = capture("radius:mic_rejected", tmp)
    assert cap.flows.client_cert_kind.tolist() == ["MIC"]
    f = one(cap, "eap_phone_cert_rejected")
    assert ev(f)["must_trust"] == "Cisco Manufacturing CA SHA2 and its root Cisco Root CA 2048"
    assert "Cisco Manufacturing CA SHA2" in f.fix and "CAPF" not in f.fix
    mic = one(cap, "client_cert_mic")
    assert mic.fix == "See eap_phone_cert_rejected."
    assert "PXY_NO_LSC" not in mic.message


def test_silent_rejection_after_the_certificate_is_still_trust(tmp):
    cap = capture("radius:lsc_rejected_silently", tmp)
    assert cap.events[cap.events.kind == "alert"].empty
    f = one(cap, "eap_phone_cert_rejected")
    assert "without a TLS alert" in f.message and "alert" not in ev(f)


def test_phone_rejecting_ise_names_ise_ca(tmp):
    cap = capture("radius:phone_rejects_ise", tmp)
    f = one(cap, "eap_server_cert_rejected")
    assert ev(f)["alert"] == "client:fatal:unknown_ca"
    assert "ise.example.lab" in f.message and "Example Lab Root CA" in f.message
    # the phone never got to send its certificate: the rule cannot tell a phone from another supplicant
    assert "the supplicant's trust list lacks ISE's CA (Example Lab Root CA)" in f.message
    assert "EAP Authentication" in f.fix
    assert "unknown_ca" not in codes(cap)


def test_policy_reject_is_not_certificate_trust(tmp):
    cap = capture("radius:policy_reject", tmp)
    assert cap.flows.outcome.tolist() == ["failed"]
    f = one(cap, "eap_access_reject_policy")
    assert f.severity == "error" and "not certificate trust" in f.message and "Access-Reject" in f.message
    assert "live log" in f.fix.lower()
    assert not codes(cap) & {"unknown_ca", "certificate_rejected", "eap_phone_cert_rejected"}
    peap = one(capture("eapol:peap_policy_reject", tmp), "eap_access_reject_policy")
    assert "EAP-Failure" in peap.message and "inner authentication" in peap.message


def test_laptop_certificate_keeps_the_generic_rule(tmp):
    cap = capture("radius:laptop_rejected", tmp)
    assert cap.flows.client_cert_kind.tolist() == ["other"]
    assert "unknown_ca" in codes(cap) and not codes(cap) & set(EAP_CODES)


def test_the_5061_lsc_rejection_is_not_an_802_1x_finding(tmp):
    from synth.diag_scenarios import diag_packets
    from synth.pcapio import write_capture
    from synth.scenarios import SCENARIOS

    path = tmp / "lsc_5061.pcap"
    write_capture(path, diag_packets(SCENARIOS["lsc_rejected_unknown_ca"]()))
    cap = inspector.read_capture(path)
    assert "unknown_ca" in codes(cap) and not codes(cap) & set(EAP_CODES)
    assert "CallManager-trust" in one(cap, "unknown_ca").fix


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("spec,want", [("radius:lsc_rejected", ("server", "48")),
                                       ("radius:phone_rejects_ise", ("client", "48"))])
def test_tshark_reads_the_same_alert(spec, want, tmp):
    cap = capture(spec, tmp)
    how, _, case = spec.partition(":")
    out = subprocess.run(["tshark", "-r", str(tmp / f"{how}_{case}.pcap"), "-Y", "tls.alert_message", "-T",
                          "fields", "-e", "radius.code", "-e", "tls.alert_message.desc"],
                         capture_output=True, text=True, check=True).stdout.split()
    # the alert rides in an Access-Challenge (11) from ISE, or an Access-Request (1) from the switch
    assert out == [("11" if want[0] == "server" else "1"), want[1]]
    alerts = cap.events[cap.events.kind == "alert"]
    assert list(zip(alerts.sender, alerts.code)) == [(want[0], "unknown_ca")]
