"""Layout of the package (issue 15): no import cycles, no module over ~600 lines without a reason.

The module graph is read from the source (an AST walk over ``inspector/``), every ``import`` and
``from ... import`` counted, those inside functions too (a lazy import is still a dependency: it
runs the other module's top level, and a cycle through it is a cycle waiting for the day the import
moves up).  Imports under ``if TYPE_CHECKING:`` are left out (they never run).  A package's
``__init__`` is not an edge of its own submodules (Python imports the parent first, whatever the
code says).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "inspector"
MAX_LINES = 600

#: modules over MAX_LINES today, each with the reason it still is; a module leaves this list when it
#: is split (test_no_stale_exception says when), and a new long module needs a reason in its own
#: docstring ("over 600 lines because ...") or an entry here.
LONG_MODULES: dict[str, str] = {
    "inspector/batch.py": "one job, a directory in and a dataset out: input discovery, the two worker pools "
                          "(processes, Dask), the dataset writer and its manifest (670 lines; the fleet view "
                          "went to inspector/fleet.py, the Arrow types to inspector/arrow.py)",
    "inspector/sources/capture.py": "the capture file readers (pcap, pcapng, gzip, bounded) and the one place "
                                    "their magic numbers are read (sniff_format), 617 lines",
}


#: import cycles known today, each with the reason it is not broken here; test_no_import_cycles fails
#: on any other cycle, and on one of these once it is gone (remove it from here then).
KNOWN_CYCLES: dict[tuple[str, ...], str] = {
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers of the statements under ``if TYPE_CHECKING:``."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                out.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return out


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that module ``name`` (at ``path``) imports."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # `from pkg import sub` imports the submodule; `from mod import name`, the module
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:  # `import inspector.tls.messages.x`: the longest known prefix
                t = t.rpartition(".")[0]
            if t and t != name and not name.startswith(t + "."):  # a parent package is not an edge
                out.add(t)
    return out


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_the_graph_sees_function_level_and_relative_imports() -> None:
    graph = import_graph()
    assert "inspector.x509" in graph["inspector.flows"]                 # from .x509 import ...
    assert "inspector.trust" in graph["inspector.api"]                  # inside a function
    assert "inspector.x509.parse" in graph["inspector.x509.cache"]      # from .parse import ...
    assert "inspector.trust" not in graph["inspector.trust.load"]       # the parent is no edge


def test_cycles_are_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    found = [tuple(c) for c in cycles(import_graph())]
    new = [c for c in found if c not in KNOWN_CYCLES]
    assert new == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in new)
    gone = [c for c in KNOWN_CYCLES if c not in found]
    assert gone == [], f"no longer a cycle: remove from KNOWN_CYCLES: {gone}"


def test_the_cycles_of_issue_15_are_broken() -> None:
    """api <-> notebook <-> report and api <-> tshark_engine (issue 15): the engines and the
    renderers do not import the API back."""
    graph = import_graph()
    assert "inspector.api" not in graph["inspector.output.report"]
    tshark = [m for m in graph if m == "inspector.engines.tshark" or m.startswith("inspector.engines.tshark.")]
    assert len(tshark) > 1 and not any("inspector.api" in graph[m] for m in tshark)


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_module_over_600_lines_without_a_reason() -> None:
    unexplained = []
    for path in modules().values():
        rel = path.relative_to(ROOT).as_posix()
        if _lines(path) <= MAX_LINES or rel in LONG_MODULES:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if "over 600 lines because" not in " ".join(doc.split()).lower():
            unexplained.append(f"{rel} ({_lines(path)} lines)")
    assert unexplained == [], "split these, or say why in their docstring: " + ", ".join(unexplained)


def test_no_stale_exception() -> None:
    stale = [rel for rel in LONG_MODULES if not (ROOT / rel).exists() or _lines(ROOT / rel) <= MAX_LINES]
    assert stale == [], f"no longer over {MAX_LINES} lines: remove from LONG_MODULES: {stale}"


# ---- the tests' own layout ---------------------------------------------------------------------

TESTS = ROOT / "tests"
LAYERS = ("unit", "integration", "differential", "fuzz")


def test_every_test_module_is_in_a_layer() -> None:
    """tests/unit (one stage, in process), integration (the command line, outputs, notebook, batch),
    differential (against tshark, Zeek, the other engine), fuzz (hostile input, mutation runs)."""
    stray = [p.relative_to(ROOT).as_posix() for p in TESTS.rglob("test_*.py")
             if p.relative_to(TESTS).parts[0] not in LAYERS or len(p.relative_to(TESTS).parts) != 2]
    assert stray == []
    for layer in LAYERS:
        assert list((TESTS / layer).glob("test_*.py")), layer


def test_the_public_corpus_is_found_in_one_place() -> None:
    """tests/corpus.py is the one module that knows where the shared corpus lives."""
    import re
    lookup = re.compile(r'/ "shared"|"shared/corpus|Path\("/work/shared')
    copies = [p.relative_to(ROOT).as_posix() for p in TESTS.rglob("*.py")
              if p.name not in ("corpus.py", "test_layout.py") and lookup.search(p.read_text())]
    assert copies == []
    assert lookup.search((TESTS / "corpus.py").read_text())  # the pattern does see a lookup


def test_the_package_does_not_import_test_tools() -> None:
    """synth/ (capture generator) ships outside the package; nothing in it imports synth or tests."""
    offenders = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            offenders += [f"{name} imports {m}" for m in mods if m.split(".")[0] in ("synth", "tests", "corpus")]
    assert offenders == []
    assert not (PACKAGE / "synth").exists() and not (PACKAGE / "oracle.py").exists()
