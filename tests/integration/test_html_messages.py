"""The `messages` table: every arrow of a ladder diagram (side, message, frame, time).

It must agree with what the engine already says elsewhere: the flows' Zeek history letters, the
alerts of the events table, and the frames of the capture."""

from __future__ import annotations

from pathlib import Path

import pytest

import inspector
from inspector.sources.capture import CaptureReader
from synth.frames import Packet
from synth.pcapio import write_capture, write_pcap
from inspector.tls.session import HISTORY_LETTERS, MAX_MESSAGES, MESSAGE_NAMES

ROOT = Path(__file__).resolve().parents[2]
PCAPS = ROOT / "pcaps"
SAMPLES = sorted(PCAPS.glob("*.pcap")) + sorted(PCAPS.glob("*.pcapng"))

_LETTER_OF_NAME = {name: HISTORY_LETTERS[t] for t, name in MESSAGE_NAMES.items() if t in HISTORY_LETTERS}
_LETTER_OF_NAME.update({"HelloRetryRequest": "j", "ClientHello (SSLv2)": "c", "ServerHello (SSLv2)": "s"})


def letters(messages) -> str:
    """The Zeek history the arrows spell (client upper case), application data and TCP left out."""
    out = []
    for m in messages.itertuples(index=False):
        if m.kind in ("application_data", "tcp"):
            continue
        if m.kind == "change_cipher_spec":
            ch = "i"
        elif m.kind == "encrypted_handshake":
            ch = "f"
        elif m.kind == "alert":
            ch = "q" if m.name == "encrypted alert" else "l"
        else:
            ch = _LETTER_OF_NAME.get(m.name, "z")
        out.append(ch.upper() if m.sender == "client" else ch)
    return "".join(out)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_arrows_spell_the_flow_history(path):
    keylog = path.with_suffix(".keylog")
    cap = inspector.read_capture(path, keylog=keylog if keylog.exists() else None)
    assert len(cap.flows)
    for f in cap.flows.itertuples(index=False):
        msgs = cap.messages[cap.messages.flow_id == f.flow_id]
        assert letters(msgs) == f.history, f.flow_id
        frames = list(msgs.frame)
        assert frames == sorted(frames), f.flow_id
        assert all(f.first_frame <= x <= f.last_frame for x in frames), f.flow_id
        assert (msgs.ts >= f.ts_start).all() and (msgs.ts <= f.ts_end).all()


def test_lab_mix_rejection_is_the_servers_alert_at_its_frame():
    cap = inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")
    msgs = cap.messages[cap.messages.flow_id == 2]
    assert list(msgs.name[:2]) == ["ClientHello", "ServerHello"]
    assert list(msgs.sender[:2]) == ["client", "server"]
    last = msgs.iloc[-1]
    assert (last["kind"], last["sender"], last["name"]) == ("alert", "server", "fatal unknown_ca")
    alert = cap.events[(cap.events.flow_id == 2) & (cap.events.kind == "alert")].iloc[0]
    assert last.frame == alert.frame and last.ts == alert.ts
    # the client's Certificate came in frame 23 with its key exchange, CCS and Finished
    client = msgs[msgs.sender == "client"]
    assert list(client.name) == ["ClientHello", "Certificate", "ClientKeyExchange", "CertificateVerify",
                                 "ChangeCipherSpec", "Finished"]
    assert set(client.frame[1:]) == {23}


def test_reset_flow_ends_with_the_fin_and_tls13_shows_its_encrypted_records():
    cap = inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")
    flows = cap.flows.set_index("flow_id")
    reset = int(flows.index[flows.outcome == "reset"][0])
    last = cap.messages[cap.messages.flow_id == reset].iloc[-1]
    assert (last["kind"], last["name"], last["sender"]) == ("tcp", "FIN", "client")
    tls13 = int(flows.index[flows.tls_version == "TLS 1.3"][0])
    names = list(cap.messages[cap.messages.flow_id == tls13].name)
    assert any(n.startswith("encrypted record (") for n in names)


def _packets(path: Path) -> list[Packet]:
    return [Packet(ts, lt, data) for ts, lt, data, _ in CaptureReader(path).packets()]


def test_a_retransmitted_segment_is_marked_and_changes_nothing_else(tmp_path):
    packets = _packets(PCAPS / "lsc_rejected_unknown_ca.pcap")
    before = inspector.read_capture(PCAPS / "lsc_rejected_unknown_ca.pcap")
    hello = next(i for i, p in enumerate(packets) if b"\x16\x03" in p.data[54:60])
    again = Packet(packets[hello].ts + 0.2, packets[hello].linktype, packets[hello].data)
    packets.insert(hello + 1, again)
    path = tmp_path / "retrans.pcap"
    write_capture(path, packets)
    cap = inspector.read_capture(path)
    rt = cap.messages[cap.messages.name == "retransmission"]
    assert list(rt.frame) == [hello + 2] and list(rt.kind) == ["tcp"]
    assert list(rt.sender) == ["client"]
    assert cap.flows.history.tolist() == before.flows.history.tolist()
    assert cap.flows.outcome.tolist() == before.flows.outcome.tolist()


def test_messages_are_bounded_per_flow():
    from inspector.tls.session import TLSSession
    s = TLSSession()
    for i in range(MAX_MESSAGES * 3):
        s._log("a", "handshake", "HelloRequest", i, float(i))
    assert len(s.messages) == MAX_MESSAGES


def test_empty_capture_has_an_empty_typed_messages_table(tmp_path):
    path = tmp_path / "empty.pcap"
    write_pcap(path, [], linktype=1)
    cap = inspector.read_capture(path)
    assert list(cap.messages.columns) == ["capture", "flow_id", "frame", "ts", "sender", "kind", "name"]
    assert len(cap.messages) == 0 and str(cap.messages.ts.dtype) == "datetime64[ns, UTC]"
