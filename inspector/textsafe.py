"""One escaping rule for every human-facing output (tables, trees, findings, ``certs``, notebook
``repr``, HTML, CSV cells).

Text read from a capture (a certificate subject, an SNI, an ALPN, a file name in a key log error)
is attacker-chosen.  Written raw to a terminal, ``ESC[2J`` clears the screen, an OSC 8 sequence
plants a hyperlink, a bidi override (U+202E) makes ``exe.pdf`` read as ``fdp.exe``.  `visible`
shows each such character as a visible escape instead, so what is printed is what was sent:

- C0 controls U+0000-U+001F (tab and newline included: one value, one line) and DEL U+007F
  -> ``\\x1b``, ``\\x7f``;
- C1 controls U+0080-U+009F (``\\x9b`` is a one-byte CSI on some terminals) -> ``\\x9b``;
- bidi embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069, and the line and
  paragraph separators U+2028, U+2029 -> ``\\u202e``.

Everything else (accents, CJK, emoji) is shown as is.  `csv_cell` applies the same rule to a CSV
cell, so no raw control byte reaches a spreadsheet or a terminal that ``cat``s the file.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["UNSAFE_CHARS", "visible", "visible_multiline", "csv_cell", "is_safe"]

#: The characters `visible` escapes, as a regular-expression character class (the single source
#: of truth: the Rust port and the HTML renderer use the same set).
UNSAFE_CHARS = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"

_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")
_UNSAFE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(text: Any) -> str:
    """``str(text)`` with every control character (C0, DEL, C1) and every bidi override or
    isolate shown as a visible escape (``\\x1b``, ``\\u202e``).  ``None`` becomes ``""``."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if _UNSAFE.search(s) is None:
        return s
    return _UNSAFE.sub(_escape, s)


def visible_multiline(text: Any) -> str:
    """As `visible`, but newlines are kept (for a block of text the program itself wrapped)."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if _UNSAFE_BUT_NEWLINE.search(s) is None:
        return s
    return _UNSAFE_BUT_NEWLINE.sub(_escape, s)


def is_safe(text: str) -> bool:
    """True when `visible` would leave ``text`` unchanged."""
    return _UNSAFE.search(text) is None


def csv_cell(value: Any) -> Any:
    """A CSV cell free of raw control bytes: strings go through `visible` (numbers, booleans and
    ``None`` are returned unchanged, so the writer formats them as before)."""
    if isinstance(value, str):
        return visible(value)
    return value
