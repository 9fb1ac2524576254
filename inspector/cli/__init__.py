"""The ``tlsinspect`` command line: `fast` (plain machine-format reports without typer), `app` (the
typer application: report, batch, summary, explain), `certs`, `live`, and the `terminal` edge.

Importing this package imports nothing else: the fast path's start-up time depends on it."""
