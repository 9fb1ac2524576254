"""pyshark's flattened layers rebuilt into records and messages.

pyshark flattens each protocol layer into ``name -> [fields]``; every field keeps its byte
position and size, so the record/message structure is rebuilt from them (`records_of`): a
``tls.record`` owns the fields inside its byte range, a ``tls.handshake`` the fields inside its
own.  The field readers (`as_int`, `as_bytes`, `label_of`, `text_of`) read tshark's raw values.
"""

from __future__ import annotations

from typing import Any

_CTRL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)}


def as_int(f: Any) -> int | None:
    """A tshark integer field from its raw hex value (falls back to ``show``)."""
    raw = getattr(f, "raw_value", None)
    try:
        if raw:
            return int(raw, 16)
        show = getattr(f, "show", None)
        if show:
            return int(show, 0)
    except (TypeError, ValueError):
        pass
    return None


def as_bytes(f: Any) -> bytes:
    raw = getattr(f, "raw_value", None) or ""
    try:
        return bytes.fromhex(raw)
    except ValueError:
        return b""


def label_of(f: Any) -> str | None:
    """``"Cipher Suite: TLS_AES_128_GCM_SHA256 (0x1301)"`` -> ``"TLS_AES_128_GCM_SHA256"``;
    a value tshark has no name for (``"Unknown (0x6399)"``) -> ``"0x6399"``."""
    text = getattr(f, "showname", None) or ""
    if ": " in text:
        text = text.split(": ", 1)[1]
    if " (" in text:
        text = text.rsplit(" (", 1)[0]
    text = text.strip()
    if not text or text.lower().startswith("unknown") or text.lower() == "reserved":
        code = as_int(f)
        return None if code is None else f"0x{code:04x}"
    return text


def text_of(raw: bytes) -> str:
    s = raw.decode("ascii", "backslashreplace")
    if not (s.isprintable() and s.isascii()):
        s = s.translate(_CTRL_ESCAPES)
    return s


class Msg:
    __slots__ = ("start", "end", "fields")

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.fields: dict[str, list[Any]] = {}

    def add(self, name: str, f: Any) -> None:
        self.fields.setdefault(name, []).append(f)

    def first(self, name: str) -> Any:
        v = self.fields.get(name)
        return v[0] if v else None

    def all(self, name: str) -> list[Any]:
        return self.fields.get(name, [])


class Record(Msg):
    __slots__ = ("messages",)

    def __init__(self, start: int, end: int) -> None:
        super().__init__(start, end)
        self.messages: list[Msg] = []


def records_of(layer: Any) -> list[Record]:
    """Rebuild records and their handshake messages from a flattened pyshark TLS layer."""
    items = []
    for container in getattr(layer, "_all_fields", {}).values():
        for f in getattr(container, "all_fields", (container,)):
            try:
                pos, size = int(f.pos), int(f.size)
            except (TypeError, ValueError, AttributeError):
                continue
            items.append((pos, -size, len(items), f))
    items.sort(key=lambda t: (t[0], t[1], t[2]))
    recs: list[Record] = []
    rec: Record | None = None
    msg: Msg | None = None
    msgs: list[Msg] = []
    for pos, negsize, _i, f in items:
        name = f.name or ""
        end = pos - negsize
        if name == "tls.record":
            rec = Record(pos, end)
            recs.append(rec)
            msg = None
            continue
        if rec is None:  # fields before any record header (should not happen): a pseudo record
            rec = Record(pos, end)
            recs.append(rec)
        if name == "tls.handshake":
            msg = Msg(pos, end)
            msgs.append(msg)
            rec.messages.append(msg)
            continue
        if name.startswith("tls.handshake.ja3"):
            # generated at the end of its hello, which may be the start of the next message
            hello = next((m for m in reversed(msgs)
                          if as_int(m.first("tls.handshake.type")) in (1, 2)), None)
            if hello is not None:
                hello.add(name, f)
                continue
        if msg is not None and (pos < msg.end or (negsize == 0 and pos <= msg.end)) \
                and not name.startswith("tls.record."):
            msg.add(name, f)
        else:
            rec.add(name, f)
    return recs
