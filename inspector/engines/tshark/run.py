"""Running tshark: one ``tshark`` (PDML through ``pyshark.FileCapture``) per file with the
`PREFERENCES`, ``-d tcp.port==P,tls`` for every TLS port and the `DISPLAY_FILTER`, in a thread
of its own (pyshark's asyncio loop works even under Jupyter's); ``capinfos`` for the frame count
and times; tshark's own error text when it cannot read the file."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterable

from ...errors import CaptureError, InspectError
from ...flows import DEFAULT_TLS_PORTS
from ...model import Analysis
from ...sources.capture import sniff_format
from .flow import analysis_of
from .stream import Collector

DISPLAY_FILTER = (
    "tls.handshake or tls.handshake.type or tls.alert_message or tls.record.content_type == 21"
    " or tls.change_cipher_spec or tls.record.version == 0x0002"
    " or tcp.flags.syn == 1 or tcp.flags.fin == 1 or tcp.flags.reset == 1"
    " or tcp.analysis.lost_segment or (tcp.seq == 1 and tcp.len > 0)"
    " or ((tls.record.content_type == 23 or tls.record.opaque_type == 23) and tcp.seq < 32768)"
)

PREFERENCES = {
    "tcp.desegment_tcp_streams": "TRUE",
    "tls.desegment_ssl_records": "TRUE",
    "tls.desegment_ssl_application_data": "TRUE",
    "tcp.reassemble_out_of_order": "TRUE",
}

_ENV_LOCK = threading.Lock()


class TsharkEngineError(InspectError):
    """tshark or pyshark is missing, or tshark failed in a way that is not about the file."""


def find_tshark() -> str | None:
    """Path of the tshark binary (``$TSHARK``, then ``PATH``, then /usr/bin/tshark)."""
    env = os.environ.get("TSHARK")
    if env and os.access(env, os.X_OK):
        return env
    found = shutil.which("tshark")
    if found:
        return found
    return "/usr/bin/tshark" if os.access("/usr/bin/tshark", os.X_OK) else None


def tshark_available() -> bool:
    try:
        import pyshark  # noqa: F401
    except ImportError:
        return False
    return find_tshark() is not None


def _format(path: Path) -> tuple[str, int]:
    """("pcap"|"pcapng"[+".gz"], file size); CaptureError when the file is not a capture."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            try:
                fmt, compressed, head = sniff_format(fh)
            except (OSError, EOFError) as e:
                raise CaptureError(f"the gzip stream is damaged: {e}", 0) from None
    except IsADirectoryError:
        raise CaptureError(f"{path} is a directory, not a capture file") from None
    except OSError as e:
        raise CaptureError(f"cannot open {path}: {e.strerror or e}") from None
    if fmt is not None:
        pass
    elif not head:
        raise CaptureError("not a pcap or pcapng capture: empty file", 0)
    else:
        raise CaptureError(f"not a pcap or pcapng capture: unknown magic 0x{head.hex()}", 0)
    return fmt + (".gz" if compressed else ""), size


def _tshark_errors(exe: str, path: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    """Run tshark plainly over the file (no dissection output) to learn what it thinks is wrong."""
    try:
        proc = subprocess.run([exe, "-n", "-r", str(path), "-T", "fields", "-e", "frame.number"],
                              capture_output=True, timeout=600, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return -1, [str(e)]
    lines = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines()
             if ln.strip() and "could be dangerous" not in ln and "Running as user" not in ln]
    return proc.returncode, lines


def _cut_short(path: Path) -> str | None:
    """Why the capture file ends early (a packet cut short, a broken block), or None."""
    from ...sources.capture import CaptureReader
    reader = CaptureReader(Path(path))
    try:
        for _ in reader.batches():
            pass
    except CaptureError as e:
        return str(e)
    except Exception:  # noqa: BLE001 - only a hint for the warning; tshark's verdict stands
        return None
    cut = [w.detail for w in reader.warnings if w.code == "capture_truncated"]
    return cut[0] if cut else None


def _capinfos(path: Path, env: dict[str, str]) -> tuple[int, float | None, float | None] | None:
    exe = os.path.join(os.path.dirname(find_tshark() or "/usr/bin/tshark"), "capinfos")
    try:
        proc = subprocess.run([exe, "-M", "-T", "-r", "-c", "-a", "-e", "-S", str(path)],
                              capture_output=True, timeout=120, env=env, check=False)
        cols = proc.stdout.decode("utf-8", "replace").strip().split("\t")
        n = int(cols[1])

        def t(s: str) -> float | None:
            try:
                return float(s)
            except ValueError:
                return None
        return n, t(cols[2]), t(cols[3])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None


class _ReapedElsewhere(logging.Filter):
    """Drops asyncio's "Unknown child process pid N, will report returncode 255" for our tshark.

    Rarely (a loaded machine, first call in a process) tshark's exit is collected by another
    waitpid before asyncio's child watcher gets to it; every packet has been read by then, so
    the message is noise on the CLI's stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unknown child process pid")


_REAPED_FILTER = _ReapedElsewhere()


def _collect_into(box: dict[str, Any], pyshark: Any, path: Path, tls_ports: frozenset[int],
                  exe: str, confdir: str) -> None:
    """Run pyshark over the file (in a thread with no event loop): ``box["col"]``, ``["failed"]``."""
    col = box["col"] = Collector()
    cap = None
    loop = None
    try:
        with _ENV_LOCK:  # pyshark starts tshark with this process's environment
            saved = {k: os.environ.get(k) for k in ("WIRESHARK_CONFIG_DIR", "LC_ALL")}
            os.environ.update(WIRESHARK_CONFIG_DIR=confdir, LC_ALL="C")
            try:
                cap = pyshark.FileCapture(
                    str(path), keep_packets=False, display_filter=DISPLAY_FILTER,
                    decode_as={f"tcp.port=={p}": "tls" for p in sorted(tls_ports)},
                    override_prefs=dict(PREFERENCES), tshark_path=exe)
                loop = getattr(cap, "eventloop", None)
                it = iter(cap)
                first = next(it, None)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        if first is not None:
            col.safe_packet(first)
            for pkt in it:
                col.safe_packet(pkt)
    except BaseException as e:  # noqa: BLE001 - pyshark raises its own and asyncio's errors
        box["failed"] = e
    finally:
        if cap is not None:
            procs = list(getattr(cap, "_running_processes", ()))
            try:
                cap.close()
            except Exception:  # noqa: BLE001
                pass
            # pyshark waits only 1 s for tshark to be reaped; on a busy machine that is too short,
            # and a process not reaped when the loop closes is later reaped by an unrelated
            # subprocess call ("Unknown child process pid ..." from asyncio)
            for proc in procs:
                if proc.returncode is None and loop is not None and not loop.is_closed():
                    try:
                        loop.run_until_complete(asyncio.wait_for(proc.wait(), 30))
                    except Exception:  # noqa: BLE001
                        pass
            # pyshark's __del__ would close again, on a loop that may be gone by then
            cap.close = lambda: None
        if loop is not None and not loop.is_running():
            try:
                loop.close()
            except Exception:  # noqa: BLE001
                pass


def analyze_with_tshark(path: str | os.PathLike, *, ports: Iterable[int] = (),
                        capture: str | None = None) -> Analysis:
    """tshark's view of ``path`` as an `Analysis` (the native engine's records and semantics).

    Raises `CaptureError` for a file that is not a capture or that tshark cannot read at all, and
    `TsharkEngineError` when tshark or pyshark is missing.  A file tshark reads only in part gives
    the flows so far and a ``capture_truncated`` warning.
    """
    try:
        import pyshark
    except ImportError as e:  # pragma: no cover - pyshark is a dependency
        raise TsharkEngineError(f"the tshark engine needs pyshark: {e}") from None
    exe = find_tshark()
    if exe is None:
        raise TsharkEngineError("the tshark engine needs tshark (Wireshark's command-line tool)")
    path = Path(path)
    _format(path)  # raises CaptureError for a non-capture before tshark is started
    tls_ports = DEFAULT_TLS_PORTS | frozenset(int(p) for p in ports)
    name = capture if capture is not None else path.name
    warnings: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="tlsinspect-tshark-") as confdir:
        env = dict(os.environ, WIRESHARK_CONFIG_DIR=confdir, LC_ALL="C")
        # pyshark drives tshark through an asyncio loop of its own; in a thread of our own it
        # works even where the caller's thread already runs a loop (Jupyter)
        box: dict[str, Any] = {}
        worker = threading.Thread(target=_collect_into, name="tlsinspect-pyshark", daemon=True,
                                  args=(box, pyshark, path, tls_ports, exe, confdir))
        aio_log = logging.getLogger("asyncio")
        aio_log.addFilter(_REAPED_FILTER)
        try:
            worker.start()
            worker.join()
        finally:
            aio_log.removeFilter(_REAPED_FILTER)
        col: Collector = box.get("col") or Collector()
        failed: BaseException | None = box.get("failed")
        info = _capinfos(path, env)
        if failed is not None or info is None:
            rc, errors = _tshark_errors(exe, path, env)
            if rc != 0 or failed is not None:
                text = " | ".join(errors) or f"{type(failed).__name__}: {failed}"
                partial = any(m in text for m in ("cut short in the middle of a packet",
                                                  "appears to be damaged or corrupt"))
                if not partial and not col.streams and (info is None or info[0] == 0):
                    raise CaptureError(f"tshark cannot read the file: {text}")
                warnings.append(("capture_truncated", f"tshark stopped reading: {text}"))
        elif not any(code == "capture_truncated" for code, _ in warnings):
            # pyshark does not always surface tshark's "cut short" error (it depends on when its
            # reader task ends): our own reader tells a cut file deterministically
            cut = _cut_short(path)
            if cut is not None:
                warnings.append(("capture_truncated", f"tshark stopped reading: {cut}"))
    for err in col.errors:
        warnings.append(("tshark_engine_error", f"a packet tshark dissected could not be read: {err}"))
    frames = info[0] if info is not None else col.frames
    first_ts = info[1] if info is not None and info[1] is not None else col.first_ts
    last_ts = info[2] if info is not None and info[2] is not None else col.last_ts
    return analysis_of(name, col, tls_ports, warnings, frames, first_ts, last_ts)


def analyze_file_tshark(path: str | os.PathLike, *, ports: Iterable[int] = (),
                        keylog: str | os.PathLike | None = None) -> tuple[Analysis, str, int]:
    """What `inspector.read_capture` with ``engine="tshark"`` needs: (the `Analysis` of tshark's
    view, the file's format, its size in bytes); `inspector.api` makes the `Capture` of them.

    Raises `InspectError` when given a ``keylog`` (the native engine decrypts; this one does not).
    """
    if keylog is not None:
        raise InspectError("the tshark engine does not decrypt: use the native engine with a key log")
    path = Path(path)
    fmt, size = _format(path)
    return analyze_with_tshark(path, ports=ports), fmt, size
