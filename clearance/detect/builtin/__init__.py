"""The built-in detectors, one per module."""
