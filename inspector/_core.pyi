"""The Rust engine (crate `tlsinspect-py` over `tlsinspect-core`); see `inspector.engines.rust`.

``analyze`` reads one capture, from a path, from bytes (``data``) or from an open file descriptor
(``fd``, e.g. stdin), with the GIL released, and returns::

    {
      "flows": pyarrow.RecordBatch,        # one row per TLS connection, FlowRecord's columns
                                           # except server/client subject and issuer and
                                           # client_cert_kind; flow ids numbered by start time
      "events": pyarrow.RecordBatch,       # capture, flow_id, frame, ts, kind, sender, code, detail
                                           # (by flow and frame; with stream=True flow ids follow
                                           # the order flows end and each flow's events stay in
                                           # the order emitted, as the Python engine's on_flow)
      "certificates": pyarrow.RecordBatch, # sha256, der, flow_ids, roles: each distinct DER once
      "messages": pyarrow.RecordBatch,     # capture, flow_id, frame, ts, sender, kind, name: the
                                           # ladder's arrows (schema.MESSAGE_COLUMNS), by flow id,
                                           # each flow's in the order seen; empty with stream=True
      "stats": dict[str, int],             # the Python engine's counters, same names
      "capture_warnings": list[str],       # "code: detail"
      "first_ts": float | None, "last_ts": float | None,
      "format": str,                       # "pcap", "pcapng", with ".gz" when compressed
      "bytes_read": int, "frames": int,
    }

With ``columns=True`` the four tables are ``dict[str, list]`` (the same columns and values, no
pyarrow import; what `inspector.engines.rust` uses).

With ``on_batch`` (streaming): whenever ``batch_size`` flows have ended, ``on_batch`` is called
with ``{"flows", "events", "certificates"}`` (column dicts: those flows, their events, and the
certificates first seen since the previous batch), so memory holds the flows in flight, not every
flow; the dict returned at the end holds the flows ended after the last batch, the capture-level
warnings and the whole certificates table.  Flow ids follow the order flows end (``stream=True``);
one thread.  An exception raised by ``on_batch`` stops the reading and is raised again.

With ``pipe=True`` the ``path`` is a FIFO (``/dev/stdin`` fed by a pipe, process substitution),
opened as the Python reader opens it and read as its packets come (a read hands over what the pipe
holds, not 4 MiB); without it a FIFO given by path is refused (it would block with no writer).

A capture that cannot be read raises `inspector.errors.CaptureError` with the message the Python
engine gives; one broken after some packets gives what was read and a ``capture_truncated``
warning.
"""

from typing import Callable

__version__: str

def analyze(
    path: str | None,
    *,
    data: bytes | None = None,
    fd: int | None = None,
    capture: str,
    ports: list[int],
    max_flows: int,
    max_handshake_bytes: int,
    max_pending_bytes: int,
    max_certs: int,
    max_tombstones: int,
    keylog: bytes | None,
    stream: bool = False,
    columns: bool = False,
    max_frag_datagrams: int | None = None,
    max_frag_bytes: int | None = None,
    frag_timeout: float | None = None,
    keylog_source: str | None = None,
    keylog_entries: int = 0,
    max_buffered_bytes: int | None = None,
    keylog_warnings: list[tuple[str, str]] = ...,
    threads: int | None = None,
    on_batch: Callable[[dict[str, dict[str, list]]], object] | None = None,
    batch_size: int = 1000,
    pipe: bool = False,
) -> dict[str, object]: ...
def _sample_analysis(der: bytes, capture: str = "fixture.pcap", columns: bool = False) -> dict[str, object]:
    """A fixed two-flow analysis built in Rust, through the same conversion (for tests)."""
def _raise_capture_error(reason: str, offset: int | None = None) -> None:
    """Raises the engine's capture error (for tests of the error mapping)."""

#: the ports decoded as TLS even mid-connection (`rust/core/src/flow/mod.rs`); equals `inspector.domain.TLS_PORTS`
DEFAULT_TLS_PORTS: list[int]

def warning_codes() -> list[str]:
    """The codes of the engine's anomaly enums (TCP, flow eviction, QUIC header and frame), as
    registered in `inspector.weird` (`rust_enum=True`)."""
