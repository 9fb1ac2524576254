"""The HTML report in a real browser: Debian's chromium, headless, driven over the Chrome DevTools
protocol on a pipe (``--remote-debugging-pipe``: no port, no extra package).

The page must load without a script error or a blocked request (its Content-Security-Policy forbids
any fetch, so one would show as a console error), the flow table must sort on a real mouse click and
filter on real typing, the ladder's arrows must spell the flow's history, and a hostile certificate
and SNI must stay text.  Screenshots (PNG) are kept in the test's temporary directory."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import pytest

import inspector
from inspector.output.html import write_report

from test_html_messages import letters

ROOT = Path(__file__).resolve().parents[2]
PCAPS = ROOT / "pcaps"
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make setup installs it)")
HOSTILE_CN = "<script>alert(1)</script>"
HOSTILE_SNI = "x<img src=x onerror=alert(2)>.example.lab"


class Browser:
    """A headless chromium and one page, spoken to in CDP messages (JSON + NUL) on fds 3 and 4."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 900) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def fds() -> None:  # in the child: its fd 3 reads our commands, fd 4 writes its answers
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--disable-dev-shm-usage", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=fds)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, *, session: bool = False, timeout: float = 60, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read_message(deadline)
            if m.get("method") == method:
                return m
            self.events.append(m)

    def open(self, path: Path) -> None:
        self.call("Page.navigate", session=True, url=path.resolve().as_uri())
        self.wait_event("Page.loadEventFired")

    def js(self, expression: str):
        r = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) at the middle of the element."""
        box = self.js(f"(function(){{var e=document.querySelector({json.dumps(selector)}); e.scrollIntoView({{block: \"center\"}});"
                      f"var r=e.getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2];}})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", session=True, type=kind, x=box[0], y=box[1],
                      button="left", clickCount=1)

    def type(self, text: str) -> None:
        self.call("Input.insertText", session=True, text=text)

    def screenshot(self, path: Path, full: bool = False) -> Path:
        params = {"format": "png"}
        if full:
            params["captureBeyondViewport"] = True
            h = self.js("document.documentElement.scrollHeight")
            params["clip"] = {"x": 0, "y": 0, "width": 1280, "height": min(int(h), 12000), "scale": 1}
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", session=True, **params)["data"]))
        return path

    def problems(self) -> list[str]:
        """Script exceptions, console errors, dialogs (an alert() would be one) seen so far."""
        out = []
        for m in self.events:
            meth, p = m.get("method"), m.get("params", {})
            if meth == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')} "
                           f"{p['exceptionDetails'].get('exception', {}).get('description', '')}")
            elif meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                out.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif meth == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif meth == "Page.javascriptDialogOpening":
                out.append(f"dialog: {p.get('message')}")
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path / "profile")
    yield b
    b.close()


@pytest.fixture(scope="module")
def lab():
    return inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")


def _flow_ids(b: Browser, visible_only: bool = False) -> list[int]:
    sel = "#ti-flows tbody tr" + (":not([hidden])" if visible_only else "")
    return b.js(f"Array.from(document.querySelectorAll('{sel}')).map(function(r){{return +r.dataset.flow;}})")


def test_report_loads_sorts_filters_and_draws_the_ladders(lab, browser, tmp_path):
    page = tmp_path / "report.html"
    write_report(lab, page)
    browser.open(page)
    shot = browser.screenshot(tmp_path / "report.png")
    browser.screenshot(tmp_path / "report-full.png", full=True)
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert browser.problems() == []

    flows = lab.flows
    assert _flow_ids(browser) == list(flows.flow_id)
    assert browser.js("document.getElementById('ti-count').textContent") == f"{len(flows)} of {len(flows)} flows"
    # the summary counts the outcomes
    counts = browser.js("Array.from(document.querySelectorAll('.ti-outcome-count')).map("
                        "function(e){return [e.dataset.outcome, +e.dataset.count];})")
    assert dict(counts) == flows.outcome.value_counts().to_dict()

    # sort: a click on "outcome" sorts ascending (ties by flow id), a second one descending
    heads = browser.js("Array.from(document.querySelectorAll('#ti-flows th')).map(function(e){return e.textContent;})")
    col = heads.index("outcome") + 1
    browser.click(f"#ti-flows th:nth-child({col})")
    want = list(flows.sort_values(["outcome", "flow_id"], kind="stable").flow_id)
    assert _flow_ids(browser) == want
    browser.click(f"#ti-flows th:nth-child({col})")
    got = _flow_ids(browser)
    by_id = dict(zip(flows.flow_id, flows.outcome))
    assert [by_id[i] for i in got] == sorted(flows.outcome, reverse=True)
    # numeric sort on "flow" (not 1, 10, 11, 2...)
    browser.click("#ti-flows th:nth-child(1)")
    assert _flow_ids(browser) == sorted(flows.flow_id)

    # filter by typing: every word must appear in the row
    browser.click("#ti-filter")
    browser.type("unknown_ca 6972")
    want = [int(f.flow_id) for f in flows.itertuples()
            if any("unknown_ca" in a for a in f.alerts) and f.server_port == 6972]
    assert want and _flow_ids(browser, visible_only=True) == want
    assert browser.js("document.getElementById('ti-count').textContent") == f"{len(want)} of {len(flows)} flows"
    browser.js("var i=document.getElementById('ti-filter'); i.value=''; i.dispatchEvent(new Event('input'))")
    browser.js("var s=document.getElementById('ti-outcome'); s.value='reset'; s.dispatchEvent(new Event('change'))")
    assert _flow_ids(browser, visible_only=True) == list(flows.flow_id[flows.outcome == "reset"])
    browser.screenshot(tmp_path / "report-filtered.png")

    # the ladder of every flow spells its history; the failing arrow is the alert, sent by its sender
    for f in flows.itertuples():
        arrows = browser.js(
            f"Array.from(document.querySelectorAll('svg.ti-ladder[data-flow=\"{f.flow_id}\"] g.ti-arrow')).map("
            "function(g){return {sender: g.dataset.sender, kind: g.dataset.kind, name: g.dataset.name,"
            " frame: +g.dataset.frame, fail: g.classList.contains('ti-fail')};})")
        import pandas as pd
        assert letters(pd.DataFrame(arrows)) == f.history, f.flow_id
        failing = [a for a in arrows if a["fail"]]
        if f.outcome == "failed":
            sender = f.outcome_detail.split(" ")[0]
            assert [(a["sender"], a["kind"]) for a in failing] == [(sender, "alert")], f.flow_id
            alert = lab.events[(lab.events.flow_id == f.flow_id) & (lab.events.kind == "alert")].iloc[0]
            assert failing[0]["frame"] == alert.frame
        elif f.outcome == "reset":
            assert [a["name"] for a in failing] in (["RST"], ["FIN"])
        else:
            assert failing == []
    # a ladder is drawn, not only present: its arrows have a size on screen
    browser.click('a[href="#flow-2"]')
    width = browser.js("document.querySelector('svg.ti-ladder[data-flow=\"2\"] g.ti-fail line')"
                       ".getBoundingClientRect().width")
    assert width > 200
    browser.screenshot(tmp_path / "report-flow2.png")
    assert browser.problems() == []
    print(f"screenshots in {tmp_path}")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A genuine handshake whose server certificate (CN, O, SAN) and SNI carry markup."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from synth import pki
    from synth.frames import tcp_packets
    from synth.handshake import client_context, run_handshake, server_context
    from synth.pcapio import write_capture

    ident = pki.make_leaf(HOSTILE_CN, self_signed=True, key="ec256", org='"><img src=x onerror=alert(3)>',
                          extra_name_attrs=[x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "</svg><b>x")])
    conv = run_handshake(server_context(ident, max_version=ssl.TLSVersion.TLSv1_2),
                         client_context(verify=False), sni=HOSTILE_SNI)
    path = tmp_path_factory.mktemp("hostile") / "hostile.pcap"
    write_capture(path, tcp_packets(conv, client=("10.0.0.1", 40000), server=("10.0.0.2", 443)))
    return inspector.read_capture(path)


def test_hostile_subject_and_sni_render_as_text(hostile, browser, tmp_path):
    assert hostile.flows.sni.iloc[0] == HOSTILE_SNI
    assert hostile.certificates.subject_cn.iloc[0] == HOSTILE_CN
    page = tmp_path / "hostile.html"
    write_report(hostile, page)
    browser.open(page)
    browser.screenshot(tmp_path / "hostile.png")
    assert browser.problems() == []  # no alert() dialog, no script error
    assert browser.js("document.querySelectorAll('img').length") == 0
    assert browser.js("document.querySelectorAll('script').length") == 1  # the page's own
    # the OU "</svg><b>x" closed nothing and opened nothing
    assert browser.js("Array.from(document.querySelectorAll('b')).filter(function(e){"
                      "return e.textContent === 'x';}).length") == 0
    assert browser.js("document.querySelectorAll('svg.ti-ladder g.ti-arrow').length") == len(hostile.messages)
    text = browser.js("document.body.innerText")
    assert HOSTILE_CN in text and HOSTILE_SNI in text
    # the filter finds the hostile SNI as plain text
    browser.click("#ti-filter")
    browser.type("onerror=alert(2)")
    assert _flow_ids(browser, visible_only=True) == [1]


def test_fleet_page_loads_and_sorts(browser, tmp_path):
    import io

    from rich.console import Console

    from inspector.batch import run_batch
    from inspector.fleet import fleet_summary
    from inspector.output.fleet import fleet_html

    out = tmp_path / "results"
    run_batch([str(PCAPS / n) for n in ("mic_5061.pcap", "lsc_5061.pcap", "lsc_rejected_unknown_ca.pcap",
                                        "cisco_lab_mix.pcapng")], out, jobs=1, quiet=True,
              console=Console(file=io.StringIO()))
    page = tmp_path / "fleet.html"
    page.write_text(fleet_html(fleet_summary(out)), encoding="utf-8")
    browser.open(page)
    browser.screenshot(tmp_path / "fleet.png")
    assert browser.problems() == []
    rows = "Array.from(document.querySelectorAll('#ti-phones tbody tr')).map(function(r){return +r.cells[5].textContent;})"
    assert len(browser.js(rows)) == 3
    browser.click("#ti-phones th:nth-child(6)")  # failed, ascending
    asc = browser.js(rows)
    browser.click("#ti-phones th:nth-child(6)")
    assert asc == sorted(asc) and browser.js(rows) == sorted(asc, reverse=True) and max(asc) > 0
