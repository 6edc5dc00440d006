"""Benchmarks: tokens, latency and upstream calls, each beside a baseline measured in the same run."""
