"""``python -m inspector`` and the ``tlsinspect`` console entry point.

A plain machine-format report (``tlsinspect FILE --format csv ...``) runs on `inspector.fastcli`
without importing typer or rich; everything else goes to the typer app (`inspector.cli.main`).
"""

import sys


def main(argv: list[str] | None = None) -> None:
    from .fastcli import main as fast_main

    args = list(sys.argv[1:] if argv is None else argv)
    code = fast_main(args)
    if code is not None:
        sys.exit(code)
    from .cli import main as typer_main
    typer_main(args, fast=False)


if __name__ == "__main__":
    main()
