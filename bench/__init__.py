"""Benchmarks. ``python -m bench.proxy`` measures the gateway's overhead; see docs/benchmark-proxy.md."""
