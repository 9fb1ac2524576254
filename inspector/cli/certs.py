"""``tlsinspect certs FILE``: every distinct certificate of a capture, its trust, and PEM export.

Load -> validate (`inspector.trust`) -> render.  ``--export DIR`` writes each certificate as
``<CN>_<sha256[:12]>.pem`` and each flow's chains as ``flow<id>_server_chain.pem`` /
``flow<id>_client_chain.pem``, then says which trust store each missing CA or self-signed
certificate belongs in.  File names come from a sanitised CN and never leave DIR.
"""

from __future__ import annotations

import enum
import os
import re
import secrets
import ssl
import stat
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import InspectError
from ..model import Alert
from ..textsafe import visible
from ..words import counted
from ..sources.inputs import PortOption

STATUS_STYLE = {"ok": "green", "ok_by_name": "green", "self_signed": "bold red", "unknown_issuer": "bold red",
                "expired": "red", "not_yet_valid": "red", "bad_signature": "bold red", "name_mismatch": "red",
                "no_certificate": "dim"}


class TrustSet(str, enum.Enum):
    mozilla = "mozilla"
    cisco_mic = "cisco-mic"


# ---- file names ---------------------------------------------------------------------------------

def safe_stem(text: str | None, fallback: str = "cert", limit: int = 64) -> str:
    """A file-name stem from a (possibly hostile) CN: ASCII letters, digits, ``. _ -`` only, no
    leading dot, no ``..``, at most ``limit`` characters."""
    s = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", s)
    s = re.sub(r"\.{2,}", ".", s)
    s = s.strip("._-")[:limit].strip("._-")
    return s or fallback


def cert_file_name(cn: str | None, sha256: str) -> str:
    return f"{safe_stem(cn)}_{sha256[:12]}.pem"


def write_inside(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``directory/name``, refusing any name that is not a plain file name inside
    ``directory``, and never writing through anything planted there.

    The bytes go to a new temporary file (``O_CREAT | O_EXCL | O_NOFOLLOW``, so nothing that
    exists is opened), which is then renamed over ``name``.  A rename replaces the directory entry
    and never writes into what it pointed to: a planted hard link keeps its old content outside.
    A target that exists and is not a regular file (symbolic link, FIFO, device, directory) is
    refused, before anything is opened, so a planted FIFO cannot block the export."""
    if not name or name in (".", "..") or name != os.path.basename(name) or "\\" in name or "\x00" in name:
        raise ValueError(f"unsafe file name {name!r}")
    root = directory.resolve()
    target = root / name
    dfd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{target} exists and is not a regular file (a link, FIFO, device or "
                             "directory): not overwritten")
        tmp = f".{name}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(tmp, flags, 0o644, dir_fd=dfd)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass
            raise
    finally:
        os.close(dfd)
    return target


def pem_of(der: bytes) -> bytes:
    """PEM armour around the DER exactly as sent (so the SHA-256 of the decoded PEM is unchanged)."""
    return ssl.DER_cert_to_PEM_cert(der).encode("ascii")


# ---- what goes where ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Advice:
    """One thing to import into one trust store, and the flows that need it."""

    what: str                # "cucm-EC.steven.lab (self-signed)" or "the CA CN=... [AKI ...]"
    file: str | None         # the exported PEM that holds it, when the certificate is in the capture
    store: str               # where it goes
    flows: tuple[int, ...]
    why: str
    kind: str = "import"     # "import", or "other" (not fixed by a trust store: expired, name...)


def _peer_alert(alerts: list[str] | None, sender: str) -> str | None:
    """Description of the first fatal alert ``sender`` sent ("unknown_ca"), else None."""
    return next((a.description for a in Alert.all_of(alerts) if a.sender == sender and a.fatal), None)


_TRUST_CODES = ("self_signed", "unknown_issuer")


def _store_date(store_name: str | None):
    """The date of today's Mozilla list (certifi's version) when the store includes it, else None."""
    if not store_name or "mozilla" not in store_name.split("+"):
        return None
    import datetime as _dt
    try:
        import certifi
        return _dt.datetime.strptime(certifi.__version__[:10], "%Y.%m.%d").replace(tzinfo=_dt.timezone.utc)
    except (ImportError, ValueError, AttributeError):
        return None


def import_advice(analysis, validations, *, store_given: bool,
                  export_names: dict[str, str] | None = None, store_name: str | None = None) -> list[Advice]:
    """For every chain that is not trusted (by the store given, or, without one, rejected by the
    peer's fatal alert), the certificate to import and the trust store it belongs in.

    The peer's alert decides between a missing CA and another cause: ``certificate_expired`` or
    ``bad_certificate`` with a name mismatch is not fixed by importing anything.
    """
    from ..trust import trust_store_hint

    certs = analysis.certificates
    grouped: dict[tuple[str, str], dict] = {}

    def add(key: tuple[str, str], flow_id: int, **entry: object) -> None:
        e = grouped.setdefault(key, dict(entry, flows=[]))
        if flow_id not in e["flows"]:
            e["flows"].append(flow_id)

    for f in analysis.flows:
        server_v, client_v = validations.get(f.flow_id, (None, None))
        for side, v, peer in (("server", server_v, "client"), ("client", client_v, "server")):
            if v is None or v.ok or v.code == "no_certificate":
                continue
            alert = _peer_alert(f.alerts, peer)
            if not (store_given or alert):
                continue
            store = trust_store_hint(f.server_port, side, rejected_by_peer=alert is not None)
            others = [p for p in v.problems if p.split(":", 1)[0] not in _TRUST_CODES]
            if alert == "certificate_expired":
                expired = [p for p in others if p.startswith(("expired:", "not_yet_valid:"))]
                what = (f"{expired[0]}: {v.explain.get(expired[0], '')} Replace that certificate" if expired else
                        f"the peer reports an expired certificate, yet every certificate sent is valid at capture "
                        f"time, so its own copy of the CA {v.missing_issuer or '?'} has most likely expired: "
                        f"re-issue the chain under a current root, or update the peer's trust store")
                add((f"{side}:expired:{what}", store), f.flow_id, what=what, file=None, store=store, kind="other",
                    why="")
                continue
            trust_first = v.code in _TRUST_CODES and (alert in (None, "unknown_ca") or not others)
            if not trust_first:
                what = others[0] if others else v.status
                add((f"{side}:{what}", store), f.flow_id, what=what, file=None, store=store, kind="other",
                    why=v.explain.get(what, v.detail))
                continue
            top = v.path[-1] if v.path else None
            seen = certs.get(top) if top else None
            today = _store_date(store_name)
            taken = datetime.fromtimestamp(f.ts_start, tz=timezone.utc)
            old_capture = today is not None and (today - taken).days >= 365
            if seen is not None and seen.info.self_signed:
                what = f"{seen.info.subject_cn or seen.info.subject} (self-signed, sha256 {top[:16]}...)"
                if old_capture and seen.info.is_ca:
                    what += (f": absent from today's Mozilla store (certifi {today:%Y.%m.%d}); the capture is "
                             f"from {taken:%Y-%m-%d}, so this root may have been in the store then and removed "
                             f"since (check the store the client had at the time)")
                add((top, store), f.flow_id, what=what, file=(export_names or {}).get(top), store=store,
                    kind="import", why=v.detail)
            elif old_capture:
                what = (f"the CA certificate of {v.missing_issuer}: absent from today's Mozilla store (certifi "
                        f"{today:%Y.%m.%d}); the capture is from {taken:%Y-%m-%d}, so it may have been in the "
                        f"store then and removed since (check the store the client had at the time)")
                add((v.missing_issuer or v.status, store), f.flow_id, what=what, file=None, store=store,
                    kind="import", why=v.detail)
            else:
                what = f"the CA certificate of {v.missing_issuer} (not in the capture: get it from its CA)"
                add((v.missing_issuer or v.status, store), f.flow_id, what=what, file=None, store=store,
                    kind="import", why=v.detail)
    return [Advice(e["what"], e["file"], e["store"], tuple(e["flows"]), e["why"], e["kind"])
            for e in grouped.values()]


# ---- rendering ---------------------------------------------------------------------------------

def _console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(width=200, no_color=True, highlight=False, emoji=False)
    return console


def _box(console: Console):
    return box.HEAVY_HEAD if console.is_terminal else box.ASCII


def _show(text: object) -> str:
    """Printable text: control characters and bidi overrides (a hostile CN's ANSI escapes) shown as
    visible escapes, by the one rule of `inspector.textsafe`."""
    return visible(text)


def _cell(text: object, style: str = "") -> Text:
    """A table cell that is never parsed as rich markup (CNs and SNIs come from the wire)."""
    return Text(_show(text), style=style)


def _status_text(status: str | None) -> Text:
    if status is None:
        return Text("-")
    return _cell(status, STATUS_STYLE.get(status.split(":", 1)[0], "yellow"))


def _role(roles: list[str]) -> str:
    out = []
    for r in roles:
        label = {"server": "server", "client": "client", "server_chain": "chain (server)",
                 "client_chain": "chain (client)"}.get(r, r)
        if label not in out:
            out.append(label)
    return ", ".join(out) or "-"


def _ts(v: float) -> datetime:
    return datetime.fromtimestamp(float(v), tz=timezone.utc)


def certificates_table(analysis, console: Console) -> Table:
    from ..x509 import validity_at

    start = {f.flow_id: _ts(f.ts_start) for f in analysis.flows}
    table = Table(title=f"{analysis.capture}: {len(analysis.certificates)} distinct certificates",
                  title_justify="left", box=_box(console))
    for col in ("#", "subject CN", "issuer CN", "role", "valid from", "valid to", "at capture", "self-signed",
                "flows", "sha256"):
        table.add_column(col, overflow="fold", no_wrap=col in ("#", "valid from", "valid to"))
    for i, (fp, seen) in enumerate(analysis.certificates.items(), 1):
        info = seen.info
        when = min((start[x] for x in seen.flow_ids if x in start), default=None)
        state = validity_at(info, when) if when is not None else "unknown"
        table.add_row(
            str(i), _cell(info.subject_cn or info.subject or "-"), _cell(info.issuer_cn or info.issuer or "-"),
            _role(seen.roles), f"{info.not_before:%Y-%m-%d}" if info.not_before else "?",
            f"{info.not_after:%Y-%m-%d}" if info.not_after else "?",
            Text(state, style="green" if state == "valid" else "red"),
            "yes" if info.self_signed else "no", ", ".join(map(str, seen.flow_ids)), fp[:16])
    return table


def validation_table(analysis, validations, store_name: str, console: Console) -> Table:
    from ..output.report import endpoint, role_of

    table = Table(title=f"Chain validation against {store_name}, at each flow's start", title_justify="left",
                  box=_box(console))
    for col in ("#", "server", "service", "SNI", "outcome", "alerts", "server chain", "client chain"):
        table.add_column(col, overflow="fold", no_wrap=col in ("#", "server"))
    for f in analysis.flows:
        s, c = validations[f.flow_id]
        table.add_row(str(f.flow_id), endpoint(f.server_ip, f.server_port), role_of(f.server_port),
                      _cell(f.sni or "-"), f.outcome, ", ".join(f.alerts) or "-", _status_text(s.status),
                      _status_text(c.status if c is not None else None))
    return table


# ---- the command -------------------------------------------------------------------------------

def run_certs(file: Path, *, export: Path | None = None, trust: list[Path] | None = None,
              trust_set: list[str] | None = None, ports: list[int] | None = None, keylog: Path | None = None,
              console: Console | None = None, err: Console | None = None) -> int:
    """The ``certs`` command body; returns the exit code.  Raises `InspectError` on unusable input."""
    from ..api import read_capture
    from ..trust import TrustStore, builtin_trust_set, flow_validations, load_trust

    console = console or _console()
    err = err or Console(stderr=True, highlight=False, soft_wrap=True)
    store: TrustStore | None = None
    for t in trust or []:
        s = load_trust(t)
        store = s if store is None else store + s
    for name in trust_set or []:
        s = builtin_trust_set(name)
        store = s if store is None else store + s
    cap = read_capture(file, ports=ports or (), keylog=keylog)
    if export is not None:  # before printing anything: an unusable DIR is one line and exit 2
        if export.exists() and not export.is_dir():
            raise InspectError(f"--export {export}: not a directory")
        try:
            export.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InspectError(f"cannot create {export}: {e.strerror or e}") from None
    analysis = cap.analysis
    if store is not None:
        for why in store.skipped:
            err.print(_show(f"tlsinspect: warning: trust store: {why}"), markup=False)
    validations = flow_validations(analysis, store)

    console.print(certificates_table(analysis, console))
    if store is not None:
        console.print()
        console.print(_show(f"trust store {store.describe()}"), markup=False)
        console.print(validation_table(analysis, validations, f"trust store '{store.name}'", console))
        for f in analysis.flows:
            for side, v in zip(("server", "client"), validations[f.flow_id]):
                if v is not None and not v.ok and v.code != "no_certificate":
                    console.print(Text.assemble((f"flow {f.flow_id} {side}: ", "bold"), _status_text(v.status),
                                                f" - {_show(v.detail)}"))

    names: dict[str, str] = {}
    if export is not None:
        written: list[Path] = []
        try:
            for fp, seen in analysis.certificates.items():
                name = cert_file_name(seen.info.subject_cn, fp)
                written.append(write_inside(export, name, pem_of(seen.info.der)))
                names[fp] = name
            for f in analysis.flows:
                for side, chain in (("server", f.server_chain_sha256), ("client", f.client_chain_sha256)):
                    ders = [analysis.certificates[fp].info.der for fp in chain if fp in analysis.certificates]
                    if ders:
                        written.append(write_inside(export, f"flow{int(f.flow_id)}_{side}_chain.pem",
                                                    b"".join(pem_of(d) for d in ders)))
        except (OSError, ValueError) as e:
            raise InspectError(f"cannot write into {export}: {getattr(e, 'strerror', None) or e}") from None
        console.print()
        bundles = len(written) - len(names)
        console.print(f"wrote {counted(len(names), 'certificate')} and {counted(bundles, 'chain bundle')} "
                      f"to {_show(export)}:", markup=False)
        for p in written:
            console.print(f"  {p.name}", markup=False)

    advice = import_advice(analysis, validations, store_given=store is not None, export_names=names,
                           store_name=store.name if store is not None else None)
    if advice:
        console.print()
        console.print(Text("What to import where", style="bold"))
        for a in advice:
            flows = ", ".join(map(str, a.flows))
            target = f" ({a.file})" if a.file else ""
            if a.kind != "import":
                console.print(_show(f"- flows {flows}: not a missing CA: {a.what}. {a.why}".rstrip(". ") + "."),
                              markup=False)
            else:
                console.print(_show(f"- {a.what}{target} -> {a.store}  [flows {flows}]"), markup=False)
    return 0


def register(app: typer.Typer) -> None:
    """Add the ``certs`` command to ``app``."""

    @app.command("certs")
    def certs(
        file: Annotated[Path, typer.Argument(help="pcap or pcapng file, optionally gzip-compressed")],
        export: Annotated[Optional[Path], typer.Option(
            "--export", metavar="DIR", help="write each certificate and each flow's chains as PEM into DIR")] = None,
        trust: Annotated[Optional[list[Path]], typer.Option(
            "--trust", metavar="FILE|DIR",
            help="trust store: PEM bundle, DER file, directory, or CUCM/Expressway trust export "
                 "(.tar/.tgz/.zip); repeatable")] = None,
        trust_set: Annotated[Optional[list[str]], typer.Option(
            "--trust-set", metavar="mozilla|cisco-mic",
            help="built-in trust set: mozilla (certifi) or cisco-mic (Cisco manufacturing CA names); repeatable")
        ] = None,
        port: PortOption = None,
        keylog: Annotated[Optional[Path], typer.Option(
            "--keylog", help="NSS key log file (SSLKEYLOGFILE) to decrypt TLS 1.3 handshakes")] = None,
    ) -> None:
        """List every distinct certificate in FILE; validate each flow's chains (--trust, --trust-set)
        at capture time; export them as PEM (--export) and say which trust store each missing CA needs."""
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        try:
            code = run_certs(file, export=export, trust=trust, trust_set=list(trust_set or []),
                             ports=port, keylog=keylog, err=err)
        except InspectError as e:
            err.print(_show(f"tlsinspect: {e}"), markup=False)
            raise typer.Exit(2) from None
        raise typer.Exit(code)
