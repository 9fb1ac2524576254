"""The Jupyter side: the HTML views (escaping, badges, validity bars) and the example notebook,
executed top to bottom in a kernel running this very Python (the venv's)."""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import inspector
from inspector.notebook import CertView, ChainView, FlowView, validity_bar

ROOT = Path(__file__).resolve().parents[2]
PCAPS = ROOT / "pcaps"
NOTEBOOK = ROOT / "notebooks" / "explore_handshakes.ipynb"
HOSTILE_CN = "<script>alert(1)</script>"
HOSTILE_ORG = '"><img src=x onerror=alert(2)>'


# ---- helpers ------------------------------------------------------------------------------------

class _Html(HTMLParser):
    """Collects tags, attributes and text; checks that every element is closed in order."""

    VOID = {"br", "img", "hr", "meta", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(markup: str) -> _Html:
    p = _Html()
    p.feed(markup)
    p.close()
    assert not p.errors and not p.stack, (p.errors, p.stack)
    return p


def badge_classes(markup: str) -> set[str]:
    out = set()
    for tag, attrs in parse(markup).tags:
        for c in (attrs.get("class") or "").split():
            if c.startswith("ti-badge-"):
                out.add(c[len("ti-badge-"):])
    return out


def validity_states(markup: str) -> list[str]:
    return [a["data-state"] for t, a in parse(markup).tags if "ti-validity" in (a.get("class") or "").split()]


@pytest.fixture(scope="module")
def mix():
    return inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")


@pytest.fixture(scope="module")
def expired():
    return inspector.read_capture(PCAPS / "expired_root_443.pcap")


@pytest.fixture(scope="module")
def hostile_capture(tmp_path_factory):
    """A genuine TLS 1.2 handshake whose server certificate has a hostile CN and O."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    import ssl
    from synth import pki
    from synth.frames import tcp_packets
    from synth.handshake import client_context, run_handshake, server_context
    from synth.pcapio import write_capture

    ident = pki.make_leaf(HOSTILE_CN, self_signed=True, key="ec256", org=HOSTILE_ORG,
                          extra_name_attrs=[x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "a&b <i>")])
    conv = run_handshake(server_context(ident, max_version=ssl.TLSVersion.TLSv1_2),
                         client_context(verify=False), sni="evil.example.lab")
    path = tmp_path_factory.mktemp("hostile") / "hostile.pcap"
    write_capture(path, tcp_packets(conv, client=("10.0.0.1", 40000), server=("10.0.0.2", 443)))
    return inspector.read_capture(path)


# ---- escaping -----------------------------------------------------------------------------------

def _assert_no_injection(markup: str) -> None:
    p = parse(markup)
    tags = {t for t, _ in p.tags}
    assert "script" not in tags and "img" not in tags and "i" not in tags, tags
    assert "<script" not in markup.lower() and "<img" not in markup.lower()
    for _, attrs in p.tags:  # no attribute came from the certificate
        assert not any(k.startswith("on") for k in attrs), attrs
    text = "".join(p.text)
    assert HOSTILE_CN in text  # shown, as text


def test_hostile_certificate_is_escaped_in_every_view(hostile_capture):
    cap = hostile_capture
    assert cap.certificates.subject_cn.iloc[0] == HOSTILE_CN
    fid = int(cap.flows.flow_id.iloc[0])
    fp = cap.certificates.sha256.iloc[0]
    views = [cap.flow(fid)._repr_html_(), cap.chain(fid)._repr_html_(), cap.cert(fp[:10])._repr_html_(),
             cap._repr_html_()]
    for markup in views[:3]:
        _assert_no_injection(markup)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
        titles = [a.get("title", "") for _, a in parse(markup).tags]
        assert any("onerror=alert(2)" in t for t in titles)  # the O=, as a tooltip: inert text
    parse(views[3])
    assert HOSTILE_CN in repr(cap.cert(fp[:10]))  # the text form is plain, unescaped


def test_hostile_values_in_every_field_are_escaped():
    """A hand-made row: every string field hostile, including the ones rendered in attributes."""
    evil = {k: f"{HOSTILE_CN}{k}" for k in (
        "sha256", "sha1", "subject", "issuer", "subject_cn", "issuer_cn", "serial", "key_type", "curve",
        "signature_algorithm", "known_ca", "client_cert_kind")}
    row = {**evil, "key_bits": 2048, "not_before": pd.Timestamp("2023-01-01", tz="UTC"),
           "not_after": pd.Timestamp("2024-01-01", tz="UTC"), "san_dns": [HOSTILE_CN], "san_ip": [],
           "roles": [HOSTILE_ORG], "flow_ids": [1], "errors": [HOSTILE_ORG], "key_usage": [],
           "extended_key_usage": [], "self_signed": False, "is_ca": None}
    markup = CertView(row, at=pd.Timestamp("2023-06-01", tz="UTC"), position=HOSTILE_ORG)._repr_html_()
    p = parse(markup)
    assert not {"script", "img"} & {t for t, _ in p.tags}
    assert not any(k.startswith("on") for _, a in p.tags for k in a)
    # a flow row whose every string is hostile
    certs = pd.DataFrame([{**row, "sha256": "ab" * 32}])
    flow = {"flow_id": 1, "client_ip": HOSTILE_CN, "client_port": 1, "server_ip": HOSTILE_ORG,
            "server_port": 443, "tls_version": HOSTILE_CN, "cipher": HOSTILE_ORG, "sni": HOSTILE_CN,
            "alerts": [HOSTILE_CN], "outcome": HOSTILE_ORG, "outcome_detail": HOSTILE_CN,
            "server_chain_sha256": ["ab" * 32, "cd" * 32], "client_chain_sha256": [],
            "client_cert_kind": HOSTILE_CN, "requested_ca_names": [HOSTILE_ORG], "client_cert_requested": True,
            "warnings": [HOSTILE_CN], "ts_start": pd.Timestamp("2023-06-01", tz="UTC"), "certs_visible": True}
    findings = pd.DataFrame([{"flow_id": 1, "severity": HOSTILE_ORG, "code": HOSTILE_CN,
                              "message": HOSTILE_CN, "fix": HOSTILE_ORG}])
    markup = FlowView(flow, certs, findings)._repr_html_()
    p = parse(markup)
    assert not {"script", "img"} & {t for t, _ in p.tags}
    assert not any(k.startswith("on") for _, a in p.tags for k in a)
    assert "&lt;script&gt;" in markup


# ---- LSC / MIC badges ---------------------------------------------------------------------------

def test_lsc_and_mic_badges_on_the_right_flows(mix):
    flows = mix.flows
    for row in flows.itertuples():
        badges = badge_classes(mix.flow(row.flow_id)._repr_html_())
        kind = None if pd.isna(row.client_cert_kind) else row.client_cert_kind
        assert ("lsc" in badges) == (kind == "LSC"), (row.flow_id, badges)
        assert ("mic" in badges) == (kind == "MIC"), (row.flow_id, badges)
    kinds = dict(zip(flows.flow_id, flows.client_cert_kind))
    assert {"LSC", "MIC"} <= {k for k in kinds.values() if not pd.isna(k)}
    lsc = next(f for f, k in kinds.items() if k == "LSC")
    mic = next(f for f, k in kinds.items() if k == "MIC")
    # the badge sits on the client leaf, not on the server chain
    assert "lsc" in badge_classes(mix.chain(lsc, side="client")._repr_html_())
    assert not {"lsc", "mic"} & badge_classes(mix.chain(lsc, side="server")._repr_html_())
    assert "mic" in badge_classes(mix.chain(mic, side="client")._repr_html_())
    assert "[LSC]" in repr(mix.flow(lsc)) and "[MIC]" in repr(mix.flow(mic))
    # the CUCM CallManager certificate is self-signed
    assert "self-signed" in badge_classes(mix.chain(lsc, side="server")._repr_html_())


def test_flow_view_contents(mix):
    lsc = int(mix.flows.loc[mix.flows.client_cert_kind == "LSC", "flow_id"].iloc[0])
    view = mix.flow(lsc)
    markup = view._repr_html_()
    p = parse(markup)
    outcome = [a for t, a in p.tags if "ti-outcome" in (a.get("class") or "").split()]
    assert outcome and outcome[0]["data-outcome"] == "failed"
    text = "".join(p.text)
    for needle in ("SIP-TLS", "TLS 1.2", "server:fatal:unknown_ca", "CAPF-0badc0de", "fix:", "unknown_ca"):
        assert needle in text, needle
    assert sum(1 for t, a in p.tags if a.get("class") == "ti-finding") == len(
        mix.findings[mix.findings.flow_ids.map(lambda ids: lsc in list(ids))])  # shared ones included
    # TLS 1.3 flow: no certificates, said so
    tls13 = int(mix.flows.loc[mix.flows.tls_version == "TLS 1.3", "flow_id"].iloc[0])
    assert "not visible" in mix.chain(tls13)._repr_html_()
    assert "no certificates" in repr(mix.chain(tls13))


def test_capture_summary_and_lookups(mix):
    markup = mix._repr_html_()
    p = parse(markup)
    counts = {a["data-outcome"]: "".join(p.text) for t, a in p.tags
              if "ti-outcome-count" in (a.get("class") or "").split()}
    expected = mix.flows.outcome.value_counts()
    assert set(counts) == set(expected.index)
    for outcome, n in expected.items():
        assert f"{n} {outcome}" in "".join(p.text)
    assert "unknown_ca" in "".join(p.text)
    fp = mix.certificates.sha256.iloc[0]
    assert mix.cert(fp[:8].upper()).sha256 == fp
    with pytest.raises(KeyError):
        mix.cert("zz")
    with pytest.raises(KeyError):
        mix.cert("")  # matches all
    with pytest.raises(KeyError):
        mix.flow(999)
    with pytest.raises(ValueError):
        mix.chain(1, side="middle")
    assert repr(mix).startswith("<Capture ")  # the existing repr is untouched


# ---- validity bars ------------------------------------------------------------------------------

def test_validity_bar_marks_the_expired_root(expired):
    """expired_root_443: the leaf is valid, the AddTrust root it chains to (not sent) had expired."""
    markup = expired.flow(1)._repr_html_()
    assert validity_states(markup) == ["valid", "expired"]
    p = parse(markup)
    missing = [a for t, a in p.tags if "ti-cert-missing" in (a.get("class") or "").split()]
    assert len(missing) == 1
    assert "expired" in badge_classes(expired.chain(1)._repr_html_())
    text = "".join(p.text)
    assert "AddTrust External CA Root" in text and "EXPIRED" in text and "2020-05-30" in text
    marks = [a for t, a in p.tags if a.get("class") == "ti-validity-mark"]
    assert marks and all("capture 2023-11-14" in a["title"] for a in marks)


def test_validity_bar_marks_an_expired_certificate(expired):
    """The same leaf judged at a later capture time is expired; earlier, not yet valid."""
    row = expired.certificates.iloc[0]
    later = CertView(row, at=pd.Timestamp("2035-06-01", tz="UTC"))
    assert later.state == "expired" and validity_states(later._repr_html_()) == ["expired"]
    assert "expired" in badge_classes(later._repr_html_()) and "[expired]" in repr(later)
    earlier = CertView(row, at=pd.Timestamp("2022-06-01", tz="UTC"))
    assert validity_states(earlier._repr_html_()) == ["not_yet_valid"]
    # the capture-time mark sits right of the validity period when expired
    bar = validity_bar(row.not_before, row.not_after, pd.Timestamp("2035-06-01", tz="UTC"))
    left = lambda cls: float(re.search(rf'class="{cls}"[^>]*left:([0-9.]+)%', bar).group(1))  # noqa: E731
    width = float(re.search(r'class="ti-validity-period"[^>]*width:([0-9.]+)%', bar).group(1))
    assert left("ti-validity-mark") > left("ti-validity-period") + width
    assert validity_states(validity_bar(None, None, None)) == ["unknown"]


def test_chain_view_handles_unknown_fingerprints(mix):
    view = ChainView.from_fingerprints(["00" * 32], mix.certificates, side="server")
    assert "not decoded" in view._repr_html_()
    parse(view._repr_html_())


# ---- the notebook -------------------------------------------------------------------------------

def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert "../pcaps/cisco_lab_mix.pcapng" in "".join("".join(c["source"]) for c in code)


def test_notebook_runs_top_to_bottom(tmp_path):
    """Execute every cell in a kernel started from sys.executable (the venv's Python).

    A kernelspec written into a temp dir and a KernelSpecManager that only looks there: whatever
    "python3" kernels the machine has installed elsewhere, the kernel is this interpreter.
    """
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = tmp_path / "kernels" / "tlsinspect-test"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tlsinspect test kernel", "language": "python",
        # inline plots whatever MPLBACKEND the machine sets; temp files (the PEM export) and the
        # IPython profile (no user startup scripts) inside tmp_path
        "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "TMPDIR": str(tmp_path),
                "IPYTHONDIR": str(tmp_path / "ipython"), "PYTHONWARNINGS": "ignore::DeprecationWarning"},
    }))
    ksm = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    km = KernelManager(kernel_name="tlsinspect-test", kernel_spec_manager=ksm,
                       connection_file=str(tmp_path / "kernel-connection.json"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))  # which Python ran it
    client = nbclient.NotebookClient(nb, km=km, timeout=60, startup_timeout=60, allow_errors=False,
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell

    assert nb.cells[-1].outputs[0]["text"].strip() == sys.executable
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    htmls = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("ti-capture" in h for h in htmls), "the Capture summary was not shown"
    assert any("ti-flow" in h and "ti-badge-lsc" in h for h in htmls), "the LSC flow view was not shown"
    assert any("ti-chain" in h for h in htmls)
    assert any('ti-cert-missing' in h and 'data-state="expired"' in h for h in htmls), "expired root"
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2, "both plots should render"
    pems = list(tmp_path.glob("tlsinspect-pem-*/*.pem"))
    cap = inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")
    assert len(pems) == len(cap.certificates) + 1  # one per certificate, plus a chain bundle
    assert all(p.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----") for p in pems)


# ---- the ladder and trust verdicts in cap.flow(n) (the same renderer as the HTML report) --------

def test_flow_view_draws_the_ladder_of_its_messages():
    cap = inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")
    markup = cap.flow(2)._repr_html_()
    p = parse(markup)
    arrows = [a for t, a in p.tags if t == "g" and a.get("class", "").startswith("ti-arrow")]
    msgs = cap.messages[cap.messages.flow_id == 2]
    assert [a["data-name"] for a in arrows] == list(msgs["name"])
    assert [a["data-sender"] for a in arrows] == list(msgs["sender"])
    fail = [a for a in arrows if "ti-fail" in a["class"]]
    assert [(a["data-sender"], a["data-name"], a["data-frame"]) for a in fail] == [("server", "fatal unknown_ca", "30")]
    verdicts = {a["data-status"] for t, a in p.tags if a.get("class") == "ti-verdict"}
    assert verdicts == {"self_signed", "unknown_issuer:CAPF-0badc0de"}


def test_flow_view_from_a_row_alone_has_no_ladder():
    cap = inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")
    view = FlowView(cap.flows.iloc[0], cap.certificates, cap.findings)
    assert "ti-ladder" not in view._repr_html_() and "ti-verdict" not in view._repr_html_()
