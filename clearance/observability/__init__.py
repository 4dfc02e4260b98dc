"""Metrics and logs. Neither ever holds prompt or response text."""
