"""Clearance: a gateway that enforces data classification in front of self-hosted LLMs."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
