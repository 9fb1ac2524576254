"""The terminal edge of the CLI: the consoles the table report and live capture print to, and the
one-line failure every command ends with.  Imported by cli.py, output.py and live.py (so none of
them imports another for these)."""

from __future__ import annotations

import os

from rich.console import Console

err = Console(stderr=True, highlight=False, soft_wrap=True)


class PipeConsole(Console):
    """A rich console whose closed pipe raises BrokenPipeError (rich's own default exits 1)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def table_console(output_file=None) -> Console:
    """The console for the table report: the terminal's width; piped or to a file, ``COLUMNS``
    when set (else 200 piped, 160 to a file)."""
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) >= 20 else None
    if output_file is not None:
        return PipeConsole(file=output_file, width=width or 160)
    console = PipeConsole()
    if not console.is_terminal:
        console = PipeConsole(width=width or 200)
    return console


def fail(message: str, code: int = 2):
    """Print ``tlsinspect: MESSAGE`` on stderr (neutralised) and return the typer.Exit to raise."""
    import typer

    from ..output.report import cell
    err.print(f"tlsinspect: {cell(message)}", markup=False)
    return typer.Exit(code)
