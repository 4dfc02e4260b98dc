"""Benchmarks. ``python bench/proxy.py`` measures the gateway's overhead; see docs/benchmark-proxy.md."""
