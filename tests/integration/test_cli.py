"""The tlsinspect command as a user runs it: exit codes, formats, and no tracebacks."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from inspector.cli.app import app, main

runner = CliRunner()


def run(*args):
    return runner.invoke(app, ["report", *map(str, args)])


def test_table_report_names_failed_flows_and_alerts(lab_capture, lab_expect):
    r = run(lab_capture)
    assert r.exit_code == 0, r.output
    assert f"{len(lab_expect)} TLS flows" in r.output
    assert "server sent fatal unknown_ca after the client's Certificate" in r.output
    assert "client sent fatal unknown_ca after the server's Certificate" in r.output
    assert "CAPF-0badc0de" in r.output  # the rejected LSC's issuer, in the chain tree
    assert "SIP-TLS" in r.output and "TFTP-HTTPS" in r.output


def test_json_carries_flows_certificates_events(lab_capture, lab_expect):
    r = run(lab_capture, "--format", "json")
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert [f["outcome"] for f in doc["flows"]] == [
        "established" if e["established"] else "failed" for e in lab_expect]
    assert doc["flows"][0]["client_cert_kind"] == "MIC"
    assert doc["flows"][1]["alerts"] == ["server:fatal:unknown_ca"]
    fps = {c["sha256"] for c in doc["certificates"]}
    assert set(doc["flows"][2]["server_chain_sha256"]) <= fps
    assert {e["code"] for e in doc["events"] if e["kind"] == "alert"} == {"unknown_ca"}


def test_csv_and_parquet_outputs(lab_capture, lab_expect, tmp_path):
    out = tmp_path / "flows.csv"
    assert run(lab_capture, "--format", "csv", "-o", out).exit_code == 0
    df = pd.read_csv(out)
    assert list(df.server_port) == [e["server_port"] for e in lab_expect]
    pq = tmp_path / "certs.parquet"
    assert run(lab_capture, "--format", "parquet", "--table", "certificates", "-o", pq).exit_code == 0
    certs = pd.read_parquet(pq)
    assert "CN=CAPF-0badc0de" in " ".join(certs.issuer.dropna())


def test_csv_escapes_formula_cells():
    from inspector.output.report import _csv_safe
    assert _csv_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _csv_safe("cucm1.example.lab") == "cucm1.example.lab"


@pytest.mark.parametrize("content", [b"", b"not a capture at all\n", b"\xd4\xc3\xb2\xa1"])
def test_unusable_input_is_one_line_and_exit_2(tmp_path, content):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "inspector", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("tlsinspect: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_missing_file_and_directory(tmp_path):
    for target in (tmp_path / "nope.pcap", tmp_path):
        proc = subprocess.run([sys.executable, "-m", "inspector", str(target)], capture_output=True, text=True)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_options_before_the_file(lab_capture, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--format", "json", "--quiet", str(lab_capture)])
    assert e.value.code == 0
    assert json.loads(capsys.readouterr().out)["flows"]


def test_fifo_is_read_as_a_stream(tmp_path, lab_capture, lab_expect):
    """A FIFO (like process substitution) is read as it comes, not refused."""
    import os
    import threading
    fifo = tmp_path / "capture.pcap"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as w:
            w.write(lab_capture.read_bytes())
    t = threading.Thread(target=feed)
    t.start()
    proc = subprocess.run([sys.executable, "-m", "inspector", str(fifo), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    t.join()
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["flows"]) == len(lab_expect)


def test_limits_are_options_and_hitting_one_is_a_warning(tmp_path):
    out = tmp_path / "f.json"
    r = runner.invoke(app, ["report", "pcaps/ca_chain_8443.pcap", "--max-certs", "1", "--format", "json",
                            "-o", str(out)])
    assert r.exit_code == 0
    flow = json.loads(out.read_text())["flows"][0]
    assert len(flow["server_chain_sha256"]) == 1 and "too_many_certificates" in flow["warnings"]
    assert flow["outcome"] == "established"


def test_stream_mode_gives_the_same_rows(lab_capture, tmp_path):
    """--stream writes rows as flows end (ids in that order) but reports the same flows."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert runner.invoke(app, ["report", str(lab_capture), "--format", "csv", "-o", str(a)]).exit_code == 0
    assert runner.invoke(app, ["report", str(lab_capture), "--format", "csv", "--stream", "-o", str(b)]).exit_code == 0
    key = ["client_port", "server_port", "outcome", "alerts", "server_chain_sha256", "server_validation"]
    normal = pd.read_csv(a)[key].sort_values("client_port").reset_index(drop=True)
    streamed = pd.read_csv(b)[key].sort_values("client_port").reset_index(drop=True)
    pd.testing.assert_frame_equal(normal, streamed)
    findings = tmp_path / "f.csv"
    r = runner.invoke(app, ["report", str(lab_capture), "--format", "csv", "--stream", "--table", "findings",
                            "-o", str(findings), "--fail-on", "critical"])
    assert r.exit_code == 1 and "unknown_ca" in findings.read_text()
    assert runner.invoke(app, ["report", str(lab_capture), "--stream"]).exit_code == 2


def test_an_internal_error_is_one_line_not_a_traceback(lab_capture, monkeypatch, capsys):
    import inspector.api

    def boom(*a, **k):
        raise RuntimeError("simulated bug")
    monkeypatch.setattr(inspector.api, "read_capture", boom)
    monkeypatch.delenv("TLSINSPECT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as e:
        main([str(lab_capture)])
    assert e.value.code == 3
    err_text = capsys.readouterr().err
    assert "internal error: RuntimeError: simulated bug" in err_text and "Traceback" not in err_text


def test_tshark_engine_on_the_command_line(lab_capture, lab_expect):
    r = runner.invoke(app, ["report", str(lab_capture), "--engine", "tshark", "--format", "json"])
    assert r.exit_code == 0, r.output
    flows = json.loads(r.output)["flows"]
    assert [f["outcome"] for f in flows] == ["established" if e["established"] else "failed" for e in lab_expect]


def test_service_role_names_spa_provisioning():
    r = runner.invoke(app, ["report", "pcaps/spa_provisioning_dhe2048_443.pcap"])
    assert r.exit_code == 0 and "provisioning" in r.output
    assert "dh_key_too_large_for_legacy" in r.output
    r = runner.invoke(app, ["report", "pcaps/tls13_443.pcap"])
    assert "provisioning" not in r.output and "HTTPS" in r.output
