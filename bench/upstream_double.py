"""The upstream for every benchmark target: ``FakeUpstream`` (the test suite's double), in a process of its own.

    python -m bench.upstream_double --port 9001 --events 40 --loop uvloop
    python -m bench.upstream_double --port 9001 --sensitive --first-token-ms 100 --event-ms 10 --report up.json

Streams send ``--events`` content events (plus the finish, usage and ``[DONE]`` events); a non-streamed answer
carries the same text. The double records what it receives; that list is emptied every second so a long run
does not grow it without bound.

With ``--sensitive`` (the masking benchmark) the answer is ``bench.sensitive``'s, which carries sensitive values
(streamed in ``--events`` token-like pieces, the values split across events), and every request received is checked
before the list is emptied: one the gateway sent (it carries ``X-Request-ID``) must hold the masked forms and no raw
restricted value; one sent direct or through the plain proxy must hold the raw values (proof the check can fail).
The counts go to the ``--report`` JSON file, rewritten after every check.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import asdict
from pathlib import Path

import orjson

from bench.checks import ReceivedReport
from bench.event_loop import LoopKind, run
from bench.processes import fork_workers
from bench.sensitive import stream_pieces
from clearance.testing.fake_upstream import FakeUpstream, FakeUpstreamBehaviour

REPLY = "The quarterly figures look consistent with last year's. "
CHECK_EVERY_S = 0.25


def write_report(path: Path, report: ReceivedReport) -> None:
    """Replace the file in one step, so a reader never sees half of it."""
    partial = path.with_suffix(".tmp")
    partial.write_bytes(orjson.dumps(asdict(report)))
    os.replace(partial, path)


def behaviour(events: int, sensitive: bool, first_token_ms: float, event_ms: float) -> FakeUpstreamBehaviour:
    """The double's answer. A stream's first event leaves ``first_token_ms`` after the request came (the double
    waits ``event_ms`` before every event, the first included), then one event every ``event_ms``."""
    first_byte_s = max(0.0, first_token_ms - event_ms) / 1000.0
    if sensitive:
        out = FakeUpstreamBehaviour(pieces=stream_pieces(events))
    else:
        out = FakeUpstreamBehaviour(reply=REPLY, piece_chars=6, events=events)
    out.models = ("bench-model",)
    out.first_byte_delay_s = first_byte_s
    out.event_delay_s = event_ms / 1000.0
    return out


async def serve(
    port: int, upstream_behaviour: FakeUpstreamBehaviour, report_path: Path | None, reuse_port: bool = False
) -> None:
    upstream = FakeUpstream(behaviour=upstream_behaviour, port=port, reuse_port=reuse_port)
    await upstream.start()
    print(f"READY {upstream.port}", flush=True)
    report = ReceivedReport()
    try:
        while True:
            await asyncio.sleep(CHECK_EVERY_S if report_path else 1.0)
            if report_path is not None:
                for received in upstream.received:
                    report.check(received.headers, received.body)
                write_report(report_path, report)
            upstream.received.clear()
    finally:
        await upstream.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="asyncio")
    parser.add_argument("--sensitive", action="store_true", help="answer with bench.sensitive's values")
    parser.add_argument("--first-token-ms", type=float, default=0.0, help="when a stream's first event leaves")
    parser.add_argument("--event-ms", type=float, default=0.0, help="wait before each stream event")
    parser.add_argument("--report", type=Path, help="check every request received and write the counts here")
    parser.add_argument("--workers", type=int, default=1, help="processes serving the port (SO_REUSEPORT)")
    args = parser.parse_args()
    if args.workers > 1 and args.report:
        parser.error("--report counts one process's requests: use it with one worker")
    loop: LoopKind = args.loop
    fork_workers(args.workers)
    answers = behaviour(args.events, args.sensitive, args.first_token_ms, args.event_ms)
    run(serve(args.port, answers, args.report, reuse_port=args.workers > 1), loop)


if __name__ == "__main__":
    main()
