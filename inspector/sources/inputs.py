"""The command line's inputs: ``FILE...`` arguments (files, globs, ``-``) and ``--merge``.

``-`` is standard input, read as a stream (``tcpdump -w - | tlsinspect -``); FIFOs,
``/dev/stdin`` and process substitution (``<(zcat a.pcap.gz)``) are streams too.  A glob that
matches nothing, a directory (use ``tlsinspect batch``) or a terminal on stdin is an input error.
`read_merged` feeds several captures to one analyzer in timestamp order, as ``mergecap`` would
merge them, so a connection split across ring-buffer files is one flow.
"""

from __future__ import annotations

import glob
import heapq
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Iterable, Optional

from ..errors import CaptureError

STDIN = Path("/dev/stdin")


def __getattr__(name: str):
    """``PortOption``, built on first use: the fast csv path (`inspector.cli.fast`) reads inputs
    without importing typer."""
    if name == "PortOption":
        import typer
        #: one definition of the TCP port option for every command (1-65535, repeatable)
        option = Annotated[Optional[list[int]], typer.Option(
            "--port", "-p", min=1, max=65535, metavar="PORT", help="extra TLS port, 1-65535 (repeatable)")]
        globals()["PortOption"] = option
        return option
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
_GLOB = set("*?[")


@dataclass(frozen=True, slots=True)
class Input:
    label: str  # as the user named it ("-" for standard input)
    path: Path | None  # None: the input is an error (see `error`)
    error: str | None = None

    @property
    def is_stream(self) -> bool:
        if self.path is None:
            return False
        try:
            return not stat.S_ISREG(os.stat(self.path).st_mode)
        except OSError:
            return False


def expand(args: Iterable[str]) -> list[Input]:
    """Each argument as one input or, for a glob, the files it matches (sorted)."""
    out: list[Input] = []
    for a in args:
        if a == "-":
            if sys.stdin is None or sys.stdin.isatty():
                out.append(Input(a, None, "standard input is a terminal: pipe a capture in "
                                          "(tcpdump -w - | tlsinspect -)"))
            else:
                out.append(Input(a, STDIN))
            continue
        if not os.path.lexists(a) and _GLOB & set(a):
            hits = sorted(p for p in glob.glob(a, recursive=True) if not os.path.isdir(p))
            if not hits:
                out.append(Input(a, None, f"no file matches {a}"))
            out.extend(Input(h, Path(h)) for h in hits)
            continue
        if os.path.isdir(a):
            out.append(Input(a, None, f"{a} is a directory (tlsinspect batch {a} -o results/ "
                                      "reads every capture in it)"))
            continue
        out.append(Input(a, Path(a)))
    return out


def read_merged(paths: list[Path], *, ports=(), limits=None, keylog=None, trust=None):
    """Several captures as one, packets in timestamp order (``mergecap``'s merge)."""
    from ..api import Capture, _read_keylog
    from .capture import CaptureReader, CaptureWarning
    from ..engines.python import Analyzer

    readers = [CaptureReader(p) for p in paths]
    name = "+".join(p.name for p in paths) if len(paths) <= 3 else f"{paths[0].name}+{len(paths) - 1} more"
    analyzer = Analyzer(name, ports=ports, limits=limits, keylog=_read_keylog(keylog))
    streams = [r.packets() for r in readers]
    try:
        analyzer.feed(heapq.merge(*streams, key=lambda p: p[0]))
    except CaptureError as e:
        if analyzer.frame == 0:
            raise
        readers[0].warnings.append(CaptureWarning("capture_truncated", f"reading stopped: {e}"))
    warnings = [(w.code, w.detail) for r in readers for w in r.warnings]
    analysis = analyzer.finish(warnings)
    formats = sorted({r.format for r in readers if r.format})
    return Capture(Path(name), analysis, format="+".join(formats),
                   bytes_read=sum(r.bytes_read for r in readers), trust=trust)

