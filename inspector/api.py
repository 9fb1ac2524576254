"""The library entry point: a capture file -> a `Capture` with DataFrames.  Reads the file."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Iterable

import pandas as pd

from .capture import CaptureReader
from .engine import Analysis, Analyzer
from .errors import CaptureError
from .flows import Limits


class Capture:
    """What one capture file holds: ``flows``, ``certificates`` and ``events`` DataFrames."""

    def __init__(self, path: Path, analysis: Analysis, *, format: str, bytes_read: int) -> None:
        self.path = path
        self.analysis = analysis
        self.format = format
        self.bytes_read = bytes_read

    @property
    def name(self) -> str:
        return self.analysis.capture

    @property
    def warnings(self) -> list[str]:
        """Capture-level warnings (e.g. ``capture_truncated: ...``)."""
        return self.analysis.capture_warnings

    @property
    def stats(self) -> dict[str, int]:
        return dict(self.analysis.stats)

    @cached_property
    def flows(self) -> pd.DataFrame:
        from .frame import flows_frame
        return flows_frame(self.analysis)

    @cached_property
    def certificates(self) -> pd.DataFrame:
        from .frame import certificates_frame
        return certificates_frame(self.analysis)

    @cached_property
    def events(self) -> pd.DataFrame:
        from .frame import events_frame
        return events_frame(self.analysis)

    @cached_property
    def findings(self) -> pd.DataFrame:
        """Diagnoses: one row per finding, most severe first (see README for the codes)."""
        from .frame import findings_frame
        return findings_frame(self.analysis)

    def __repr__(self) -> str:
        return (f"<Capture {self.name}: {len(self.analysis.flows)} TLS flows, "
                f"{len(self.analysis.certificates)} certificates, {self.analysis.stats['frames']} frames>")


def read_capture(path: str | os.PathLike, *, ports: Iterable[int] = (),
                 limits: Limits | None = None) -> Capture:
    """Read a pcap/pcapng file (optionally gzip-compressed) and analyse every TLS flow.

    Raises `CaptureError` when the file is unusable (not a capture, broken before any packet).
    A file cut short after some packets gives the flows so far and a ``capture_truncated`` warning.
    """
    path = Path(path)
    reader = CaptureReader(path)
    analyzer = Analyzer(path.name, ports=ports, limits=limits)
    try:
        analyzer.feed(reader.packets())
    except CaptureError as e:
        if analyzer.frame == 0:
            raise
        reader.warnings.append(_warning("capture_truncated", f"reading stopped: {e}"))
    analysis = analyzer.finish((w.code, w.detail) for w in reader.warnings)
    return Capture(path, analysis, format=reader.format, bytes_read=reader.bytes_read)


def _warning(code: str, detail: str):
    from .capture import CaptureWarning
    return CaptureWarning(code, detail)
