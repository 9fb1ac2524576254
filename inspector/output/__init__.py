"""What a run writes: the `sink` that ``tlsinspect report`` feeds, and one module per format
(`report`: table, JSON, CSV, Parquet; `jsonl`; `zeek`; `html` with its `ladder` diagrams)."""
