"""Benchmarks: `make bench` / `python bench/run.py` (see docs/benchmarks.md)."""
