"""Scanning time on pathological inputs: how it grows from half to full size.

    .venv/bin/python -m bench.pathological            # every input; exit status 1 when one grows too fast
    .venv/bin/python -m bench.pathological --only "at signs"

Each input repeats a unit that once made the scanner quadratic (each one found and fixed): repeated to 100-700 KB,
they took 4 to 60 seconds. Twice the input may take about twice the time, not four times; the check judges each
input against itself at half its size (the best of three timings each), so the machine's speed cancels out.
``tests/detect/test_scanner.py`` counts the calls the same scans make, which is deterministic but cannot see work
done inside a regex engine or the Aho-Corasick automaton; this times everything.
"""

from __future__ import annotations

import argparse
import sys
import time

from clearance.detect.scanner import Scanner

# name: (prefix, unit, repeats, suffix)
PATHOLOGICAL = {
    "a JWT prefix repeated": ("", "eyJ", 70_000, "a"),
    "key-value connection strings": ("", "server=", 30_000, " password=x"),
    "a thousand-group digit run starting with 0": ("", "0123 ", 60_000, ""),
    "an international prefix then groups": ("+44 ", "20 ", 60_000, ""),
    "one card after another": ("", "4111111111111111 ", 40_000, ""),
    "credential stems in one token": ("", "password", 25_000, "=x"),
    "a PEM header without end": ("-----BEGIN ", "A", 200_000, ""),
    "at signs": ("", "a@", 100_000, ""),
    "scheme separators": ("", "://a:", 40_000, ""),
    "IBAN prefixes": ("", "DE89", 50_000, ""),
    "hex and colons": ("", "ab:", 40_000, ""),
    "dotted digits": ("", "1.", 100_000, ""),
    "HTML entities": ("", "&#52;", 60_000, ""),
    "percent escapes and plus signs in one token": ("", "%34+", 60_000, ""),
    "unicode escapes": ("", "\\u0034", 50_000, ""),
    "one base64 run": ("", "NDEx", 60_000, ""),
    "number words": ("", "one ", 60_000, ""),
    "URL paths with numbers": ("", "://a/1234567/", 20_000, ""),
    "data URLs": ("", "data:x;base64,QUJDREVGR0hJ ", 10_000, ""),
    "digits joined by one separator": ("", "4|", 100_000, ""),
    "cards between changing separators": ("", "4111|1111|1111|1111, ", 10_000, ""),
    "separated IBAN prefixes": ("", "de 89 ", 50_000, ""),
    "combining marks after digits": ("", "4\u0301", 60_000, ""),
}
GROWTH_BAR = 3.0
"""Full size may take at most this many times half size (linear: 2; quadratic: 4)."""
SLACK_S = 0.25
"""Added to the bar, for inputs scanned in a few milliseconds, where timer noise dominates."""


def pathological_text(name: str, fraction: float = 1.0) -> str:
    """The input ``name`` with ``fraction`` of its repeats."""
    prefix, unit, repeats, suffix = PATHOLOGICAL[name]
    return prefix + unit * int(repeats * fraction) + suffix


def _scan_seconds(scanner: Scanner, text: str) -> float:
    started = time.perf_counter()
    scanner.scan(text)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scanning time on pathological inputs, half size against full.")
    parser.add_argument("--only", action="append", choices=sorted(PATHOLOGICAL), help="just this input (repeatable)")
    args = parser.parse_args(argv)
    scanner = Scanner()
    failed = 0
    print(f"{'input':46s} {'KB':>5s} {'half s':>7s} {'full s':>7s} {'growth':>7s}")
    for name in args.only or PATHOLOGICAL:
        half = min(_scan_seconds(scanner, pathological_text(name, 0.5)) for _ in range(3))
        full = min(_scan_seconds(scanner, pathological_text(name)) for _ in range(3))
        met = full < GROWTH_BAR * half + SLACK_S
        failed += not met
        size = len(pathological_text(name).encode()) / 1000
        print(
            f"{name:46s} {size:5.0f} {half:7.3f} {full:7.3f} {full / half:6.2f}x{'' if met else '  TOO FAST A GROWTH'}"
        )
    print(f"bar: full < {GROWTH_BAR:g} x half + {SLACK_S} s: " + ("met" if not failed else f"missed by {failed}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
