"""The fleet view: ``tlsinspect batch DIR -o results/ --report results/report.html`` and
``tlsinspect summary results/`` over genuine handshakes (phones with MIC and LSC, a phone moved to
another cluster, servers whose certificates end 20, 60 and 200 days after the capture, or ended)."""

from __future__ import annotations

import datetime as dt
import ssl
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from inspector import batch as B
from inspector.fleet import fleet_summary
from inspector.cli.app import app
from synth import pki
from synth import scenarios as sc
from synth.frames import tcp_packets
from synth.handshake import client_context, run_handshake, server_context
from synth.pcapio import write_capture

runner = CliRunner()
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC, the synthetic captures' start
PHONE_SCENARIOS = ("mic_5061", "lsc_5061", "lsc_rejected_unknown_ca")
# server CN -> days between the capture and the end of its certificate
EXPIRY = {"soon20.example.lab": 20, "soon60.example.lab": 60, "later.example.lab": 200, "gone.example.lab": -5}


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    d = tmp_path_factory.mktemp("fleet")
    for i, name in enumerate(PHONE_SCENARIOS):
        write_capture(d / f"{name}.pcap", sc.build_capture(sc.SCENARIOS[name](), t0=T0 + i))
    start = dt.datetime.fromtimestamp(T0, dt.timezone.utc)
    for i, (cn, days) in enumerate(EXPIRY.items()):
        ident = pki.make_leaf(cn, self_signed=True, san_dns=[cn], not_before=start - dt.timedelta(days=400),
                              not_after=start + dt.timedelta(days=days))
        conv = run_handshake(server_context(ident, max_version=ssl.TLSVersion.TLSv1_2),
                             client_context(verify=False), sni=cn)
        write_capture(d / f"{cn}.pcap", tcp_packets(conv, client=("10.0.0.1", 40000 + i),
                                                   server=("10.0.9.1", 8443), t0=T0 + 10 + i))
    return d


@pytest.fixture(scope="module")
def results(captures, tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "results"
    page = out / "report.html"
    r = runner.invoke(app, ["batch", str(captures), "-o", str(out), "--report", str(page), "-q", "-j", "1"])
    assert r.exit_code == 0, r.output
    assert page.is_file()
    return out


def test_phones_by_sep_name_with_their_certificate(results):
    fs = fleet_summary(results)
    assert fs.captures == len(PHONE_SCENARIOS) + len(EXPIRY) and fs.captures_failed == 0
    phones = {(p.phone, p.kind, p.issuer): (p.flows, p.failed) for p in fs.phones.itertuples()}
    assert phones == {
        ("SEP001122334455", "MIC", "Cisco Manufacturing CA SHA2"): (1, 0),
        ("SEP001122334455", "LSC", "CAPF-a6d4c572"): (1, 0),
        ("SEP001122334455", "LSC", "CAPF-0badc0de"): (1, 1),  # moved from another cluster: rejected
    }
    capf = fs.capf_issuers.set_index("capf")
    assert sorted(capf.index) == ["CAPF-0badc0de", "CAPF-a6d4c572"]
    assert capf.loc["CAPF-0badc0de", "failed"] == 1 and capf.loc["CAPF-a6d4c572", "failed"] == 0


def test_certificates_expiring_within_30_and_90_days_of_the_last_capture(results):
    fs = fleet_summary(results)
    assert fs.last_capture.year == 2023
    windows = dict(zip(fs.expiring.subject_cn, fs.expiring.window))
    assert windows == {"gone.example.lab": "expired", "soon20.example.lab": "30 days",
                       "soon60.example.lab": "90 days"}
    days = dict(zip(fs.expiring.subject_cn, fs.expiring.days_left))
    # counted from the last capture (a few seconds after the first): one day short of the nominal
    assert days["soon20.example.lab"] == 19 and days["soon60.example.lab"] == 59
    assert list(fs.expiring.subject_cn) == ["gone.example.lab", "soon20.example.lab", "soon60.example.lab"]


def test_failures_by_cause_and_by_server(results):
    fs = fleet_summary(results)
    causes = dict(zip(fs.failures_by_cause.cause, fs.failures_by_cause.flows))
    assert causes["unknown_ca"] == 1
    assert sum(causes.values()) == fs.failed_flows + sum(fs.failures_by_server.reset)
    servers = fs.failures_by_server.set_index("server")
    cucm = [s for s in servers.index if s.endswith(":5061")]
    assert len(cucm) == 1 and servers.loc[cucm[0], "failed"] == 1
    assert servers.loc[cucm[0], "top_cause"] == "unknown_ca" and servers.loc[cucm[0], "service"] == "SIP-TLS"


def test_summary_command_terminal_and_html(results, tmp_path):
    r = runner.invoke(app, ["summary", str(results)])
    assert r.exit_code == 0, r.output
    for text in ("SEP001122334455", "CAPF-0badc0de", "soon20.example.lab", "unknown_ca", "30 days"):
        assert text in r.output
    assert "later.example.lab" not in r.output
    page = tmp_path / "fleet.html"
    r = runner.invoke(app, ["summary", str(results), "--format", "html", "-o", str(page)])
    assert r.exit_code == 0, r.output
    markup = page.read_text()

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows: dict[str, list[dict]] = {}

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "tr" and a.get("class", "").startswith("ti-"):
                self.rows.setdefault(a["class"], []).append(a)

    p = Rows()
    p.feed(markup)
    assert sorted(r["data-kind"] for r in p.rows["ti-phone"]) == ["LSC", "LSC", "MIC"]
    assert sorted(r["data-window"] for r in p.rows["ti-expiring"]) == ["30 days", "90 days", "expired"]
    assert "Content-Security-Policy" in markup and "http://" not in markup.replace("http://www.w3.org", "")
    # the page written by batch --report is the same view
    batch_page = (results / "report.html").read_text()
    assert batch_page.count('class="ti-phone"') == 3


def test_messages_are_in_the_dataset(results):
    msgs = B.read_table(results, "messages")
    flows = B.read_table(results, "flows")
    assert len(msgs) and set(msgs.capture_path) == set(flows.capture_path)
    rejected = flows[flows.capture == "lsc_rejected_unknown_ca.pcap"].iloc[0]
    last = msgs[(msgs.capture_path == rejected.capture_path) & (msgs.flow_id == rejected.flow_id)
                & (msgs.kind == "alert")].iloc[-1]
    assert (last["sender"], last["name"]) == ("server", "fatal unknown_ca")


def test_summary_of_a_directory_that_is_not_a_dataset_is_one_line(tmp_path):
    r = runner.invoke(app, ["summary", str(tmp_path)])
    assert r.exit_code == 2
    assert "not a tlsinspect results directory" in r.output
