"""The upstream for every benchmark target: ``FakeUpstream`` (the test suite's double), in a process of its own.

    python -m bench.upstream_double --port 9001 --events 40 --loop uvloop

Streams send ``--events`` content events (plus the finish, usage and ``[DONE]`` events); a non-streamed answer
carries the same text. The double records what it receives; that list is emptied every second so a long run
does not grow it without bound.
"""

from __future__ import annotations

import argparse
import asyncio

from bench.event_loop import LoopKind, run
from clearance.testing.fake_upstream import FakeUpstream, FakeUpstreamBehaviour

REPLY = "The quarterly figures look consistent with last year's. "


async def serve(port: int, events: int) -> None:
    behaviour = FakeUpstreamBehaviour(reply=REPLY, piece_chars=6, events=events, models=("bench-model",))
    upstream = FakeUpstream(behaviour=behaviour, port=port)
    await upstream.start()
    print(f"READY {upstream.port}", flush=True)
    try:
        while True:
            await asyncio.sleep(1.0)
            upstream.received.clear()
    finally:
        await upstream.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="asyncio")
    args = parser.parse_args()
    loop: LoopKind = args.loop
    run(serve(args.port, args.events), loop)


if __name__ == "__main__":
    main()
