"""Clearance: a gateway that enforces data classification in front of self-hosted LLMs.

Detection and classification are usable on their own::

    import clearance

    clearance.scan("card 4111 1111 1111 1111")        # [Finding(start=5, end=24, type='CREDIT_CARD', ...)]
    clearance.classify("mail jo@acme.io").level         # 'confidential'
"""

from __future__ import annotations

from importlib.metadata import version

from clearance.detect.base import Detector
from clearance.detect.config import DetectionConfig
from clearance.detect.scanner import Scanner, classify, scan
from clearance.levels import Classification, LevelScheme
from clearance.models import Finding

__version__ = version(__name__)
"""The installed distribution's version: written in one place, ``pyproject.toml``."""

__all__ = [
    "Classification",
    "DetectionConfig",
    "Detector",
    "Finding",
    "LevelScheme",
    "Scanner",
    "__version__",
    "classify",
    "scan",
]
