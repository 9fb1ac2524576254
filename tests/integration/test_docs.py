"""The README tells the truth: its schema section is the one the code produces."""

import re
from pathlib import Path

from inspector.frame import schema_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_schema_matches_code():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- schema:start -->\n(.*)<!-- schema:end -->", text, re.S)
    assert m, "README lost its schema markers"
    assert m.group(1) == schema_markdown(), "run: python -m inspector.frame, and paste into README"


def test_readme_names_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text
