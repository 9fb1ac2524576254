"""``python -m inspector`` and the ``tlsinspect`` console entry point.

A plain machine-format report (``tlsinspect FILE --format csv ...``) runs on `inspector.cli.fast`
without importing typer or rich; everything else goes to the typer app (`inspector.cli.app.main`).
"""

import sys


def main(argv: list[str] | None = None) -> None:
    from .cli.fast import main as fast_main

    args = list(sys.argv[1:] if argv is None else argv)
    code = fast_main(args)
    if code is not None:
        sys.exit(code)
    from .cli.app import main as typer_main
    typer_main(args, fast=False)


if __name__ == "__main__":
    main()
