"""``tlsinspect live``: capture on an interface and explain each handshake as it ends.

Wireshark's ``dumpcap`` (Debian package wireshark-common, installed with tshark; ``tcpdump`` when
dumpcap is absent) writes pcapng (pcap for tcpdump) to a pipe; `inspector.api.stream_capture` reads
it as it comes (the Rust engine, DTLS, QUIC and EAP-TLS included; the Python engine where the
extension is not built) and hands over each flow when its handshake is over: one line per flow, its
findings under it (or one JSON line per flow with ``--format jsonl``).  Ctrl-C or SIGTERM stops the capture and prints a summary.
Nothing is kept but the flows in flight.  ``-w FILE`` keeps the capture as it is read.

Capture needs privileges (root, or CAP_NET_RAW/CAP_NET_ADMIN on dumpcap, or membership of the
``wireshark`` group); when they are missing, or no capture tool is installed, the command says so
in one line and exits 2.
"""

from __future__ import annotations

import enum
import shutil
import signal
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.text import Text

from ..errors import InspectError
from ..words import counted
from ..sources.inputs import PortOption

PERMISSION_HINTS = ("permission", "operation not permitted", "don't have permission",
                    "you don't have", "not permitted", "cap_net_raw")


class LiveFormat(str, enum.Enum):
    text = "text"
    jsonl = "jsonl"


class LiveError(InspectError):
    """The capture could not start (no tool, no permission, no such interface)."""


def capture_command(interface: str, bpf: str | None, *, duration: float | None = None,
                    packets: int | None = None, tool: str | None = None) -> list[str]:
    """The dumpcap (or tcpdump) command line writing the capture to stdout."""
    dumpcap = tool or shutil.which("dumpcap")
    if dumpcap and Path(dumpcap).name.startswith("dumpcap"):
        cmd = [dumpcap, "-q", "-i", interface, "-w", "-"]
        if duration:
            cmd += ["-a", f"duration:{max(1, int(round(duration)))}"]
        if packets:
            cmd += ["-c", str(packets)]
        if bpf:
            cmd += ["-f", bpf]
        return cmd
    tcpdump = tool or shutil.which("tcpdump")
    if tcpdump:
        cmd = [tcpdump, "-i", interface, "-U", "-s", "0", "-w", "-"]
        if packets:
            cmd += ["-c", str(packets)]
        return cmd + ([bpf] if bpf else [])
    raise LiveError("no capture tool found: install Wireshark's dumpcap "
                    "(apt-get install wireshark-common) or tcpdump")


class _Tee:
    """The capture pipe, copied into the ``-w`` file as it is read."""

    def __init__(self, raw, copy) -> None:
        self.raw = raw
        self.copy = copy

    def read1(self, n: int = -1) -> bytes:
        data = self.raw.read1(n if n and n > 0 else 65536)
        if data:
            self.copy.write(data)
            self.copy.flush()
        return data

    read = read1

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.raw.close()
        self.copy.close()


_CHATTER = ("Capturing on ", "File: ", "Packets captured", "Packets received", "tcpdump: listening on")


def _explain_failure(stderr: str, cmd: list[str]) -> str:
    """The capture tool's own complaint, in one line (its progress chatter left out)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith(_CHATTER)]
    text = " ".join(" ".join(lines).split())
    low = text.lower()
    tool = Path(cmd[0]).name
    if any(h in low for h in PERMISSION_HINTS):
        return (f"{tool} has no permission to capture on {cmd[cmd.index('-i') + 1]}: run as root, or "
                "give dumpcap CAP_NET_RAW (dpkg-reconfigure wireshark-common, then join the wireshark group)")
    last = text[-300:] if text else f"{tool} exited"
    return f"capture failed: {last}"


def flow_line(row: dict, service: str) -> Text:
    """One flow as one line: endpoints, service, version, SNI, outcome (with the failing side)."""
    from ..output.report import OUTCOME_STYLE, cell, endpoint

    outcome = row.get("outcome") or "?"
    t = Text()
    t.append(f"{row.get('ts_start', '')[11:23]} ", style="dim")
    t.append(cell(f"{endpoint(row['client_ip'], row['client_port'])} -> "
                  f"{endpoint(row['server_ip'], row['server_port'])}"))
    if service:
        t.append(f" {cell(service)}", style="cyan")
    for k in ("tls_version", "sni"):
        if row.get(k):
            t.append(f" {cell(row[k])}")
    t.append(f"  {outcome}", style=OUTCOME_STYLE.get(outcome, ""))
    if outcome in ("failed", "reset") and row.get("outcome_detail"):
        t.append(f": {cell(row['outcome_detail'])}")
    return t


class LiveSession:
    """Streams one capture pipe through the analyzer and prints each flow as it ends."""

    def __init__(self, out: Console, *, fmt: LiveFormat, flt=None, ports=(), quiet: bool = False) -> None:
        self.out = out
        self.fmt = fmt
        self.flt = flt
        self.ports = ports
        self.quiet = quiet
        self.outcomes: Counter = Counter()
        self.codes: Counter = Counter()
        self.shown = 0

    def on_rows(self, name: str, rows: list[dict]) -> None:
        from ..output.jsonl import line
        from ..output.report import SEVERITY_STYLE, cell, plain, role_of

        if name == "flows":
            self._pending = {}
            for r in rows:
                r = plain(r)
                self.outcomes[r["outcome"]] += 1
                if self.flt is not None and not self.flt.matches(r):
                    continue
                self._pending[r["flow_id"]] = r
        elif name == "findings":
            by_flow: dict[int, list] = {}
            for x in rows:
                self.codes[x["code"]] += 1
                by_flow.setdefault(x["flow_id"], []).append(x)
            for fid, r in getattr(self, "_pending", {}).items():
                self.shown += 1
                if self.fmt is LiveFormat.jsonl:
                    print(line({**r, "findings": [{k: x[k] for k in ("code", "severity", "message", "fix")}
                                                  for x in by_flow.get(fid, [])]}), flush=True)
                    continue
                self.out.print(flow_line(r, role_of(r["server_port"])))
                for x in by_flow.get(fid, []):
                    self.out.print(Text.assemble("    ", (f"{x['severity']} {x['code']}", SEVERITY_STYLE.get(x["severity"], "")),
                                                 ": ", cell(x["message"])))
                    if x["severity"] in ("critical", "error"):
                        self.out.print(Text.assemble("      ", ("fix: ", "bold"), cell(x["fix"])))
            self._pending = {}

    def summary(self) -> str:
        total = sum(self.outcomes.values())
        parts = [counted(total, "TLS flow")]
        parts += [f"{n} {o}" for o, n in self.outcomes.most_common()]
        if self.flt is not None:
            parts.append(f"{self.shown} shown")
        if self.codes:
            parts.append("findings: " + ", ".join(f"{c} x{n}" for c, n in self.codes.most_common(5)))
        return ", ".join(parts)


def analyze_stream(source, on_rows, *, ports=(), name: str = "live"):
    """A capture stream (a pipe's file object) through `inspector.api.stream_capture`: each
    flow's rows (``flows``, ``events``, ``findings``) go to ``on_rows`` as soon as the flow ends,
    read by the Rust engine when it is built (DTLS, QUIC, EAP-TLS and tunnels too: a phone's
    802.1X and VPN handshakes), else by the Python engine.  A thread pumps the capture pipe
    (through the ``-w`` copy) into a pipe of our own that the engine reads by its path, and the
    engine runs on another thread, so that the main thread stays free for Ctrl-C and SIGTERM (a
    Python signal handler runs only there, and the engine may wait in a read for a while)."""
    import os

    from ..api import stream_capture

    r, w = os.pipe()

    def pump() -> None:
        try:
            with open(w, "wb", buffering=0) as out:
                while data := source.read1(65536):
                    out.write(data)
        except (OSError, ValueError):  # the engine stopped reading (an error), or the source closed
            pass

    done: dict = {}

    def analyze() -> None:
        try:
            done["capture"] = stream_capture(Path(f"/dev/fd/{r}"), on_rows, ports=ports, batch_size=1, name=name)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            done["error"] = e

    pumping = threading.Thread(target=pump, daemon=True)
    engine = threading.Thread(target=analyze, daemon=True)
    pumping.start()
    engine.start()
    try:
        while engine.is_alive():
            engine.join(0.2)
    finally:
        os.close(r)  # a pump still writing gets EPIPE and ends
        pumping.join(timeout=5)
    if "error" in done:
        raise done["error"]
    return done["capture"]


def run_live(interface: str, *, bpf: str | None, ports=(), fmt: LiveFormat = LiveFormat.text,
             write: Path | None = None, flt=None, duration: float | None = None,
             packets: int | None = None, quiet: bool = False, out: Console | None = None,
             err: Console | None = None) -> int:
    """Capture until the tool stops (``duration``/``packets``), Ctrl-C or SIGTERM; 0, or 2 when
    the capture could not start."""
    out = out or Console(highlight=False, soft_wrap=True)
    err = err or Console(stderr=True, highlight=False, soft_wrap=True)
    cmd = capture_command(interface, bpf, duration=duration, packets=packets)
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    except OSError as e:
        raise LiveError(f"cannot run {cmd[0]}: {e.strerror or e}") from None
    stderr_lines: list[str] = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(
        proc.stderr.read().decode("utf-8", "replace").splitlines()), daemon=True)
    reader.start()
    stopped = {"signal": False}

    def stop(signum, _frame) -> None:  # end the capture; the pipe then ends and the flows close
        stopped["signal"] = True
        if proc.poll() is None:
            proc.terminate()

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    session = LiveSession(out, fmt=fmt, flt=flt, ports=ports, quiet=quiet)
    source = proc.stdout if write is None else _Tee(proc.stdout, open(write, "wb"))
    try:
        if not quiet and fmt is LiveFormat.text:
            err.print(f"tlsinspect: capturing on {interface} with {Path(cmd[0]).name}"
                      + (f" ({bpf})" if bpf else "") + "; Ctrl-C to stop", markup=False)
        try:
            analyze_stream(source, session.on_rows, ports=ports)
        except InspectError:
            proc.wait(timeout=10)
            reader.join(timeout=5)
            if proc.returncode not in (0, None) or not stopped["signal"]:
                raise LiveError(_explain_failure("\n".join(stderr_lines), cmd)) from None
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        with_close = getattr(source, "close", None)
        if with_close:
            with_close()
    reader.join(timeout=5)
    if proc.returncode not in (0, -signal.SIGTERM, -signal.SIGINT) and not stopped["signal"] \
            and session.outcomes.total() == 0:
        raise LiveError(_explain_failure("\n".join(stderr_lines), cmd))
    if fmt is LiveFormat.text or not quiet:
        err.print(f"tlsinspect: {session.summary()}" + (f"; capture kept in {write}" if write else ""),
                  markup=False)
    return 0


def register(app: typer.Typer) -> None:
    """Add the ``live`` command to ``app``."""
    @app.command("live")
    def live(
        interface: Annotated[str, typer.Option("--interface", "-i", metavar="IFACE",
                                               help="interface to capture on (dumpcap -D lists them)")],
        bpf: Annotated[Optional[str], typer.Option("--bpf", "-f", metavar="BPF",
                                                   help="capture filter, e.g. 'tcp port 5061'")] = None,
        port: PortOption = None,
        format: Annotated[LiveFormat, typer.Option("--format", help="a line per flow, or JSON lines")] = LiveFormat.text,
        write: Annotated[Optional[Path], typer.Option("--write", "-w", metavar="FILE",
                                                      help="also keep the capture in FILE (pcapng; pcap with tcpdump)")] = None,
        filter_: Annotated[Optional[str], typer.Option("--filter", metavar="EXPR",
                                                       help="only print flows matching EXPR")] = None,
        failed: Annotated[bool, typer.Option("--failed", help="only print failed or reset handshakes")] = False,
        duration: Annotated[Optional[float], typer.Option("--duration", min=1, metavar="SECONDS",
                                                          help="stop after this many seconds")] = None,
        count: Annotated[Optional[int], typer.Option("--count", "-c", min=1, metavar="PACKETS",
                                                     help="stop after this many packets")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no banner or summary on stderr")] = False,
    ) -> None:
        """Capture on IFACE (dumpcap, else tcpdump) and print each TLS handshake as it ends."""
        from .terminal import fail as _fail
        from ..filters import FAILED, combine

        try:
            flt = combine([filter_, FAILED if failed else None])
        except InspectError as e:
            raise _fail(f"bad --filter: {e}") from None
        try:
            code = run_live(interface, bpf=bpf, ports=port or (), fmt=format, write=write, flt=flt,
                            duration=duration, packets=count, quiet=quiet)
        except InspectError as e:
            raise _fail(str(e)) from None
        except BrokenPipeError:  # `| head`: quiet, exit 0 (the capture was stopped)
            raise
        except OSError as e:
            raise _fail(f"cannot write {write}: {e.strerror or e}") from None
        raise typer.Exit(code)
