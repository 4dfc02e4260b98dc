"""Detection benchmark: Clearance against Presidio's analyzer on the same labelled corpus.

    .venv/bin/python -m bench.detection                # everything (creates bench/.venv-presidio on first run)
    .venv/bin/python -m bench.detection --no-presidio  # Clearance only

Prints per-type precision, recall and F1 for both engines, the rate of false positives on hard negatives, and
single-core throughput (MB/s of UTF-8 text per CPU second, one process, one thread) with the ratio. A predicted
span counts as a true positive when it overlaps a labelled span of the same type (each label matched once).
Presidio runs in its own virtual environment (``bench/setup_presidio.sh``) with its predefined pattern
recognizers and no NER, scored on the types both engines claim, with a 0.5 score threshold like Clearance's
default; it is timed twice: as shipped (every recognizer: the headline ratio) and asked only for the shared types.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.corpus import PATTERN_TYPES, SECRET_TYPES, generate
from clearance.detect import Scanner

HERE = Path(__file__).resolve().parent

PRESIDIO_PYTHON = HERE / ".venv-presidio" / "bin" / "python"
BARS = {"f1": 0.95, "hard_negative_fp_rate": 0.02, "speedup": 200.0}


def score(
    records: list[dict[str, Any]], predictions: list[list[dict[str, Any]]], types: tuple[str, ...]
) -> dict[str, Any]:
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    negatives = flagged = 0
    flagged_kinds: dict[str, int] = defaultdict(int)
    for record, preds in zip(records, predictions, strict=True):
        preds = [p for p in preds if p["type"] in types]
        gold = [e for e in record["entities"] if e["type"] in types]
        used = [False] * len(gold)
        for p in preds:
            match = next(
                (i for i, g in enumerate(gold) if not used[i] and g["type"] == p["type"]
                 and p["start"] < g["end"] and g["start"] < p["end"]),
                None,
            )  # fmt: skip
            if match is None:
                fp[p["type"]] += 1
            else:
                used[match] = True
                tp[p["type"]] += 1
        for g, hit in zip(gold, used, strict=True):
            if not hit:
                fn[g["type"]] += 1
        for neg in record["negatives"]:
            negatives += 1
            if any(p["start"] < neg["end"] and neg["start"] < p["end"] for p in preds):
                flagged += 1
                flagged_kinds[neg["kind"]] += 1
    per_type = {}
    for t in types:
        precision = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else (1.0 if not fn[t] else 0.0)
        recall = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_type[t] = {
            "gold": tp[t] + fn[t],
            "tp": tp[t],
            "fp": fp[t],
            "fn": fn[t],
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    return {
        "per_type": per_type,
        "hard_negatives": negatives,
        "hard_negative_fp": flagged,
        "hard_negative_fp_rate": flagged / negatives if negatives else 0.0,
        "flagged_kinds": dict(flagged_kinds),
    }


def run_clearance(records: list[dict[str, Any]], repeat: int) -> dict[str, Any]:
    scanner = Scanner()
    texts = [r["text"] for r in records]
    scanner.scan("warm up 4111 1111 1111 1111 jo@x.io")
    predictions = [
        [{"start": f.start, "end": f.end, "type": f.type, "score": f.score} for f in scanner.scan(t)] for t in texts
    ]
    best_cpu = float("inf")
    record_cpu = [float("inf")] * len(texts)
    for _ in range(repeat):
        cpu = time.process_time()
        for i, t in enumerate(texts):
            started = time.process_time()
            scanner.scan(t)
            record_cpu[i] = min(record_cpu[i], time.process_time() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    latencies = []
    for t in texts:
        start = time.perf_counter()
        scanner.scan(t)
        latencies.append((time.perf_counter() - start) * 1e6)
    latencies.sort()
    return {
        "predictions": predictions,
        "cpu_s": best_cpu,
        "record_cpu_s": record_cpu,
        "p50_us": statistics.median(latencies),
        "p99_us": latencies[int(len(latencies) * 0.99) - 1],
    }


def best_of(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    best = a if a["cpu_s"] <= b["cpu_s"] else b
    return {**best, "record_cpu_s": [min(x, y) for x, y in zip(a["record_cpu_s"], b["record_cpu_s"], strict=True)]}


def run_presidio(corpus_path: Path, mode: str) -> dict[str, Any]:
    if not PRESIDIO_PYTHON.exists():
        print("creating bench/.venv-presidio (Presidio's analyzer, for comparison only)...", file=sys.stderr)
        subprocess.run(["bash", str(HERE / "setup_presidio.sh")], check=True)
    out = corpus_path.with_suffix(f".presidio-{mode}.json")
    runner = [str(PRESIDIO_PYTHON), str(HERE / "presidio_runner.py"), str(corpus_path), str(out), mode]
    subprocess.run(runner, check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def fmt(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.3f}"


def report(
    records: list[dict[str, Any]], clearance: dict[str, Any], presidio: dict[str, Any] | None, types: tuple[str, ...]
) -> bool:
    size_mb = sum(len(r["text"].encode()) for r in records) / 1e6
    ours = score(records, clearance["predictions"], types)
    theirs = score(records, presidio["predictions"], types) if presidio else None
    labelled = sum(len(r["entities"]) for r in records)
    print(f"\ncorpus: {len(records)} records, {size_mb:.3f} MB, {labelled} labelled values, ", end="")
    print(f"{ours['hard_negatives']} hard negatives\n")
    head = f"{'type':22s} {'gold':>5s} | {'Clearance P':>11s} {'R':>6s} {'F1':>6s} |"
    print(head + f" {'Presidio P':>10s} {'R':>6s} {'F1':>6s}")
    ok: bool = True
    for t in types:
        a = ours["per_type"][t]
        b = theirs["per_type"][t] if theirs else None
        line = f"{t:22s} {a['gold']:5d} | {fmt(a['precision']):>11s} {fmt(a['recall'])} {fmt(a['f1'])} |"
        if b is None:
            line += f" {fmt(None):>10s} {fmt(None)} {fmt(None)}"
        else:
            line += f" {fmt(b['precision']):>10s} {fmt(b['recall'])} {fmt(b['f1'])}"
        print(line)
        ok &= bool(a["f1"] >= BARS["f1"])
    print(f"\nhard negatives flagged: Clearance {ours['hard_negative_fp']}/{ours['hard_negatives']} "
          f"({ours['hard_negative_fp_rate']:.2%})", end="")  # fmt: skip
    if theirs:
        rate = theirs["hard_negative_fp_rate"]
        print(f", Presidio {theirs['hard_negative_fp']}/{theirs['hard_negatives']} ({rate:.2%})")
        print(f"  Presidio's by kind: {theirs['flagged_kinds']}")
    else:
        print()
    if ours["flagged_kinds"]:
        print(f"  Clearance's by kind: {ours['flagged_kinds']}")
    ok &= bool(ours["hard_negative_fp_rate"] < BARS["hard_negative_fp_rate"])
    ours_mbs = size_mb / clearance["cpu_s"]
    print(f"\nthroughput (single core, CPU time): Clearance {ours_mbs:.2f} MB/s "
          f"(per record p50 {clearance['p50_us']:.0f} us, p99 {clearance['p99_us']:.0f} us)", end="")  # fmt: skip
    if presidio:
        theirs_mbs = size_mb / presidio["cpu_s"]
        ratio = ours_mbs / theirs_mbs
        print(f", Presidio {theirs_mbs:.4f} MB/s, ratio {ratio:.0f}x")
        ok &= bool(ratio >= BARS["speedup"])
    else:
        print()
    by_kind(records, clearance, presidio)
    return ok


def by_kind(records: list[dict[str, Any]], clearance: dict[str, Any], presidio: dict[str, Any] | None) -> None:
    """Throughput per kind of record: dense kinds (CSV exports) cost more per byte than prose for both engines."""
    head = f"\n{'kind':8s} {'records':>7s} {'MB':>6s} {'values/KB':>9s} | {'Clearance MB/s':>14s} |"
    print(head + f" {'Presidio MB/s':>13s} {'ratio':>6s}")
    for kind in sorted({r["kind"] for r in records}):
        idx = [i for i, r in enumerate(records) if r["kind"] == kind]
        size = sum(len(records[i]["text"].encode()) for i in idx)
        values = sum(len(records[i]["entities"]) for i in idx)
        ours = size / 1e6 / max(sum(clearance["record_cpu_s"][i] for i in idx), 1e-9)
        line = f"{kind:8s} {len(idx):7d} {size / 1e6:6.3f} {values / (size / 1000):9.2f} | {ours:14.2f} |"
        if presidio and "record_cpu_s" in presidio:
            theirs = size / 1e6 / max(sum(presidio["record_cpu_s"][i] for i in idx), 1e-9)
            line += f" {theirs:13.4f} {ours / theirs:5.0f}x"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=360)
    parser.add_argument("--repeat", type=int, default=3, help="Clearance timing passes (best is kept)")
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument("--shared", action=argparse.BooleanOptionalAction, default=True,
                        help="also time Presidio asked only for the entity types both engines claim")  # fmt: skip
    parser.add_argument("--secrets", action=argparse.BooleanOptionalAction, default=True,
                        help="also score the secret types (Presidio has no detector for them)")  # fmt: skip
    args = parser.parse_args()
    records = generate(args.records)
    types = PATTERN_TYPES + (SECRET_TYPES if args.secrets else ())
    with tempfile.TemporaryDirectory() as tmp:
        corpus_path = Path(tmp) / "corpus.jsonl"
        corpus_path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        clearance = run_clearance(records, args.repeat)
        presidio = None if args.no_presidio else run_presidio(corpus_path, "all")
        shared = None if args.no_presidio or not args.shared else run_presidio(corpus_path, "shared")
        if presidio:
            # Time Clearance again after Presidio's long runs: on a shared machine load comes and goes, and the
            # best of both sittings is the least disturbed one.
            clearance = best_of(clearance, run_clearance(records, args.repeat))
    ok = report(records, clearance, presidio, types)
    if presidio and shared:
        size_mb = sum(len(r["text"].encode()) for r in records) / 1e6
        ours, theirs = size_mb / clearance["cpu_s"], size_mb / shared["cpu_s"]
        print(f"\nPresidio asked only for the shared types (its fastest setting): {theirs:.4f} MB/s, "
              f"ratio {ours / theirs:.0f}x")  # fmt: skip
        by_kind(records, clearance, shared)
    bars = "F1 >= 0.95 per type, < 2% hard-negative FPs" + (", >= 200x Presidio" if presidio else "")
    print(f"\nbars ({bars}):", "met" if ok else "NOT met", "" if presidio else "(speed not compared: --no-presidio)")


if __name__ == "__main__":
    main()
