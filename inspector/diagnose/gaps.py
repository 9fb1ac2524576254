"""What the capture itself lost: bytes a peer acknowledged that are not in the capture.

A flow with `capture_missed_bytes` events (one per direction, `FlowContext.missed`) gets one
finding naming the bytes and the side that sent them.  Where they could have held an alert (at
least `ALERT_RECORD_MIN` bytes), the checks that conclude "closed without an alert"
(`handshake_reset`, `no_server_hello`) stay silent: this finding says why instead.
"""

from __future__ import annotations

from typing import Iterator

from ..tcp import ALERT_RECORD_MIN
from ..words import counted
from .core import Finding, FlowContext, Severity, check
from .core import finding as _f


@check("capture_missed_bytes")
def capture_missed_bytes(ctx: FlowContext) -> Iterator[Finding]:
    if not ctx.missed:
        return
    parts = [f"{counted(n, 'byte')} from the {who}" for who, n in sorted(ctx.missed.items())]
    peer = {"client": "server", "server": "client"}
    acked = " and ".join(f"the {peer[who]} acknowledged the {who}'s" for who in sorted(ctx.missed))
    established = ctx.flow.outcome == "established"
    if established or not ctx.alert_may_be_missed():
        why = "what the engine read of this flow may be incomplete"
    else:
        why = "an alert may have been among them, so the capture cannot tell how the handshake ended"
    yield _f(ctx, "capture_missed_bytes", Severity.info if established else Severity.warning,
             f"The capture missed {' and '.join(parts)} ({acked}, which are not in the capture): {why}.",
             "Capture on the host itself, or from a SPAN/mirror port without drops (check the capture's drop "
             "counters), then look again.",
             **{f"missed_{who}_bytes": n for who, n in ctx.missed.items()}, alert_min_bytes=ALERT_RECORD_MIN)
