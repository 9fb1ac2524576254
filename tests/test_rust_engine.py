"""The Rust engine (`inspector._core`) gives the Python engine's answers.

The adapter tests use a fixed analysis built in Rust (`_core._sample_analysis`), so they run as
soon as the extension is built.  The differential tests run both engines on every capture in
``pcaps/``, ``tests/data/``, the public corpus (a fixed subset unless ``TLSINSPECT_FULL=1``), the
synth scenarios in every framing and a seeded mutation corpus, and compare the four tables row by
row: identical values, or a difference listed in `KNOWN_DIFFERENCES` with its reason.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import inspector
from inspector.errors import CaptureError

core = pytest.importorskip("inspector._core", reason="the Rust extension is not built (make setup)")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "pcaps" / "cisco_lab_mix.pcapng"


@functools.lru_cache(maxsize=None)
def _sample_der() -> bytes:
    """A genuine certificate (CUCM's self-signed one) from the bundled sample capture."""
    cap = inspector.read_capture(SAMPLE, engine="python")
    seen = [s for s in cap.analysis.certificates.values() if "cucm1" in (s.info.subject or "")]
    return seen[0].info.der


# ---- the adapter, on a fixture built in Rust ----------------------------------------------------

def test_adapter_fills_x509_columns_from_the_der():
    from inspector.rust_engine import analysis_from_core
    from inspector.schema import cert_rows, event_rows, flow_rows

    der = _sample_der()
    a = analysis_from_core(core._sample_analysis(der), "fixture.pcap")
    rows = flow_rows(a.flows)
    assert [r["flow_id"] for r in rows] == [1, 2]
    failed, bare = rows
    assert failed["client_subject"] == "CN=cucm1.example.lab,OU=Collab,O=Example Lab,L=RTP,ST=NC,C=US"
    assert failed["client_issuer"] == failed["client_subject"]
    assert failed["client_cert_kind"] == "other"
    assert failed["server_subject"] is None and failed["server_chain_sha256"] == []
    assert failed["requested_ca_names"] == [""]  # an empty DER Name, as ca_name_to_str spells it
    assert failed["alerts"] == ["server:fatal:unknown_ca"]
    assert failed["cipher_id"] == 0xC030 and failed["dh_bits"] == 2048
    assert failed["server_ip"] == "2001:db8::5" and failed["ip_version"] == 6
    assert failed["ts_start"] == 1_700_000_000.25
    assert bare["tls_version"] is None and bare["cipher_id"] is None and bare["warnings"] == []
    assert bare["client_cert_kind"] is None and bare["history"] == ""
    events = event_rows(a.events)
    assert events[0]["sender"] == "server" and events[0]["frame"] == 8
    assert events[1] == dict(capture="fixture.pcap", flow_id=None, frame=None, ts=None,
                             kind="warning", sender=None, code="capture_truncated",
                             detail="reading stopped: record cut short")
    (cert,) = cert_rows(a)
    assert cert["der"] == der and cert["flow_ids"] == [1] and cert["roles"] == ["client"]
    assert cert["subject_cn"] == "cucm1.example.lab"
    assert a.capture_warnings == ["capture_truncated: reading stopped: record cut short"]
    assert a.stats["frames"] == 10 and (a.first_ts, a.last_ts) == (1_700_000_000.25, 1_700_000_001.0)


def test_adapter_rows_feed_the_diagnoses():
    from inspector.rust_engine import analysis_from_core
    from inspector.schema import finding_rows

    a = analysis_from_core(core._sample_analysis(_sample_der()), "fixture.pcap")
    codes = [f["code"] for f in finding_rows(a)]
    assert codes[0] == "unknown_ca"


def test_undecodable_certificate_becomes_cert_parse_error():
    from inspector.rust_engine import analysis_from_core

    a = analysis_from_core(core._sample_analysis(b"\x30\x03\x02\x01\x00"), "fixture.pcap")
    assert a.flows[0].warnings == ("midstream", "cert_parse_error")
    assert a.flows[0].client_subject is None


def test_engine_error_is_the_python_capture_error():
    with pytest.raises(CaptureError) as e:
        core._raise_capture_error("pcap file header cut short", 3)
    assert str(e.value) == "pcap file header cut short at byte 3" and e.value.offset == 3
