"""Test doubles shipped with Clearance, for its own tests and benchmarks and for users' integration tests."""
