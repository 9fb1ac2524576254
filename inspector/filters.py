"""``--filter EXPR``: a small, safe expression language over the columns of the flows table.

One grammar for the command line (``report``, ``live``) and for ``batch`` results; nothing is
ever passed to ``eval``.  A tokenizer and a recursive-descent parser build a tree of closures::

    expr    := or
    or      := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | compare
    compare := value [op value]          op: == != < <= > >= in, not in, contains, startswith
    value   := COLUMN | "string" | 'string' | number | true | false | null | [value, ...] | ( expr )

Examples: ``outcome == "failed" and server_port == 5061``, ``server_port in [5061, 2443]``,
``alerts contains "unknown_ca"``, ``not certs_visible``, ``sni startswith "cucm"``.

Semantics: a column that is missing in a row (NA) compares false with everything except
``== null`` (and ``!= null`` true); ``contains`` is a substring test on text and, on a list column
(``alerts``, ``warnings``, fingerprints), true when any element contains it; ``in`` tests
membership in a list (literal or column); a column alone is a truth test.  Keywords are case
insensitive.  An unknown column, a dangling operator or an unclosed string raises `FilterError`
with the position.  Expressions are bounded (length and nesting), so a hostile one cannot exhaust
the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from .errors import InspectError
from .model import is_missing as _na
from .schema import FLOW_COLUMNS

MAX_LENGTH = 4096
MAX_DEPTH = 64
FLOW_FIELDS = tuple(c.name for c in FLOW_COLUMNS)

#: ``--failed``: the flows whose handshake did not end well
FAILED = 'outcome in ["failed", "reset"]'


class FilterError(InspectError):
    """A filter expression that does not parse (message names the position)."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "name", "str", "num", "op", "punct", "end"
    value: Any
    pos: int


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[()\[\],])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
KEYWORDS = frozenset(("and", "or", "not", "in", "contains", "startswith", "true", "false", "null"))


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos] in "\"'":
                raise FilterError(f"unclosed string at column {pos + 1}")
            raise FilterError(f"unexpected character {text[pos]!r} at column {pos + 1}")
        kind = m.lastgroup
        raw = m.group()
        if kind == "num":
            out.append(Token("num", float(raw) if "." in raw else int(raw), pos))
        elif kind == "name":
            low = raw.lower()
            out.append(Token("kw", low, pos) if low in KEYWORDS else Token("name", raw, pos))
        elif kind == "str":
            body = raw[1:-1]
            out.append(Token("str", re.sub(r"\\(.)", lambda e: _ESCAPES.get(e.group(1), e.group(1)), body), pos))
        elif kind in ("op", "punct"):
            out.append(Token(kind, raw, pos))
        pos = m.end()
    out.append(Token("end", None, len(text)))
    return out


def _listish(v: Any) -> bool:
    return isinstance(v, (list, tuple)) or type(v).__name__ == "ndarray"


def _coerce(a: Any, b: Any) -> tuple[Any, Any]:
    """Numbers against numeric text compare as numbers ("5061" == 5061)."""
    if isinstance(a, str) and isinstance(b, (int, float)) and not isinstance(b, bool):
        try:
            return float(a), b
        except ValueError:
            return a, b
    if isinstance(b, str) and isinstance(a, (int, float)) and not isinstance(a, bool):
        try:
            return a, float(b)
        except ValueError:
            return a, b
    return a, b


def _compare(op: str, a: Any, b: Any) -> bool:
    if op in ("==", "!="):
        if _na(a) or _na(b):
            same = _na(a) and _na(b)
        else:
            a, b = _coerce(a, b)
            same = list(a) == list(b) if _listish(a) and _listish(b) else a == b
        return same if op == "==" else not same
    if _na(a) or _na(b):
        return False
    if op in ("in", "not in"):
        if not _listish(b):
            raise TypeError("in needs a list on its right")
        found = any(_compare("==", a, x) for x in b)
        return found if op == "in" else not found
    if op == "contains":
        needle = str(b)
        if _listish(a):
            return any(needle in str(x) for x in a)
        return needle in str(a)
    if op == "startswith":
        return str(a).startswith(str(b))
    a, b = _coerce(a, b)
    try:
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    except TypeError:
        return False


Getter = Callable[[Mapping[str, Any]], Any]


class _Parser:
    def __init__(self, text: str, fields: Iterable[str]) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.depth = 0
        self.fields = frozenset(fields)
        self.columns: set[str] = set()

    def peek(self) -> Token:
        return self.toks[self.i]

    def take(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def error(self, what: str, t: Token | None = None) -> FilterError:
        t = t or self.peek()
        got = "the end" if t.kind == "end" else repr(self.text[t.pos:t.pos + 20].split()[0])
        return FilterError(f"{what} at column {t.pos + 1}, found {got}")

    def is_kw(self, word: str) -> bool:
        t = self.peek()
        return t.kind == "kw" and t.value == word

    def parse(self) -> Getter:
        node = self.or_()
        if self.peek().kind != "end":
            raise self.error("expected and/or or the end")
        return node

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(f"expression nested deeper than {MAX_DEPTH} levels")

    def or_(self) -> Getter:
        parts = [self.and_()]
        while self.is_kw("or"):
            self.take()
            parts.append(self.and_())
        if len(parts) == 1:
            return parts[0]
        return lambda r: any(bool(p(r)) for p in parts)

    def and_(self) -> Getter:
        parts = [self.unary()]
        while self.is_kw("and"):
            self.take()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda r: all(bool(p(r)) for p in parts)

    def unary(self) -> Getter:
        if self.is_kw("not"):
            self.take()
            self._nest()
            inner = self.unary()
            self.depth -= 1
            return lambda r: not _truth(inner(r))
        return self.compare()

    def compare(self) -> Getter:
        left = self.value()
        t = self.peek()
        op = None
        if t.kind == "op":
            op = self.take().value
        elif t.kind == "kw" and t.value in ("in", "contains", "startswith"):
            op = self.take().value
        elif t.kind == "kw" and t.value == "not" and self.toks[self.i + 1].kind == "kw" \
                and self.toks[self.i + 1].value == "in":
            self.i += 2
            op = "not in"
        if op is None:
            return left
        right = self.value()
        return lambda r: _compare(op, left(r), right(r))

    def value(self) -> Getter:
        t = self.take()
        if t.kind == "name":
            if t.value not in self.fields:
                close = [f for f in sorted(self.fields) if f.split("_")[0] in t.value or t.value in f][:4]
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise FilterError(f"unknown column {t.value!r} at column {t.pos + 1}{hint}")
            self.columns.add(t.value)
            name = t.value
            return lambda r: r.get(name)
        if t.kind in ("str", "num"):
            v = t.value
            return lambda r: v
        if t.kind == "kw" and t.value in ("true", "false", "null"):
            v = {"true": True, "false": False, "null": None}[t.value]
            return lambda r: v
        if t.kind == "punct" and t.value == "(":
            self._nest()
            inner = self.or_()
            self.depth -= 1
            if not (self.peek().kind == "punct" and self.peek().value == ")"):
                raise self.error("expected ')'")
            self.take()
            return inner
        if t.kind == "punct" and t.value == "[":
            items: list[Getter] = []
            if self.peek().kind == "punct" and self.peek().value == "]":
                self.take()
                return lambda r: []
            while True:
                items.append(self.value())
                nxt = self.take()
                if nxt.kind == "punct" and nxt.value == "]":
                    break
                if not (nxt.kind == "punct" and nxt.value == ","):
                    raise self.error("expected ',' or ']' in a list", nxt)
            return lambda r: [g(r) for g in items]
        raise self.error("expected a column, a value or '('", t)


def _truth(v: Any) -> bool:
    if _na(v):
        return False
    if _listish(v):
        return len(v) > 0
    return bool(v)


@dataclass(frozen=True)
class Filter:
    """A compiled expression: ``matches(row)`` on a dict of flow columns."""

    text: str
    columns: frozenset[str]
    _fn: Getter

    def matches(self, row: Mapping[str, Any]) -> bool:
        try:
            return _truth(self._fn(row))
        except TypeError as e:  # e.g. `x in 5`: a mistake in the expression, found on a row
            raise FilterError(f"filter {self.text!r}: {e}") from None

    def mask(self, df) -> "Any":
        """A boolean pandas Series over a flows DataFrame (batch results, read_capture)."""
        import pandas as pd

        from datetime import datetime

        def norm(v: Any) -> Any:  # times compare as the ISO text the JSON/CSV rows carry
            if isinstance(v, datetime):
                return v.isoformat()
            return list(v) if _listish(v) else v

        cols = [c for c in self.columns if c in df.columns]
        rows = ([{k: norm(v) for k, v in r.items()} for r in df[cols].to_dict("records")] if cols
                else [{} for _ in range(len(df))])
        return pd.Series([self.matches(r) for r in rows], index=df.index, dtype=bool)


def compile_filter(text: str, fields: Iterable[str] = FLOW_FIELDS) -> Filter:
    """Parse ``text`` once; raise `FilterError` (one line, with the position) when it is wrong."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"filter longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise FilterError("empty filter expression")
    p = _Parser(text, fields)
    fn = p.parse()
    return Filter(text, frozenset(p.columns), fn)


def combine(exprs: Iterable[str | None]) -> Filter | None:
    """Several expressions (``--filter`` and ``--failed``) joined with ``and``; None if none.
    Each is compiled on its own, so an error's column is that of the user's own text."""
    parts = [compile_filter(e) for e in exprs if e]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    fns = [f._fn for f in parts]
    return Filter(" and ".join(f"({f.text})" for f in parts), frozenset().union(*(f.columns for f in parts)),
                  lambda r: all(_truth(fn(r)) for fn in fns))
