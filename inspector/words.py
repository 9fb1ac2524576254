"""How a count reads in a sentence, the one rule for every human-facing line:
``counted(1, "flow")`` -> ``"1 flow"``, ``counted(1500, "frame")`` -> ``"1,500 frames"``."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with thousands separators and `noun`, in the plural (`plural`, or `noun` + "s")
    unless `n` is 1."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
