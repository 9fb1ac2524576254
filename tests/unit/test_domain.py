"""One place per domain fact (inspector.domain): ports and roles, Cisco CAs, phone names."""

import re
from pathlib import Path

import pytest

from inspector import domain
from inspector.domain import (CAPF_ISSUER_CN, CISCO_MIC_CA_NAMES, EXPRESSWAY_PORTS, MIC_ISSUERS, PHONE_NAME,
                              PHONE_PORTS, PORT_ROLES, TLS_PORTS, is_provisioning_note)

ROOT = Path(__file__).resolve().parents[2]


def test_python_engines_use_the_domain_tls_ports():
    from inspector.flows import DEFAULT_TLS_PORTS
    assert DEFAULT_TLS_PORTS == frozenset(TLS_PORTS) == frozenset({443, 2443, 3804, 5061, 6972, 8443})


def test_rust_engine_default_tls_ports_equal_the_domain_list():
    core = pytest.importorskip("inspector._core")
    assert list(core.DEFAULT_TLS_PORTS) == list(TLS_PORTS)


def test_port_roles_and_groups():
    assert PHONE_PORTS == {5061, 2443, 3804} and EXPRESSWAY_PORTS == {8443, 6972}
    assert set(TLS_PORTS) == PHONE_PORTS | EXPRESSWAY_PORTS | {443}
    assert (PORT_ROLES[5061], PORT_ROLES[3804], PORT_ROLES[6972], PORT_ROLES[636]) == \
        ("SIP-TLS", "CAPF", "TFTP-HTTPS", "LDAPS")
    from inspector.trust import trust_store_hint
    assert trust_store_hint(5061, "client").startswith("CallManager-trust")
    assert trust_store_hint(8443, "client").startswith("tomcat-trust")
    assert trust_store_hint(6972, "server", rejected_by_peer=True).startswith("Expressway-C trusted CA list")
    assert trust_store_hint(443, "server") == "the client's trust store"


def test_names_and_cas():
    assert CAPF_ISSUER_CN.match("CAPF-0badc0de") and not CAPF_ISSUER_CN.match("CAPF-0badc0d")
    assert PHONE_NAME.match("SEP001122334455") and not PHONE_NAME.match("SEP0011223344")
    assert [MIC_ISSUERS[n.casefold()] for n in CISCO_MIC_CA_NAMES] == [False, False, True, True, True, False, False]
    assert is_provisioning_note("issued by Linksys provisioning CA (legacy SPA/PAP; ...)")
    assert not is_provisioning_note("AddTrust External CA Root (expired 2020-05-30)") and not is_provisioning_note(None)


def test_client_cert_kind_reads_the_domain_tables():
    from inspector.x509 import capf_id, client_cert_kind, known_ca_note, parse_certificate
    from synth import pki

    def info(identity):
        return parse_certificate(identity.cert.public_bytes(pki.serialization.Encoding.DER))
    lsc, mic, spa = info(pki.phone_lsc()), info(pki.phone_mic()), info(pki.spa_provisioning_server())
    assert client_cert_kind(lsc) == "LSC" and capf_id(lsc) == "CAPF-a6d4c572"
    assert client_cert_kind(mic) == "MIC" and capf_id(mic) is None
    assert client_cert_kind(spa) == "other"
    assert known_ca_note(spa) == "issued by Cisco Small Business provisioning root CA (SPA/ATA provisioning servers)"
    assert is_provisioning_note(known_ca_note(spa))


#: a set, tuple or dict literal holding one of the Cisco service ports
_PORT_TABLE = re.compile(r"[({]\s*(?:\d+\s*[:,]\s*(?:\"[^\"]*\"\s*,\s*)?)*(5061|2443|3804|6972)\s*[,:)}]"
                         r"|(?:^|[{,])\s*(5061|2443|3804|6972)\s*:\s*\"")


def test_no_other_module_holds_a_port_table():
    """Port tables live in inspector/domain.py only (synth builds captures, the diagnose table and
    help texts quote ports in prose)."""
    offenders = []
    for p in (ROOT / "inspector").rglob("*.py"):
        if p.name == "domain.py" or "synth" in p.parts:
            continue
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"[\"']", code.split("(", 1)[0]) is None and _PORT_TABLE.search(re.sub(r"\"[^\"]*\"|'[^']*'", '""', code)):
                offenders.append(f"{p.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not offenders, offenders
    assert domain.__all__


def test_one_missing_value_helper_and_one_validity_check():
    import datetime as dt

    import numpy as np
    import pandas as pd

    from inspector import filters, notebook
    from inspector.output import report
    from inspector.trust import columns as trust_columns
    from inspector.model import is_missing, validity
    assert report._na is filters._na is trust_columns._isna is notebook._na is is_missing
    missing = (None, float("nan"), pd.NA, pd.NaT, np.float32("nan"), np.float64("nan"), np.datetime64("NaT"))
    present = (0, 0.0, "", [], (), b"", np.float64(1.5), np.array([1.0]), dt.datetime(2024, 1, 1))
    assert [is_missing(v) for v in missing] == [True] * len(missing)
    assert [is_missing(v) for v in present] == [False] * len(present)
    nb, na = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert [validity(nb, na, t) for t in (nb, na, nb - dt.timedelta(seconds=1), na + dt.timedelta(seconds=1))] == \
        ["valid", "valid", "not_yet_valid", "expired"]  # both bounds inclusive
    assert validity(None, na, nb) == validity(nb, na, None) == "unknown"
    assert notebook.validity_state("2023-01-01", "2024-01-01", pd.Timestamp("2024-06-01", tz="UTC")) == "expired"
    assert notebook.validity_state(pd.NaT, "2024-01-01", "2023-06-01") == "unknown"


def test_records_are_frozen_and_slotted():
    import dataclasses

    import inspector
    from inspector.model import Analysis, CertSeen, EventRecord, FlowRecord, MessageRecord
    cap = inspector.read_capture(ROOT / "pcaps" / "cisco_lab_mix.pcapng", engine="python")
    a = cap.analysis
    assert [f.flow_id for f in a.flows] == list(range(1, len(a.flows) + 1))  # renumbered by start time
    assert {e.flow_id for e in a.events if e.flow_id is not None} <= {f.flow_id for f in a.flows}
    for rec in (a.flows[0], a.events[0], a.messages[0]):
        assert isinstance(rec, (FlowRecord, EventRecord, MessageRecord)) and not hasattr(rec, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            rec.flow_id = 99
    # the two that stay mutable say why
    assert "Mutable on purpose" in CertSeen.__doc__ and "Mutable on purpose" in Analysis.__doc__
