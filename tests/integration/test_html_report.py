"""The HTML report's content without a browser: ``tlsinspect FILE --format html``, self-contained,
every link pointing at something on the page, the ladder's failing arrow, clock sanity, the
expiry timeline, and escaping of values the engine itself never produces."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import inspector
from inspector.cli.app import app
from inspector.output.html import clock_notes, expiry_timeline_svg, render_report
from inspector.output.ladder import failing_index, ladder_svg, relative_time

ROOT = Path(__file__).resolve().parents[2]
PCAPS = ROOT / "pcaps"
runner = CliRunner()


class Page(HTMLParser):
    VOID = {"br", "img", "hr", "meta", "input", "link", "path", "line", "rect", "circle"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()


def parse(markup: str) -> Page:
    p = Page()
    p.feed(markup)
    p.close()
    assert not p.errors and not p.stack, (p.errors[:5], p.stack[-5:])
    return p


@pytest.fixture(scope="module")
def lab():
    return inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")


@pytest.fixture(scope="module")
def page(lab):
    return render_report(lab)


def test_cli_writes_one_self_contained_file(tmp_path):
    out = tmp_path / "report.html"
    r = runner.invoke(app, ["report", str(PCAPS / "cisco_lab_mix.pcapng"), "--format", "html", "-o", str(out)])
    assert r.exit_code == 0, r.output
    markup = out.read_text(encoding="utf-8")
    p = parse(markup)
    tags = [t for t, _ in p.tags]
    assert tags.count("script") == 1 and "link" not in tags and "img" not in tags and "iframe" not in tags
    for _, a in p.tags:  # nothing is fetched: no src, no external href
        assert "src" not in a
        href = a.get("href", "#")
        assert href.startswith("#"), href
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", markup))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert "default-src 'none'" in markup


def test_every_in_page_link_has_its_target(page):
    p = parse(page)
    hrefs = {a["href"][1:] for t, a in p.tags if t == "a" and a.get("href", "").startswith("#")}
    assert hrefs and hrefs <= p.ids, hrefs - p.ids


def test_summary_flow_table_and_sections(lab, page):
    p = parse(page)
    rows = [a for t, a in p.tags if t == "tr" and "data-flow" in a]
    assert [int(a["data-flow"]) for a in rows] == list(lab.flows.flow_id)
    assert [a["data-outcome"] for a in rows] == list(lab.flows.outcome)
    counts = {a["data-outcome"]: int(a["data-count"]) for t, a in p.tags if "ti-outcome-count" in a.get("class", "")}
    assert counts == lab.flows.outcome.value_counts().to_dict()
    services = {int(a["data-port"]) for t, a in p.tags if a.get("class") == "ti-service"}
    assert services == set(lab.flows.server_port)
    # every flow that did not complete has its section open; each finding row links its flow
    for f in lab.flows.itertuples():
        assert f"flow-{f.flow_id}" in p.ids
    findings = [a for t, a in p.tags if t == "tr" and a.get("id", "").startswith("finding-")]
    assert len(findings) == len(lab.findings)
    # the certificates of the unknown_ca finding of flow 2 are linked to their cards
    i = page.index('id="finding-2-unknown_ca"')
    row = page[i:page.index("</tr>", i)]
    fp = lab.flows.set_index("flow_id").client_chain_sha256[2][0]
    assert f'href="#cert-{fp[:16]}"' in row


def test_ladders_mark_the_failing_arrow_with_its_sender(lab, page):
    p = parse(page)
    arrows: dict[int, list[dict]] = {}
    ladder = None
    for t, a in p.tags:
        if t == "svg" and "ti-ladder" in a.get("class", ""):
            ladder = int(a["data-flow"])
            arrows[ladder] = []
        elif t == "g" and a.get("class", "").startswith("ti-arrow") and ladder is not None:
            arrows[ladder].append(a)
    assert set(arrows) == set(lab.flows.flow_id)
    for f in lab.flows.itertuples():
        fails = [a for a in arrows[f.flow_id] if "ti-fail" in a["class"]]
        assert len(arrows[f.flow_id]) == (lab.messages.flow_id == f.flow_id).sum()
        if f.outcome == "failed":
            assert [(a["data-kind"], a["data-sender"]) for a in fails] == [("alert", f.outcome_detail.split()[0])]
        elif f.outcome == "reset":
            assert [a["data-name"] for a in fails] == ["FIN"]
        else:
            assert not fails


def test_trust_verdicts_on_the_chain_cards(lab, page):
    v = {a["data-status"] for t, a in parse(page).tags if a.get("class") == "ti-verdict"}
    assert {"self_signed", "unknown_issuer:CAPF-0badc0de"} <= v
    # the CA chain of flow 3 (leaf <- Example Lab Issuing CA): the link the verdict used is marked
    html3 = lab.flow(3)._repr_html_()
    assert "the link the trust verdict used" in html3


def test_failing_index_for_each_way_a_handshake_ends():
    hs = [{"kind": "handshake", "name": "ClientHello", "sender": "client"}]
    assert failing_index(hs + [{"kind": "alert", "name": "warning close_notify"},
                               {"kind": "alert", "name": "fatal unknown_ca"}], "failed") == 2
    assert failing_index(hs + [{"kind": "alert", "name": "encrypted alert"}], "failed") == 1
    # TLS 1.3: the server's small EncryptedExtensions record is not the client's 19-byte alert
    tls13 = hs + [{"kind": "application_data", "name": "encrypted record (23 bytes)", "sender": "server"},
                  {"kind": "application_data", "name": "encrypted record (1200 bytes)", "sender": "server"},
                  {"kind": "application_data", "name": "encrypted record (19 bytes)", "sender": "client"}]
    assert failing_index(tls13, "failed") == 3
    rejected = tls13[:3] + [{"kind": "application_data", "name": "encrypted record (69 bytes)", "sender": "client"},
                            {"kind": "application_data", "name": "encrypted record (19 bytes)", "sender": "server"}]
    assert failing_index(rejected, "failed") == 4
    assert failing_index(hs + [{"kind": "tcp", "name": "RST"}], "reset") == 1
    assert failing_index(hs + [{"kind": "alert", "name": "fatal unknown_ca"}], "established") is None
    assert relative_time(0.0004) == "+0.400 ms" and relative_time(2.5) == "+2.500 s"


def test_ladder_escapes_every_string():
    evil = '"><script>alert(1)</script>'
    svg = ladder_svg([{"sender": "client", "kind": evil, "name": evil, "frame": evil, "ts": 1.0}],
                     client=evil, server=evil, caption=evil, start=0.5)
    assert "<script" not in svg and "&lt;script&gt;" in svg
    p = parse(svg)
    assert all(not k.startswith("on") for _, a in p.tags for k in a)
    assert svg.count("+500.000 ms") == 2  # the time column and the tooltip


def test_clock_notes():
    certs = pd.DataFrame({"flow_ids": [[1]], "not_before": [pd.Timestamp("2024-01-01", tz="UTC")],
                          "not_after": [pd.Timestamp("2030-01-01", tz="UTC")], "subject_cn": ["cucm"],
                          "sha256": ["ab" * 32]})
    flows = pd.DataFrame({"flow_id": [1], "ts_start": [pd.Timestamp("1970-01-02", tz="UTC")],
                          "ts_end": [pd.Timestamp("1970-01-02", tz="UTC")]})
    notes = [text for level, text in clock_notes(flows, certs) if level == "warn"]
    assert any("1970-01-02" in n and "not set" in n for n in notes)
    assert any("1 certificate(s) not yet valid" in n and "cucm" in n for n in notes)
    now = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    future = flows.assign(ts_start=pd.Timestamp("2026-06-01", tz="UTC"), ts_end=pd.Timestamp("2026-06-01", tz="UTC"))
    assert any("runs ahead" in t for _, t in clock_notes(future, certs.iloc[0:0], now=now))
    fine = flows.assign(ts_start=pd.Timestamp("2024-06-01", tz="UTC"), ts_end=pd.Timestamp("2024-06-01", tz="UTC"))
    assert [lvl for lvl, _ in clock_notes(fine, certs, now=now)] == ["ok"]


def test_expiry_timeline_states_and_order(lab):
    svg = expiry_timeline_svg(lab.certificates, pd.Timestamp("2033-12-01", tz="UTC"))
    states = re.findall(r'class="ti-tl-row" data-state="(\w+)"', svg)
    assert len(states) == len(lab.certificates)
    ends = re.findall(r'<text x="[\d.]+" y="[\d.]+" fill="#57606a">(\d{4}-\d{2}-\d{2})</text>', svg)
    assert ends == sorted(ends)
    late = expiry_timeline_svg(lab.certificates, pd.Timestamp("2040-01-01", tz="UTC"))
    assert set(re.findall(r'data-state="(\w+)"', late)) == {"expired"}


def test_report_of_a_capture_without_tls(tmp_path):
    from synth.pcapio import write_pcap
    path = tmp_path / "empty.pcap"
    write_pcap(path, [], linktype=1)
    markup = render_report(inspector.read_capture(path))
    parse(markup)
    assert "No TLS flow." in markup and "No certificate in clear text." in markup


def test_tls13_rejection_marks_the_clients_alert_after_the_encrypted_flight(tmp_path):
    """A genuine TLS 1.3 handshake the client aborts (it does not trust the server).  OpenSSL sends
    that alert before switching its write keys, so it is in clear text after the server's encrypted
    flight: the ladder marks it, not one of the server's (small) encrypted records."""
    import ssl

    from synth import pki
    from synth.frames import tcp_packets
    from synth.handshake import client_context, run_handshake, server_context
    from synth.pcapio import write_capture

    ident = pki.make_leaf("untrusted.example.lab", self_signed=True, san_dns=["untrusted.example.lab"])
    conv = run_handshake(server_context(ident, min_version=ssl.TLSVersion.TLSv1_3),
                         client_context(verify=True), sni="untrusted.example.lab")
    path = tmp_path / "tls13_rejected.pcap"
    write_capture(path, tcp_packets(conv, client=("10.0.0.1", 40000), server=("10.0.0.2", 443)))
    cap = inspector.read_capture(path)
    f = cap.flows.iloc[0]
    assert (f.tls_version, f.outcome) == ("TLS 1.3", "failed")
    msgs = cap.messages[cap.messages.flow_id == f.flow_id]
    svg = ladder_svg(msgs.to_dict("records"), outcome="failed", flow_id=1)
    fail = re.findall(r'<g class="ti-arrow ti-fail" data-sender="(\w+)" data-kind="(\w+)" data-name="([^"]+)"', svg)
    assert fail == [("client", "alert", "fatal unknown_ca")]
    names = list(msgs["name"])
    assert names.index("fatal unknown_ca") > max(i for i, n in enumerate(names) if n.startswith("encrypted record"))
