"""Detection and classification: find sensitive data in text, precisely and fast.

See ``scanner.py`` for the pipeline, ``base.py`` for the detector contract and ``builtin/`` for the detectors.
"""

from __future__ import annotations

from clearance.detect.base import Detector, Document
from clearance.detect.config import DetectionConfig
from clearance.detect.context import ContextRule
from clearance.detect.custom import KeywordDetector, RegexDetector
from clearance.detect.exclusions import Exclusion
from clearance.detect.registry import DetectorRegistry, builtin_registry
from clearance.detect.scanner import Scanner, classify, default_scanner, scan
from clearance.levels import Classification, LevelScheme

__all__ = [
    "Classification",
    "ContextRule",
    "DetectionConfig",
    "Detector",
    "DetectorRegistry",
    "Document",
    "Exclusion",
    "KeywordDetector",
    "LevelScheme",
    "RegexDetector",
    "Scanner",
    "builtin_registry",
    "classify",
    "default_scanner",
    "scan",
]
