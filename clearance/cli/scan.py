"""``clearance scan`` and ``clearance classify``: the detection engine on files, the same one the gateway enforces.

``scan [FILE|-]`` prints each finding's type, level, position and a masked excerpt (the value itself is never
printed), or JSON with ``--json``. ``classify INPUT...`` labels every record of JSONL, CSV or text files with its
level and entity counts, as JSONL or CSV, with a progress bar and a summary.

Levels are the gateway's: the policy's (``--policy``, else the ``policy:`` setting of the ``--config`` file, else
the built-in default policy) with the levels the configuration's ``detection:`` section declares for types the
policy does not list (``clearance.levels``).
"""

from __future__ import annotations

import csv
import json
import sys
from bisect import bisect_right
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from clearance.cli.records import Record, RecordFormat, detect_format, read_records
from clearance.config import GatewayConfig, load_config
from clearance.detect.scanner import Scanner
from clearance.exceptions import ConfigError
from clearance.levels import LevelScheme
from clearance.models import Finding
from clearance.policy import Policy, load_policy

CONFIG_OPTION = typer.Option(
    None, "--config", "-c", help="A gateway configuration file whose detection: section to use (default: built-ins)."
)
POLICY_OPTION = typer.Option(
    None, "--policy", "-p", help="A policy file whose levels to use (default: the --config file's policy: setting)."
)
_CONTROL = str.maketrans({c: " " for c in range(32)})


def gateway_config(path: Path | None) -> GatewayConfig:
    """The gateway configuration at ``path`` (defaults without one); every error printed, then exit 2."""
    try:
        return load_config(path) if path is not None else GatewayConfig()
    except ConfigError as exc:
        _print_config_error(exc)
        raise typer.Exit(2) from None


def gateway_policy(settings: GatewayConfig, path: Path | None = None) -> Policy:
    """The policy the gateway would run with ``settings`` (the file at ``path``, else its ``policy.file``, else the
    built-in default), with the levels its ``detection:`` section declares: one classification scheme, as
    ``clearance.app.create_app`` builds it. Every error printed, then exit 2."""
    try:
        return load_policy(path if path is not None else settings.policy.file, settings.detection.declared_levels())
    except ConfigError as exc:
        _print_config_error(exc)
        raise typer.Exit(2) from None


def build_scanner(
    config: Path | GatewayConfig | None, min_score: float | None = None, *, levels: LevelScheme | None = None
) -> Scanner:
    """The gateway's scanner for ``config``; ``levels`` is the policy's scheme (``gateway_policy(...).scheme``)."""
    loaded = config if isinstance(config, GatewayConfig) else gateway_config(config)
    try:
        scanner = Scanner.from_config(loaded, levels=levels)
    except ConfigError as exc:
        _print_config_error(exc)
        raise typer.Exit(2) from None
    return scanner if min_score is None else scanner.with_min_score(min_score)


def engine_scanner(config: Path | None, policy: Path | None, min_score: float | None = None) -> Scanner:
    """The scanner of ``scan`` and ``classify``: the gateway's, classifying with the gateway's policy."""
    settings = gateway_config(config)
    return build_scanner(settings, min_score, levels=gateway_policy(settings, policy).scheme)


def _print_config_error(exc: ConfigError) -> None:
    err = Console(stderr=True)
    err.print(Text(exc.message))
    for path, message in exc.errors:
        err.print(Text(f"  {path}: {message}"))


def masked_excerpt(text: str, findings: list[Finding], index: int, width: int = 24) -> str:
    """The text around ``findings[index]`` with every finding in view replaced by its type: never a raw value.

    ``findings`` are disjoint and sorted (as ``Scanner.scan`` returns them); only those near the target are read.
    """
    target = findings[index]
    lo, hi = max(0, target.start - width), min(len(text), target.end + width)
    first = index
    while first > 0 and findings[first - 1].end > lo:
        first -= 1
    last = index
    while last + 1 < len(findings) and findings[last + 1].start < hi:
        last += 1
    lo, hi = min(lo, findings[first].start), max(hi, findings[last].end)  # never cut a finding in half
    pieces: list[str] = ["…" if lo > 0 else ""]
    pos = lo
    for f in findings[first : last + 1]:
        pieces.append(text[pos : f.start].translate(_CONTROL))
        pieces.append(f"[{f.type}]")
        pos = f.end
    pieces.append(text[pos:hi].translate(_CONTROL))
    pieces.append("…" if hi < len(text) else "")
    return "".join(pieces)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def _line_col(line_starts: list[int], offset: int) -> tuple[int, int]:
    line = bisect_right(line_starts, offset)
    return line, offset - line_starts[line - 1] + 1


def _read_input(file: str) -> str:
    if file == "-":
        return sys.stdin.read()
    try:
        return Path(file).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        Console(stderr=True).print(Text(f"cannot read {file}: {exc.strerror}"))
        raise typer.Exit(2) from None


def scan_command(
    file: str = typer.Argument("-", help="The file to scan; - (the default) reads standard input."),
    as_json: bool = typer.Option(False, "--json", help="Print findings as JSON."),
    config: Path | None = CONFIG_OPTION,
    policy: Path | None = POLICY_OPTION,
    min_score: float | None = typer.Option(None, "--min-score", min=0.0, max=1.0, help="Override the threshold."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="Exit 1 when the text's level is this or higher."),
    max_rows: int = typer.Option(500, "--max-rows", min=1, help="Table rows at most (--json lists every finding)."),
) -> None:
    """Find sensitive data in FILE; print type, level, position and a masked excerpt of each finding."""
    scanner = engine_scanner(config, policy, min_score)
    if fail_on is not None and fail_on not in scanner.levels.order:
        raise typer.BadParameter(f"expected one of {', '.join(scanner.levels.order)}", param_hint="--fail-on")
    text = _read_input(file)
    result = scanner.classify(text)
    findings = list(result.findings)
    line_starts = _line_starts(text)
    rows: list[dict[str, Any]] = []
    for f in findings:
        line, column = _line_col(line_starts, f.start)
        rows.append(
            {
                "type": f.type,
                "level": scanner.levels.level_of(f.type),
                "start": f.start,
                "end": f.end,
                "line": line,
                "column": column,
                "score": round(f.score, 3),
                "detector": f.detector,
            }
        )
    console = Console()
    if as_json:
        # Plain JSON (no highlighting): it is for programs, and stays fast for files with many findings.
        sys.stdout.write(
            json.dumps({"level": result.level, "counts": result.counts, "findings": rows}, indent=2) + "\n"
        )
    else:
        table = Table(title=f"{file}: {result.level} ({len(findings)} finding(s))")
        for heading in ("type", "level", "line:col", "offsets", "score", "excerpt (masked)"):
            table.add_column(heading)
        for i, row in enumerate(rows[:max_rows]):
            table.add_row(
                row["type"],
                row["level"],
                f"{row['line']}:{row['column']}",
                f"{row['start']}-{row['end']}",
                f"{row['score']:.2f}",
                Text(masked_excerpt(text, findings, i)),
            )
        console.print(table)
        if len(rows) > max_rows:
            counts = ", ".join(f"{t} {n}" for t, n in result.counts.items())
            console.print(Text(f"… {len(rows) - max_rows} more finding(s) not shown ({counts} in all); use --json"))
    if fail_on is not None and scanner.levels.rank(result.level) >= scanner.levels.rank(fail_on):
        raise typer.Exit(1)


def _open_output(output: str) -> TextIO:
    if output == "-":
        return sys.stdout
    return open(output, "w", encoding="utf-8", newline="")


def classify_command(
    inputs: list[str] = typer.Argument(..., help="JSONL, CSV or text files (- for standard input)."),
    fmt: str = typer.Option("auto", "--format", help="auto (by extension), jsonl, csv or text."),
    field: str | None = typer.Option(None, "--field", help="The JSON field (dotted path) or CSV column to scan."),
    output: str = typer.Option("-", "--output", "-o", help="Where to write the labels; - for standard output."),
    output_format: str = typer.Option("jsonl", "--output-format", help="jsonl or csv."),
    config: Path | None = CONFIG_OPTION,
    policy: Path | None = POLICY_OPTION,
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on standard error."),
) -> None:
    """Label each record of INPUTS with its classification level and entity counts."""
    if fmt not in ("auto", "jsonl", "csv", "text"):
        raise typer.BadParameter("expected auto, jsonl, csv or text", param_hint="--format")
    if output_format not in ("jsonl", "csv"):
        raise typer.BadParameter("expected jsonl or csv", param_hint="--output-format")
    scanner = engine_scanner(config, policy)
    err = Console(stderr=True)
    levels: Counter[str] = Counter()
    types: Counter[str] = Counter()
    errors = 0
    total = sum(Path(p).stat().st_size for p in inputs if p != "-" and Path(p).is_file())
    out = _open_output(output)
    writer = csv.writer(out) if output_format == "csv" else None
    if writer is not None:
        writer.writerow(["source", "record", "level", "counts", "error"])
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, disable=not progress, transient=True,
    )  # fmt: skip
    try:
        with bar:
            task = bar.add_task("classifying", total=total or None)
            for source in inputs:
                record_format: RecordFormat = detect_format(source) if fmt == "auto" else fmt  # type: ignore[assignment]
                for record in _records(source, record_format, field, lambda n: bar.advance(task, n), err):
                    level, counts = _label(scanner, record)
                    levels[level] += 1
                    types.update(counts)
                    errors += record.error is not None
                    _write(out, writer, source, record, level, counts)
    finally:
        if out is not sys.stdout:
            out.close()
    _summary(err, scanner, levels, types, errors)


def _records(source: str, fmt: RecordFormat, field: str | None, on_bytes: Any, err: Console) -> Any:
    try:
        stream = sys.stdin if source == "-" else open(source, encoding="utf-8", errors="replace", newline="")  # noqa: SIM115
    except OSError as exc:
        err.print(Text(f"cannot read {source}: {exc.strerror}"))
        raise typer.Exit(2) from None
    try:
        yield from read_records(stream, fmt, field=field, on_bytes=on_bytes)
    except ValueError as exc:
        err.print(Text(f"{source}: {exc}"))
        raise typer.Exit(2) from None
    finally:
        if stream is not sys.stdin:
            stream.close()


def _label(scanner: Scanner, record: Record) -> tuple[str, dict[str, int]]:
    if record.error is not None:
        return scanner.levels.lowest, {}
    result = scanner.classify(record.text)
    return result.level, result.counts


def _write(out: TextIO, writer: Any, source: str, record: Record, level: str, counts: dict[str, int]) -> None:
    if writer is not None:
        flat = ";".join(f"{t}={n}" for t, n in counts.items())
        writer.writerow([source, record.number, level, flat, record.error or ""])
        return
    row: dict[str, Any] = {"source": source, "record": record.number, "level": level, "counts": counts}
    if record.error is not None:
        row["error"] = record.error
    out.write(json.dumps(row) + "\n")


def _summary(err: Console, scanner: Scanner, levels: Counter[str], types: Counter[str], errors: int) -> None:
    table = Table(title=f"{sum(levels.values())} record(s) classified")
    table.add_column("level")
    table.add_column("records", justify="right")
    for level in reversed(scanner.levels.order):
        table.add_row(level, str(levels.get(level, 0)))
    err.print(table)
    if types:
        by_type = Table(title="entities found")
        by_type.add_column("type")
        by_type.add_column("level")
        by_type.add_column("count", justify="right")
        for type_, count in types.most_common():
            by_type.add_row(type_, scanner.levels.level_of(type_), str(count))
        err.print(by_type)
    if errors:
        err.print(Text(f"{errors} record(s) could not be read (invalid JSON or missing field): labelled lowest"))


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
    app.command("classify")(classify_command)
