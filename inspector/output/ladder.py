"""A flow's handshake as a ladder diagram (inline SVG): client and server lifelines, one arrow per
row of the `messages` table.

Each arrow carries the message name, its time relative to the flow's first packet and its frame
number; alerts are red and the arrow that ended the handshake (the first fatal or encrypted alert
of a failed flow, or the RST/FIN of a reset one) is marked with its sender.  TCP retransmissions
are small markers on the sender's lifeline.  Rendering only, no pandas: ``messages`` is any
sequence of mappings with ``sender``, ``kind``, ``name``, ``frame`` and ``ts`` (seconds or
timestamps).  Every capture-derived string is escaped (`html.escape`, quotes too); colours and
geometry come from the fixed tables below or are numbers computed here.  Used by the Jupyter views
(`inspector.notebook.FlowView`) and the HTML report (`inspector.output.html`).
"""

from __future__ import annotations

import html
import math
from datetime import datetime
from typing import Any, Iterable, Mapping

from ..interpret import tls13_alert_at
from ..model import alert_level

__all__ = ["ladder_svg", "failing_index", "relative_time", "KIND_COLOURS"]

KIND_COLOURS = {
    "handshake": "#0550ae", "encrypted_handshake": "#6e7781", "change_cipher_spec": "#6e7781",
    "alert": "#cf222e", "application_data": "#1a7f37", "tcp": "#bf8700",
}
FAIL_COLOUR = "#a40e26"
WIDTH = 600
CLIENT_X, SERVER_X = 170, 470
ROW = 30
HEAD = 64
MAX_ARROWS = 64  # the engine keeps at most 64 messages per flow


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _seconds(v: Any) -> float | None:
    """Epoch seconds of a float, a datetime or a pandas Timestamp (None when missing)."""
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return None if isinstance(v, float) and math.isnan(v) else float(v)
    if isinstance(v, datetime):
        try:
            return v.timestamp()
        except (ValueError, OverflowError):  # NaT
            return None
    return None


def relative_time(dt: float | None) -> str:
    """``+0.412 ms``, ``+1.250 s``: a time after the flow's first packet."""
    if dt is None:
        return ""
    if abs(dt) < 1.0:
        return f"+{dt * 1000:.3f} ms"
    return f"+{dt:.3f} s"


def _record_size(m: Mapping[str, Any]) -> int | None:
    """The size of a TLS 1.3 "encrypted record (N bytes)" arrow, else None."""
    name = str(m.get("name", ""))
    if m.get("kind") != "application_data" or not name.startswith("encrypted record ("):
        return None
    n = name[len("encrypted record ("):].split(" ")[0]
    return int(n) if n.isdigit() else None


def failing_index(messages: list[Mapping[str, Any]], outcome: str | None) -> int | None:
    """The arrow that ended the handshake: a failed flow's first fatal (or encrypted) alert; the
    RST/FIN of a reset flow.  None when the handshake did not fail."""
    if outcome == "failed":
        for i, m in enumerate(messages):
            if m.get("kind") == "alert" and alert_level(m.get("name", "")) == "fatal":
                return i
        for i, m in enumerate(messages):
            if m.get("kind") == "alert":
                return i
        # TLS 1.3 without a key log: the encrypted record inspector.interpret took for an alert
        records = [(i, m.get("sender"), _record_size(m)) for i, m in enumerate(messages)]
        records = [r for r in records if r[2] is not None]
        at = tls13_alert_at([(sender, size) for _i, sender, size in records])
        if at is not None:
            return records[at][0]
    if outcome == "reset":
        for i, m in enumerate(messages):
            if m.get("kind") == "tcp" and m.get("name") in ("RST", "FIN"):
                return i
    return None


def ladder_svg(messages: Iterable[Mapping[str, Any]], *, client: str = "client", server: str = "server",
               start: Any = None, outcome: str | None = None, caption: str = "",
               flow_id: int | None = None) -> str:
    """The SVG markup of one flow's ladder (a standalone ``<svg>`` element, no script).

    ``client``/``server``: the column titles (addresses); ``start``: the flow's first packet time
    (relative times count from it; default the first message); ``outcome``: the flow's outcome,
    to mark the failing arrow; ``caption``: a line above the columns (protocol, version...)."""
    msgs = [dict(m) for m in messages][:MAX_ARROWS]
    t0 = _seconds(start)
    if t0 is None and msgs:
        t0 = _seconds(msgs[0].get("ts"))
    fail = failing_index(msgs, outcome)
    rows = [m for m in msgs]
    height = HEAD + ROW * max(len(rows), 1) + (36 if fail is not None else 16)
    fid = "" if flow_id is None else f' data-flow="{int(flow_id)}"'
    # marker ids are per flow: a marker defined in a hidden SVG (a closed <details>) does not draw
    uid = "x" if flow_id is None else str(int(flow_id))
    out = [
        f'<svg class="ti-ladder" xmlns="http://www.w3.org/2000/svg"{fid} width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="handshake ladder diagram" '
        f'style="font-family:-apple-system,\'Segoe UI\',Helvetica,Arial,sans-serif; font-size:12px; '
        f'background:#fff;">',
        '<defs>'
        + "".join(f'<marker id="ti-ah-{uid}-{k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                  f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
                  for k, c in (*KIND_COLOURS.items(), ("fail", FAIL_COLOUR)))
        + "</defs>",
    ]
    if caption:
        out.append(f'<text x="{WIDTH // 2}" y="14" text-anchor="middle" fill="#57606a" font-size="11">'
                   f"{_e(caption)}</text>")
    for x, title, sub in ((CLIENT_X, "client", client), (SERVER_X, "server", server)):
        out.append(f'<rect x="{x - 110}" y="20" width="220" height="34" rx="5" fill="#f6f8fa" stroke="#d0d7de"/>'
                   f'<text x="{x}" y="34" text-anchor="middle" font-weight="600" fill="#24292f">{title}</text>'
                   f'<text x="{x}" y="48" text-anchor="middle" fill="#57606a" font-size="11" '
                   f'font-family="SFMono-Regular,Menlo,Consolas,monospace">{_e(sub)}</text>')
        out.append(f'<line x1="{x}" y1="54" x2="{x}" y2="{height - 6}" stroke="#8c959f" stroke-width="1.5"/>')
    if not rows:
        out.append(f'<text x="{WIDTH // 2}" y="{HEAD + 18}" text-anchor="middle" fill="#57606a" '
                   f'font-style="italic">no handshake message in the capture</text>')
    ys = [HEAD + ROW * i + 20 + (18 if fail is not None and i > fail else 0) for i in range(len(rows))]
    # consecutive arrows carried by one frame: a bracket beside their frame numbers
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i].get("frame") != rows[start].get("frame"):
            if i - start > 1 and rows[start].get("frame") is not None:
                bx = SERVER_X + 52
                out.append(f'<path class="ti-frame-group" d="M{bx},{ys[start] - 6} h5 V{ys[i - 1] + 6} h-5" '
                           f'fill="none" stroke="#afb8c1" stroke-width="1.2"><title>frame {_e(rows[start].get("frame"))} '
                           f"carries these {i - start} messages</title></path>")
            start = i
    prev_frame = None
    for i, m in enumerate(rows):
        y = ys[i]
        sender = "server" if m.get("sender") == "server" else "client"
        kind = str(m.get("kind") or "handshake")
        name = str(m.get("name") or "?")
        frame = m.get("frame")
        ts = _seconds(m.get("ts"))
        rel = relative_time(None if ts is None or t0 is None else ts - t0)
        failed = i == fail
        colour = FAIL_COLOUR if failed else KIND_COLOURS.get(kind, "#57606a")
        marker = "fail" if failed else (kind if kind in KIND_COLOURS else "handshake")
        x1, x2 = (CLIENT_X, SERVER_X) if sender == "client" else (SERVER_X, CLIENT_X)
        attrs = (f'class="ti-arrow{" ti-fail" if failed else ""}" data-sender="{sender}" data-kind="{_e(kind)}" '
                 f'data-name="{_e(name)}" data-frame="{_e(frame)}"')
        frame_txt = "" if frame is None else f"#{_e(frame)}"
        frame_fill = "#8c959f" if frame == prev_frame else "#57606a"
        prev_frame = frame
        title = f"<title>{_e(sender)} &#8594; {_e('server' if sender == 'client' else 'client')}: {_e(name)}" \
                f"{(' (frame ' + _e(frame) + ')') if frame is not None else ''} {_e(rel)}</title>"
        out.append(f"<g {attrs}>{title}")
        out.append(f'<text x="{CLIENT_X - 12}" y="{y + 4}" text-anchor="end" fill="#57606a" font-size="10.5" '
                   f'font-family="SFMono-Regular,Menlo,Consolas,monospace">{_e(rel)}</text>')
        out.append(f'<text x="{SERVER_X + 12}" y="{y + 4}" fill="{frame_fill}" font-size="10.5" '
                   f'font-family="SFMono-Regular,Menlo,Consolas,monospace">{frame_txt}</text>')
        if kind == "tcp" and name == "retransmission":
            # a marker on the sender's lifeline, not an arrow: the bytes were already delivered
            out.append(f'<circle cx="{x1}" cy="{y}" r="5" fill="#fff" stroke="{colour}" stroke-width="2"/>'
                       f'<text x="{x1 + (10 if sender == "client" else -10)}" y="{y + 4}" '
                       f'text-anchor="{"start" if sender == "client" else "end"}" fill="{colour}" '
                       f'font-size="11">TCP retransmission</text></g>')
            continue
        dash = ' stroke-dasharray="5,3"' if kind in ("encrypted_handshake", "change_cipher_spec", "tcp") else ""
        width = 2.5 if failed or kind == "alert" else 1.6
        x2a = x2 - 4 if x2 > x1 else x2 + 4
        out.append(f'<line x1="{x1}" y1="{y}" x2="{x2a}" y2="{y}" stroke="{colour}" stroke-width="{width}"{dash} '
                   f'marker-end="url(#ti-ah-{uid}-{marker})"/>')
        label = ("TCP " if kind == "tcp" else "") + name + (" (encrypted)" if kind == "encrypted_handshake" else "")
        weight = ' font-weight="600"' if kind == "alert" or failed or name in ("ClientHello", "ServerHello", "Certificate") else ""
        out.append(f'<text x="{(CLIENT_X + SERVER_X) // 2}" y="{y - 5}" text-anchor="middle" fill="{colour}"{weight}>'
                   f"{_e(label)}</text>")
        if failed:
            who = "server" if sender == "server" else "client"
            what = "closed the connection here" if kind == "tcp" else "ended the handshake here"
            cx = x1
            out.append(f'<circle cx="{cx}" cy="{y}" r="7" fill="{FAIL_COLOUR}"/>'
                       f'<text x="{cx}" y="{y + 4}" text-anchor="middle" fill="#fff" font-size="10" '
                       f'font-weight="700">!</text>')
            out.append(f'<text class="ti-fail-note" x="{(CLIENT_X + SERVER_X) // 2}" y="{y + 17}" text-anchor="middle" '
                       f'fill="{FAIL_COLOUR}" font-size="11" font-weight="600">the {who} {what}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
