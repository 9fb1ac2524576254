"""One interpretation (issue 15): roles, outcome and its sentence, the TLS 1.3 record-size rule,
decided in `inspector.interpret` for every engine."""

from __future__ import annotations

import pytest

import inspector
from inspector.interpret import (ENCRYPTED_ALERT_MAX, HandshakeFacts, choose_client, is_encrypted_alert, outcome,
                                 tls13_alert_at, tls13_outcome, tls13_over)
from corpus import PCAPS, corpus_path

PORTS = frozenset({443, 5061})


def test_the_hello_decides_the_client_then_syn_then_tls_port_then_higher_port():
    kw = dict(a_port=51000, b_port=5061, tls_ports=PORTS)
    assert choose_client("a", "b", hello_client="b", syn_initiator="a", **kw) == "b"
    assert choose_client("a", "b", hello_client=None, syn_initiator="b", **kw) == "b"
    assert choose_client("a", "b", hello_client=None, syn_initiator=None, **kw) == "a"  # b on a TLS port
    assert choose_client("a", "b", hello_client=None, syn_initiator=None, a_port=443, b_port=40000,
                         tls_ports=PORTS) == "b"
    assert choose_client("a", "b", hello_client=None, syn_initiator=None, a_port=7000, b_port=9000,
                         tls_ports=PORTS) == "b"  # neither on a TLS port: the higher port


def test_an_encrypted_alert_is_at_most_24_bytes_and_a_finished_more():
    assert is_encrypted_alert(19) and is_encrypted_alert(ENCRYPTED_ALERT_MAX)
    assert not is_encrypted_alert(53)


@pytest.mark.parametrize("records, verdict", [
    ((("server", 2000), ("client", 19)), ("failed", "client sent an encrypted alert (TLS 1.3: it likely "
                                                     "rejected the server's certificate)")),
    ((("server", 2000), ("client", 53), ("server", 19)), ("failed", "server sent an encrypted alert after the "
                                                                    "client's Finished (TLS 1.3: likely rejected "
                                                                    "the client's certificate)")),
    ((("server", 2000), ("client", 53), ("server", 200)), ("established", None)),
    ((("server", 2000), ("client", 53), ("server", 19), ("server", 300)), ("established", None)),
    ((("server", 2000), ("client", 53), ("client", 100)), ("established", None)),
    ((("server", 2000), ("client", 53)), None),  # the server has not answered yet
    ((("server", 2000),), None),
])
def test_tls13_by_record_sizes(records, verdict):
    assert tls13_outcome(records) == verdict


@pytest.mark.parametrize("records, at", [
    ((("server", 2000), ("client", 19)), 1),
    ((("server", 23), ("server", 1200), ("client", 19)), 2),  # a small EncryptedExtensions is not it
    ((("server", 2000), ("client", 53), ("server", 19)), 2),
    ((("server", 2000), ("client", 53), ("server", 19), ("server", 300)), None),
    ((("server", 2000), ("client", 53), ("server", 200)), None),
    ((("server", 2000),), None),
])
def test_the_alert_record_of_a_tls13_handshake(records, at):
    """The one rule behind the outcome and the ladder's marked arrow."""
    assert tls13_alert_at(records) == at
    assert (tls13_outcome(records) or (None,))[0] != "failed" if at is None else tls13_outcome(records)[0] == "failed"


def test_tls13_over_once_the_client_spoke_and_it_was_an_alert_or_the_server_answered():
    assert not tls13_over([("server", 2000)])
    assert tls13_over([("server", 2000), ("client", 19)])
    assert not tls13_over([("server", 2000), ("client", 53)])
    assert tls13_over([("server", 2000), ("client", 53), ("server", 100)])


def test_each_outcome_and_its_sentence():
    assert outcome(HandshakeFacts(fatal=("server", "unknown_ca", "Certificate"))) == (
        "failed", "server sent fatal unknown_ca after the client's Certificate")
    assert outcome(HandshakeFacts(hellos_seen=False)) == (
        "incomplete", "the hellos are not in the capture (it starts mid-connection)")
    assert outcome(HandshakeFacts(hellos_seen=False, partial_hello=("ClientHello", 100, 517),
                                  close=("client", "rst"))) == (
        "incomplete", "only 100 of the 517 bytes of the ClientHello were seen; then the client reset the connection")
    assert outcome(HandshakeFacts(finished_both=True)) == ("established", None)
    assert outcome(HandshakeFacts(encrypted_alert_by="client")) == (
        "failed", "client sent an encrypted alert during the handshake")
    assert outcome(HandshakeFacts(close=("server", "fin"), last_message={"client": "ClientHello"})) == (
        "reset", "server closed the connection after the client's ClientHello without an alert")
    assert outcome(HandshakeFacts(close=("server", "rst"), missed={"client": 40, "server": 3})) == (
        "reset", "server reset the connection; no alert in the capture, which missed 40 bytes from the client")
    assert outcome(HandshakeFacts(evicted="memory")) == (
        "incomplete", "flow evicted before the handshake ended (memory budget for buffered handshakes reached)")
    assert outcome(HandshakeFacts()) == ("incomplete", "the capture ends before the handshake does")
    assert outcome(HandshakeFacts(tls13=True, tls13_finished=True)) == ("established", None)


def test_a_real_tls13_handshake_is_judged_from_its_record_sizes():
    """pcaps/tls13_443.pcap without its key log: established by the sizes of the encrypted records;
    with the key log, by the decrypted Finished messages; the same verdict."""
    plain = inspector.read_capture(PCAPS / "tls13_443.pcap", engine="python").flows
    keyed = inspector.read_capture(PCAPS / "tls13_443.pcap", engine="python",
                                   keylog=PCAPS / "tls13_443.keylog").flows
    assert list(plain.tls_version) == ["TLS 1.3"] and not plain.decrypted.any() and keyed.decrypted.all()
    assert list(plain.outcome) == list(keyed.outcome) == ["established"]


def test_alerts_are_records_with_one_string_form():
    from inspector.model import Alert
    a = Alert.parse("server:fatal:unknown_ca")
    assert (a.sender, a.level, a.description, a.fatal) == ("server", "fatal", "unknown_ca", True)
    assert str(a) == "server:fatal:unknown_ca"
    assert Alert.parse("garbage") is None
    assert [str(x) for x in Alert.all_of(("client:warning:close_notify", "client:encrypted:alert"))] == [
        "client:warning:close_notify", "client:encrypted:alert"]
    assert Alert.all_of(None) == [] and Alert.all_of(float("nan")) == []


def test_a_warning_level_alert_is_not_a_fatal_one_for_the_diagnoses():
    """The alert's level comes from the record, not from reading the detail's first letters."""
    from inspector.model import EventRecord
    warn = EventRecord("c", 1, 5, 0.0, "alert", "client", "close_notify", "warning close_notify")
    fatal = EventRecord("c", 1, 6, 0.0, "alert", "server", "unknown_ca", "fatal unknown_ca after the peer's Certificate")
    enc = EventRecord("c", 1, 7, 0.0, "alert", "client", "encrypted", "encrypted alert")
    note = EventRecord("c", 1, 8, 0.0, "warning", "client", "fatalistic_code", "fatal-looking warning text")
    assert [e.level for e in (warn, fatal, enc, note)] == ["warning", "fatal", "encrypted", None]
    cap = inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")
    from inspector.diagnose import contexts
    ctx = next(c for c in contexts(cap.analysis) if c.alerts)
    assert all(a.level == "fatal" for a in ctx.fatal()) and ctx.fatal()


def test_an_alert_record_makes_its_events_row_and_its_flows_cell():
    from inspector.model import Alert, alert_level
    a = Alert("server", "fatal", "unknown_ca", frame=7, ts=1.5)
    e = a.event("x.pcap", 3, after="Certificate")
    assert (e.capture, e.flow_id, e.frame, e.ts, e.kind, e.sender, e.code) == (
        "x.pcap", 3, 7, 1.5, "alert", "server", "unknown_ca")
    assert e.detail == "fatal unknown_ca after the peer's Certificate" and e.level == "fatal"
    assert Alert("client", "encrypted", "encrypted_alert").event("x.pcap", 1).detail == "encrypted encrypted_alert"
    assert str(a) == "server:fatal:unknown_ca"  # frame and time are not part of the column's form
    assert [alert_level(t) for t in ("fatal handshake_failure", "warning close_notify", "encrypted alert",
                                     "fatalistic")] == ["fatal", "warning", "encrypted", None]


def test_a_warning_level_unknown_ca_is_not_a_rejection():
    """lsc_rejected_unknown_ca.pcap: the server's fatal unknown_ca is the unknown_ca finding; the same
    alert at warning level (the only change) is no finding about a rejected chain."""
    from dataclasses import replace
    from inspector.diagnose import diagnose_contexts, flow_contexts
    from inspector.model import Alert
    a = inspector.read_capture(PCAPS / "lsc_rejected_unknown_ca.pcap", engine="python").analysis
    alerts = [e for e in a.events if e.kind == "alert"]
    assert [(e.sender, e.level, e.code) for e in alerts] == [("server", "fatal", "unknown_ca")]

    def codes(events, flows=a.flows):
        return {f.code for f in diagnose_contexts(flow_contexts(flows, a.certificates, events))}
    assert "unknown_ca" in codes(a.events)
    fatal = alerts[0]
    warning = Alert("server", "warning", "unknown_ca", fatal.frame, fatal.ts).event(fatal.capture, fatal.flow_id,
                                                                                   "Certificate")
    events = [warning if e is fatal else e for e in a.events]
    flows = [replace(f, alerts=("server:warning:unknown_ca",)) for f in a.flows]
    found = codes(events, flows)
    assert not found & {"unknown_ca", "certificate_rejected", "fatal_alert"}, found


@pytest.mark.parametrize("engine", ["python", "rust", "tshark"])
def test_the_events_table_has_the_alert_level_in_its_own_column(engine):
    """A user filters fatal alerts with ``events.level == "fatal"``, not by reading the detail."""
    ev = inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng", engine=engine).events
    assert str(ev.dtypes["level"]) == "string" and list(ev.kind) == ["alert"] * 5
    assert list(ev.level) == ["fatal"] * 5 and set(ev.code) >= {"unknown_ca"}
    # a fatal alert, one sent encrypted, and a warning event (no level) in one real capture
    ev = inspector.read_capture(corpus_path("ntop-nDPI/tls_alert.pcap"), engine=engine).events
    assert sorted(zip(ev.kind, ev.level.fillna("NA"))) == [
        ("alert", "encrypted"), ("alert", "fatal"), ("warning", "NA")]
