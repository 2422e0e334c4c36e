"""Benchmarks: ingestion ratios (run.py), scale (scale.py) and the returns they run on (generate_returns.py)."""
