"""Layout of the Rust crates (issue 15): a module per pipeline stage, and no source file over
~600 lines without a reason in its module doc (``//!``: "over 600 lines because ...").

The Python side has the same rule in ``tests/unit/test_layout.py``; this reads ``rust/core/src`` and
``rust/py/src`` as text (no cargo needed).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "rust" / "core" / "src", ROOT / "rust" / "py" / "src"]
MAX_LINES = 600

#: the stages of the engine, each a module of tlsinspect-core (issue 15)
STAGES = ("capture", "link", "ip", "tcp", "tls", "dtls", "quic", "eap", "flow", "udp", "engine")


def module_doc(text: str) -> str:
    """The module's inner doc comment (every ``//!`` line), as one line of words."""
    lines = [line.strip()[3:] for line in text.splitlines() if line.strip().startswith("//!")]
    return " ".join(" ".join(lines).split())


def long_without_reason(paths: list[Path]) -> list[Path]:
    """The files of ``paths`` over MAX_LINES whose module doc gives no reason."""
    out = []
    for path in paths:
        text = path.read_text()
        if len(text.splitlines()) > MAX_LINES and "over 600 lines because" not in module_doc(text).lower():
            out.append(path)
    return out


def rust_files() -> list[Path]:
    return sorted(p for src in SOURCES for p in src.rglob("*.rs"))


def test_the_reason_is_read_from_the_module_doc_only(tmp_path: Path) -> None:
    body = "fn f() {}\n" * 601
    cases = {
        "short.rs": ("//! short\n", False),
        "explained.rs": ("//! The tables. Over 600 lines\n//! because they are generated.\n" + body, False),
        "item_doc.rs": ("/// over 600 lines because of this function\n" + body, True),
        "plain_comment.rs": ("// over 600 lines because nobody split it\n" + body, True),
        "silent.rs": ("//! A module.\n" + body, True),
    }
    for name, (text, _) in cases.items():
        (tmp_path / name).write_text(text)
    flagged = {p.name for p in long_without_reason([tmp_path / n for n in cases])}
    assert flagged == {n for n, (_, want) in cases.items() if want}


def test_no_rust_module_over_600_lines_without_a_reason() -> None:
    files = rust_files()
    assert len(files) > 30  # the crates are there
    unexplained = [f"{p.relative_to(ROOT).as_posix()} ({len(p.read_text().splitlines())} lines)"
                   for p in long_without_reason(files)]
    assert unexplained == [], "split these, or say why in their //! doc: " + ", ".join(unexplained)


def test_the_crate_has_a_module_per_stage() -> None:
    src = ROOT / "rust" / "core" / "src"
    declared = set(re.findall(r"^pub mod (\w+);", (src / "lib.rs").read_text(), re.M))
    missing = [s for s in STAGES if s not in declared]
    assert missing == [], f"stages without a module in lib.rs: {missing}"
    no_file = [s for s in STAGES if not (src / f"{s}.rs").exists() and not (src / s / "mod.rs").exists()]
    assert no_file == [], f"stage modules without a file: {no_file}"
