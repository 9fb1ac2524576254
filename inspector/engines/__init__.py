"""The three engines that turn a capture into an `inspector.model.Analysis`: `rust` (the default,
`inspector._core`), `python` (the reference pipeline: `inspector.link` -> `inspector.tcp` ->
`inspector.tls` -> `inspector.flows`) and `tshark` (Wireshark's dissectors)."""
