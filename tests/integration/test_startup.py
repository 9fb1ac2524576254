"""Start-up of the command line (issue 9): what ``tlsinspect FILE --format csv`` imports.
(The light path is the Rust engine's: the Python reference engine imports cryptography for its key-log decryption.)

Each run is a fresh interpreter under ``python -X importtime``, whose report on stderr names every
module imported; no timing is asserted, only which heavy packages were (not) imported.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PCAPS = ROOT / "pcaps"


def run_importtime(*args: str, code: str | None = None) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``python -X importtime -m inspector ARGS`` (or ``-c CODE``); (result, top-level packages
    imported)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TLSINSPECT_DEBUG", None)
    cmd = [sys.executable, "-X", "importtime"] + (["-c", code] if code is not None else ["-m", "inspector", *args])
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    imported = set()
    for line in res.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                imported.add(name.split(".")[0])
    return res, imported


def rust_built() -> bool:
    from inspector.engines import rust as rust_engine
    return rust_engine.available()


@pytest.fixture
def no_certificates(tmp_path: Path) -> Path:
    """A TLS 1.3 handshake without its key log: the certificates are encrypted, none is seen."""
    dst = tmp_path / "tls13_443.pcap"
    shutil.copy(PCAPS / "tls13_443.pcap", dst)  # not the .keylog lying beside the original
    return dst


def rows(stdout: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(stdout)))


def test_csv_without_certificates_imports_no_cryptography_pandas_or_pyarrow(no_certificates: Path) -> None:
    res, imported = run_importtime(str(no_certificates), "--engine", "rust", "--format", "csv")
    assert res.returncode == 0, res.stderr[-2000:]
    flows = rows(res.stdout)
    assert len(flows) == 1
    assert flows[0]["tls_version"] == "TLS 1.3"
    assert flows[0]["certs_visible"] == "False"
    assert flows[0]["server_subject"] == ""
    assert flows[0]["server_validation"] == "no_certificate"  # judged, without cryptography
    assert "inspector" in imported
    for heavy in ("typer", "click", "rich", "cryptography", "pandas", "pyarrow", "numpy"):
        assert heavy not in imported, f"{heavy} imported for a capture without certificates"


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_other_machine_formats_skip_typer_and_rich(no_certificates: Path, fmt: str) -> None:
    res, imported = run_importtime(str(no_certificates), "--format", fmt, "--quiet")
    assert res.returncode == 0, res.stderr[-2000:]
    import json
    doc = json.loads(res.stdout.splitlines()[0] if fmt == "jsonl" else res.stdout)
    assert (doc if fmt == "jsonl" else doc["flows"][0])["tls_version"] == "TLS 1.3"
    for heavy in ("typer", "click", "rich", "cryptography", "pandas", "pyarrow", "numpy"):
        assert heavy not in imported, f"{heavy} imported by --format {fmt}"


def test_the_table_and_usage_errors_still_go_through_typer(no_certificates: Path) -> None:
    """The check above can see typer and rich: the table report imports them."""
    res, imported = run_importtime(str(no_certificates))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "TLS flow" in res.stdout and {"typer", "rich"} <= imported
    res, imported = run_importtime(str(no_certificates), "--format", "csv", "--max-flows", "0")
    assert res.returncode == 2 and "typer" in imported
    assert res.stderr.splitlines()[-1].startswith("tlsinspect: ") and "--max-flows" in res.stderr


@pytest.mark.skipif(not rust_built(), reason="the Rust engine (inspector._core) is not built")
def test_csv_findings_without_certificates_stay_light(no_certificates: Path) -> None:
    """The findings table runs every diagnosis; none needs cryptography without a certificate."""
    res, imported = run_importtime(str(no_certificates), "--engine", "rust", "--format", "csv", "--table", "findings")
    assert res.returncode == 0, res.stderr[-2000:]
    for heavy in ("typer", "rich", "cryptography", "pandas", "pyarrow"):
        assert heavy not in imported, heavy


def test_csv_with_certificates_imports_no_pandas_or_pyarrow() -> None:
    res, imported = run_importtime(str(PCAPS / "cisco_lab_mix.pcapng"), "--engine", "rust", "--format", "csv")
    assert res.returncode == 0, res.stderr[-2000:]
    flows = rows(res.stdout)
    assert len(flows) == 11
    assert flows[0]["server_subject"].endswith("CN=cucm1.example.lab") or "cucm1.example.lab" in flows[0]["server_subject"]
    assert "cryptography" in imported  # the certificates were parsed, on demand
    for heavy in ("typer", "rich", "pandas", "pyarrow", "numpy"):
        assert heavy not in imported, f"{heavy} imported on the csv path"


def test_json_with_certificates_imports_no_pandas_or_pyarrow() -> None:
    res, imported = run_importtime(str(PCAPS / "cisco_lab_mix.pcapng"), "--engine", "rust", "--format", "json")
    assert res.returncode == 0, res.stderr[-2000:]
    assert '"subject_cn": "cucm1.example.lab"' in res.stdout
    assert "pandas" not in imported and "pyarrow" not in imported


def test_light_modules_import_no_cryptography_until_a_certificate_is_parsed() -> None:
    code = (
        "import sys\n"
        "import inspector, inspector.model, inspector.x509, inspector.trust, inspector.schema, inspector.diagnose\n"
        "assert 'cryptography' not in sys.modules, 'imported too early'\n"
        "from pathlib import Path\n"
        "from inspector.x509 import parse_certificate\n"
        "from inspector.trust import validate_chain, load_trust\n"
        "info = parse_certificate(b'not a certificate')\n"
        "assert 'cryptography' in sys.modules\n"
        "print(info.errors[0].split(':')[0])\n"
    )
    res, imported = run_importtime(code=code)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "cert_parse_error"


def test_lazy_names_become_the_real_objects() -> None:
    """After the first use, the placeholders are replaced: ``except InvalidSignature`` and
    ``isinstance`` see cryptography's own classes."""
    from inspector.trust import validate
    from inspector.x509 import parse

    parse.parse_certificate(b"\x30\x00")
    from cryptography.exceptions import InvalidSignature
    from cryptography.x509.oid import ExtendedKeyUsageOID

    assert parse.InvalidSignature is InvalidSignature
    assert validate.ExtendedKeyUsageOID.SERVER_AUTH == ExtendedKeyUsageOID.SERVER_AUTH
    assert validate.InvalidSignature is InvalidSignature


def test_old_homes_of_the_records_still_import() -> None:
    from inspector import flows, model
    from inspector.engines import python as engine

    assert flows.FlowRecord is model.FlowRecord and flows.Limits is model.Limits
    assert flows.EventRecord is model.EventRecord and flows.MessageRecord is model.MessageRecord
    assert engine.Analysis is model.Analysis and engine.CertSeen is model.CertSeen
    import inspector
    assert inspector.Limits is model.Limits
