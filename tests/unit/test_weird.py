"""One registry of anomaly codes (inspector.weird): every code the engines emit is in it, the Rust
engine's anomaly enums map onto it, the README's warnings table is generated from it."""

import re
from pathlib import Path

import pytest

import inspector
from inspector.weird import WEIRD_CODES, Weird, lookup, rust_codes, warnings_markdown
from corpus import ANY_CAPTURE_SUFFIXES, CORPUS, DATA, PCAPS, capture_files, corpus_files

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


BUNDLED = capture_files(PCAPS, ANY_CAPTURE_SUFFIXES) + capture_files(DATA, ANY_CAPTURE_SUFFIXES)

try:
    from inspector import _core
except ImportError:  # no built extension: the Rust checks are skipped
    _core = None


def _emitted_codes(path: Path, engine: str) -> set[str]:
    a = inspector.read_capture(path, engine=engine).analysis
    codes = {w for f in a.flows for w in f.warnings}
    codes |= {e.code for e in a.events if e.kind == "warning"}
    codes |= {w.split(":", 1)[0] for w in a.capture_warnings}
    return codes


ENGINES = ["python"] + (["rust"] if _core is not None else [])


@pytest.mark.parametrize("engine", ENGINES)
def test_every_code_emitted_on_the_captures_is_registered(engine):
    """pcaps/, tests/data and (where it is) the public corpus, whose captures emit the most codes."""
    assert len(BUNDLED) >= 20
    emitted: dict[str, str] = {}
    for path in BUNDLED + corpus_files():
        for code in _emitted_codes(path, engine):
            emitted.setdefault(code, path.name)
    unregistered = {c: f for c, f in emitted.items() if lookup(c) is None}
    assert not unregistered, f"add these codes to inspector/weird.py: {unregistered}"
    # the captures do exercise the registry (flow and capture codes)
    assert {"keylog_beside", "timestamp_out_of_range"} <= set(emitted)
    if CORPUS is not None:
        assert {"midstream", "cert_parse_error", "capture_truncated", "downgrade_sentinel_tls12"} <= set(emitted)


def test_lookup_finds_codes_and_families_and_refuses_others():
    assert lookup("content_gap").scope == "flow"
    assert lookup("capture_truncated").scope == "capture"
    assert lookup("capture_truncated").severity == "error"
    assert lookup("bad_certificate_request").code == "bad_*"
    assert lookup("malformed_alpn").code == "malformed_*"
    assert lookup("malformed_use_srtp").code == "malformed_use_srtp"  # the exact entry wins
    assert lookup("bad_") is None and lookup("no_such_code") is None and lookup("") is None


def test_registry_is_well_formed():
    codes = [w.code for w in WEIRD_CODES]
    assert len(codes) == len(set(codes))
    for w in WEIRD_CODES:
        assert re.fullmatch(r"[a-z][a-z0-9_]*\*?", w.code), w.code
        assert w.severity in ("info", "warning", "error"), w
        assert w.scope in ("flow", "capture"), w
        assert w.engines and set(w.engines) <= {"python", "rust", "tshark"}, w
        assert w.meaning and "|" not in w.meaning, w


def _sources(engine: str) -> str:
    pkg = ROOT / "inspector"
    if engine == "rust":
        files = list((ROOT / "rust" / "core" / "src").rglob("*.rs")) + [pkg / "engines" / "rust.py"]
    elif engine == "tshark":
        files = list((pkg / "engines" / "tshark").rglob("*.py"))
    else:
        tshark = pkg / "engines" / "tshark"
        others = {pkg / "weird.py", pkg / "engines" / "rust.py"}
        files = [p for p in pkg.rglob("*.py") if p not in others and tshark not in p.parents]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


@pytest.mark.parametrize("engine", ["python", "rust", "tshark"])
def test_engines_column_says_which_sources_emit_the_code(engine):
    """A code the registry gives to an engine appears (quoted) in that engine's source, and an
    engine whose source emits the code is named (enum codes are checked through `_core`)."""
    src = _sources(engine)
    wrong = []
    for w in WEIRD_CODES:
        if w.family or w.rust_enum:
            continue
        in_source = re.search(r"[\"']" + re.escape(w.code) + r"[\"']", src) is not None
        if in_source != (engine in w.engines):
            wrong.append(w.code)
    assert not wrong, f"engines column of {wrong} disagrees with the {engine} source"


@pytest.mark.skipif(_core is None, reason="inspector._core is not built")
def test_rust_anomaly_enums_equal_the_registry_rust_codes():
    assert set(_core.warning_codes()) == rust_codes()
    assert len(_core.warning_codes()) == len(set(_core.warning_codes()))


def test_readme_warnings_table_is_generated_from_the_registry():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- warnings:start -->\n(.*)<!-- warnings:end -->", text, re.S)
    assert m, "README lost its warnings markers"
    assert m.group(1) == warnings_markdown(), "run: python -m inspector.weird, and paste into README"


def test_weird_is_a_frozen_record():
    w = Weird(code="content_gap", frame=7, ts=1.5, detail="bytes are missing")
    assert (w.code, w.frame, w.ts, w.detail) == ("content_gap", 7, 1.5, "bytes are missing")
    with pytest.raises(AttributeError):
        w.code = "midstream"  # type: ignore[misc]
    assert not hasattr(w, "__dict__")
