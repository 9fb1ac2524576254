"""The test suite's one view of its inputs: the repository, the bundled samples, the public corpus.

Every test module that reads a capture finds it through here, so a change of layout (or of where CI
puts the shared corpus) is made once::

    from corpus import CORPUS, PCAPS, corpus_files, corpus_path, needs_corpus

``CORPUS`` is the public corpus (``../shared/corpus/public`` beside the checkout, as CI lays it out,
else ``/work/shared/corpus/public``), or None where it is absent: tests that need it are marked
``needs_corpus`` or call ``corpus_path`` (which skips).  ``TLSINSPECT_FULL=1`` widens the subsets the
slow differential tests use to the whole corpus (`corpus_subset`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
DATA = TESTS / "data"
PCAPS = ROOT / "pcaps"
README = ROOT / "README.md"

#: run the differential tests on the whole corpus rather than on their subsets
FULL = os.environ.get("TLSINSPECT_FULL") == "1"

#: what counts as a capture file in the corpus
CAPTURE_SUFFIXES = (".pcap", ".pcapng")
#: ... and among the bundled files, which include gzip-compressed and ``.cap`` captures
ANY_CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz")


#: the corpus files the differential tests run by plain `make test` (all of them with
#: TLSINSPECT_FULL=1): mutual TLS, alerts, TLS 1.3 and drafts, SSLv2, STARTTLS, resumption, HRR,
#: IPv6, odd certificates, pcapng
CORPUS_SPREAD: tuple[str, ...] = (
    "zeek-zeek/client-certificate.pcap",
    "zeek-zeek/certificate-request-failed.pcap",
    "zeek-zeek/tls-1.2-handshake-failure.pcap",
    "zeek-zeek/tls13draft16-ff52.a01.pcap",
    "zeek-zeek/hrr.pcap",
    "zeek-zeek/ssl-v2.pcap",
    "zeek-zeek/smtp-starttls.pcap",
    "zeek-zeek/missing-intermediate.pcap",
    "zeek-zeek/tls-expired-cert.pcap",
    "zeek-zeek/tls13_psk_succesfull.pcap",
    "OISF-suricata-verify/tls-cert-issuer__tls.pcap",
    "OISF-suricata-verify/community-id-ipv6__input.pcap",
    "OISF-suricata-verify/tls-store-02__tls-client-auth.pcap",
    "ntop-nDPI/tls_alert.pcap",
    "Lekensteyn-wireshark-notes/dump.pcapng",
)


def _find_corpus() -> Path | None:
    for cand in (ROOT.parent / "shared" / "corpus" / "public", Path("/work/shared/corpus/public")):
        if cand.is_dir():
            return cand
    return None


CORPUS: Path | None = _find_corpus()

needs_corpus = pytest.mark.skipif(CORPUS is None, reason="the public corpus (shared/corpus/public) is not available")


def sample_files() -> list[Path]:
    """The bundled samples, ``pcaps/*.pcap*``, sorted."""
    return sorted(p for p in PCAPS.glob("*.pcap*") if p.is_file())


def capture_files(folder: Path, suffixes: tuple[str, ...] = CAPTURE_SUFFIXES) -> list[Path]:
    """Every capture under ``folder``, recursively, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes)


def corpus_files() -> list[Path]:
    """Every capture of the public corpus, sorted; empty where the corpus is absent."""
    return capture_files(CORPUS) if CORPUS is not None else []


def corpus_subset(rels: tuple[str, ...]) -> list[Path]:
    """The corpus files named by ``rels`` (those present), or every corpus file with
    ``TLSINSPECT_FULL=1``."""
    if CORPUS is None:
        return []
    if FULL:
        return corpus_files()
    return [CORPUS / r for r in rels if (CORPUS / r).is_file()]


def corpus_file(rel: str) -> Path:
    """Where a corpus file is, present or not (for ``skipif`` marks; `corpus_path` skips instead)."""
    return (CORPUS if CORPUS is not None else ROOT.parent / "shared" / "corpus" / "public") / rel


def corpus_path(rel: str) -> Path:
    """One corpus file, e.g. ``corpus_path("zeek-zeek/hrr.pcap")``; skips the calling test when the
    corpus (or that file) is absent."""
    if CORPUS is None:
        pytest.skip("the public corpus (shared/corpus/public) is not available")
    path = CORPUS / rel
    if not path.is_file():
        pytest.skip(f"{rel} is not in the public corpus")
    return path


def corpus_id(path: Path) -> str:
    """A corpus file's name relative to the corpus, for test ids: ``zeek-zeek/hrr.pcap``."""
    assert CORPUS is not None
    return path.relative_to(CORPUS).as_posix()
