"""tlsinspect: every TLS handshake in a packet capture, flow by flow, and why it failed.

    >>> import inspector
    >>> cap = inspector.read_capture("pcaps/cisco_lab_mix.pcapng")
    >>> cap.flows[["client_ip", "server_port", "tls_version", "outcome"]]

`read_capture` returns a `Capture` whose ``flows``, ``certificates`` and ``events`` are pandas
DataFrames with the schema documented in the README (generated from `inspector.frame`).
"""

from __future__ import annotations

from .api import Capture, read_capture, stream_capture
from .errors import CaptureError, InspectError
from .model import Limits

__all__ = ["Capture", "CaptureError", "InspectError", "Limits", "read_capture", "stream_capture"]
__version__ = "0.1.0"
