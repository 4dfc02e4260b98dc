"""Many instances: three real ``clearance serve`` processes on one PostgreSQL database behind Debian's HAProxy (with
``deploy/haproxy/clearance.cfg`` itself), the upstream double in its own process (``tests/e2e/cluster.py``).

- One instance is SIGKILLed under load from the openai SDK: clients see only retryable errors (connection errors,
  502/503/504), every call succeeds with the SDK's retries (and, for a stream cut in the middle, the client asking
  again), every answer received is the right one and has its record in PostgreSQL, and the trail verifies.
- An approval decided through one instance releases a request waiting on another (LISTEN/NOTIFY).
- A key revoked through one instance is refused by every instance at its next request.
- The policy: an instance reloads on SIGHUP; until the others get theirs they decide by the version they hold.

The tests share one cluster (starting it costs seconds); they run in file order and only the first kills anything
(``gw1``): the others use ``gw2`` and ``gw3``.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import openai
import pytest
from sqlalchemy import create_engine

from bench.upstream_double import REPLY
from clearance.audit.note import load_verifiers
from clearance.audit.verify import VerifyReport, load_checkpoints, read_trail, verify
from tests.admin.gateway import sql
from tests.conftest import postgres_schema
from tests.e2e.cluster import MODEL, Cluster, haproxy_binary, running_cluster, wait_for

pytestmark = pytest.mark.postgres

EVENTS = 30
"""Content events per answer; a stream takes about FIRST_TOKEN_MS + EVENTS * EVENT_MS."""
EVENT_MS = 15
FIRST_TOKEN_MS = 250
HOLD_S = (FIRST_TOKEN_MS - EVENT_MS) / 1000
"""How long the double holds a whole answer, so that whole requests are in flight too."""
CLIENTS = 6
CALLS = 40
"""Per client: CLIENTS * CALLS calls, every other one streamed."""
KILL_AFTER = 60
"""Answers received before gw1 is killed (once it has streams and whole answers in flight)."""
BURST = 6
"""Whole calls sent together just before the kill, so that some are in flight on gw1 (round robin: every third)."""
MAX_BURSTS = 50
MAX_RETRIES = 6
"""The SDK's retries of a call that failed before its answer began (connection errors, 502, 503, 504)."""
STREAM_TRIES = 4
"""A stream cut after it began is asked for again by the client (the SDK retries only before the first byte)."""
LOAD_TIMEOUT_S = 120.0
RETRYABLE_STATUSES = {502, 503, 504}


def expected_answer() -> str:
    """What the double answers (``bench.upstream_double.behaviour``: the reply in pieces of 6, EVENTS of them)."""
    pieces = [REPLY[i : i + 6] for i in range(0, len(REPLY), 6)]
    return "".join(pieces[i % len(pieces)] for i in range(EVENTS))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if haproxy_binary() is None:
        message = "Debian's haproxy is not installed: run ./scripts/setup (or apt-get install haproxy)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    options = ("--events", str(EVENTS), "--event-ms", str(EVENT_MS), "--first-token-ms", str(FIRST_TOKEN_MS))
    with (
        postgres_schema() as database_url,
        running_cluster(tmp_path_factory.mktemp("cluster"), database_url, upstream_options=options) as running,
    ):
        yield running


@dataclass(frozen=True)
class Delivered:
    """An answer a client received whole."""

    request_id: str
    receipt: str | None
    """A whole answer's ``X-Clearance-Record`` spool key (a stream's receipt is an SSE comment the SDK skips)."""
    stream: bool
    text: str


class Load:
    """CLIENTS callers through HAProxy, each making CALLS calls one after another, every other one streamed."""

    def __init__(self, cluster: Cluster) -> None:
        self.statuses: list[int] = []
        """The status of every HTTP answer the SDK got, retried ones included."""
        self.broken: list[str] = []
        """The errors of streams cut after they began (asked for again)."""
        self.delivered: list[Delivered] = []
        self.enough = asyncio.Event()
        """Set once KILL_AFTER answers were received."""

        async def seen(response: httpx.Response) -> None:
            self.statuses.append(response.status_code)

        self.client = openai.AsyncOpenAI(
            base_url=cluster.url + "/v1",
            api_key=cluster.keys["sam"],
            max_retries=MAX_RETRIES,
            timeout=30,
            http_client=openai.DefaultAsyncHttpxClient(event_hooks={"response": [seen]}),
        )

    async def run(self) -> None:
        try:
            await asyncio.gather(*(self._caller(number) for number in range(CLIENTS)))
        finally:
            await self.client.close()

    async def _caller(self, number: int) -> None:
        for n in range(CALLS):
            self.delivered.append(await self._call(f"weekly status {number}-{n}", stream=bool(n % 2)))
            if len(self.delivered) >= KILL_AFTER:
                self.enough.set()

    async def whole(self, prompt: str) -> None:
        self.delivered.append(await self._call(prompt, stream=False))

    async def _call(self, prompt: str, *, stream: bool) -> Delivered:
        messages: Any = [{"role": "user", "content": prompt}]
        for _ in range(STREAM_TRIES):
            raw = await self.client.chat.completions.with_raw_response.create(
                model=MODEL, messages=messages, stream=stream
            )
            request_id = raw.headers["x-request-id"]
            answer = raw.parse()
            if not isinstance(answer, openai.AsyncStream):
                receipt = raw.headers["x-clearance-record"].split(";")[0].removeprefix("key=")
                return Delivered(request_id, receipt, False, answer.choices[0].message.content or "")
            pieces: list[str] = []
            finished = False
            try:
                async for chunk in answer:
                    for choice in chunk.choices:
                        pieces.append(choice.delta.content or "")
                        finished = finished or choice.finish_reason is not None
            except (httpx.TransportError, openai.APIConnectionError) as exc:
                self.broken.append(type(exc).__name__)
                continue
            assert finished, "a stream ended quietly before its end: a partial answer would pass for a whole one"
            return Delivered(request_id, None, True, "".join(pieces))
        raise AssertionError(f"a stream was cut {STREAM_TRIES} times")


async def streams_in_flight(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(url + "/metrics") as response:
        for line in (await response.text()).splitlines():
            if line.startswith("clearance_streams_in_flight "):
                return float(line.split()[1])
    return 0.0


def verify_trail(cluster: Cluster) -> VerifyReport:
    """``clearance audit verify``'s checks: every record against the shared tree, the tree against every checkpoint
    the instances signed (kept in the database)."""
    engine = create_engine(cluster.database_url)
    try:
        trail = read_trail(engine)
    finally:
        engine.dispose()
    saved, bad = load_checkpoints(None, trail.notes, load_verifiers([cluster.verifier_key]))
    assert bad == []
    return verify(trail, saved)


async def test_when_an_instance_is_killed_under_load_then_clients_see_only_retryable_errors_and_no_record_is_lost(
    cluster: Cluster,
) -> None:
    victim = cluster.instances[0]
    load = Load(cluster)
    in_flight_at_kill: list[float] = []
    rounds: list[int] = []

    async def kill() -> None:
        await load.enough.wait()
        async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as bursts:
            for round_ in range(MAX_BURSTS):  # bounded: streams start on gw1 every few hundred milliseconds
                for n in range(BURST):
                    _ = bursts.create_task(load.whole(f"burst {round_}-{n}"))
                await asyncio.sleep(HOLD_S / 3)  # the burst sent, not yet answered
                found = await streams_in_flight(session, victim.url)
                if found >= 2:  # and streams in the middle
                    in_flight_at_kill.append(found)
                    victim.kill()
                    break
            rounds.append(round_ + 1)

    async with asyncio.timeout(LOAD_TIMEOUT_S):
        await asyncio.gather(load.run(), kill())
    assert await asyncio.to_thread(victim.server.stop) == -signal.SIGKILL  # reaped: it died of the kill

    assert in_flight_at_kill, "gw1 never had two streams in flight: it was not killed"
    assert len(load.delivered) == CLIENTS * CALLS + BURST * rounds[0]  # every call succeeded in the end
    assert load.broken, "no client saw a stream cut: the kill hit nothing in flight"
    assert set(load.statuses) <= {200} | RETRYABLE_STATUSES, sorted(set(load.statuses))  # never a 4xx
    assert {d.text for d in load.delivered} == {expected_answer()}  # never a wrong or partial answer

    # every answer a client received has its record, written by the instance that answered, and the trail is whole
    records = sql(cluster.database_url, "SELECT request_id, spool_key, status, instance FROM audit_records")
    by_request = {request_id: (key, status) for request_id, key, status, _ in records}
    missing = [d.request_id for d in load.delivered if d.request_id not in by_request]
    assert missing == []
    assert {by_request[d.request_id][1] for d in load.delivered} == {200}
    assert all(by_request[d.request_id][0] == d.receipt for d in load.delivered if d.receipt is not None)
    assert {instance for *_, instance in records} >= {"gw1", "gw2", "gw3"}  # round robin reached every instance
    report = await asyncio.to_thread(verify_trail, cluster)
    assert report.ok, report.findings
    assert report.records >= len(load.delivered)
    assert report.checkpoints  # signed by the instances, each extending the one before, whoever signed it
    assert all(c.root_matches is not False and c.extends_previous is not False for c in report.checkpoints)
    print(  # the figures of the run, for whoever reads the output (-s)
        f"\n{len(load.delivered)} calls; {in_flight_at_kill[0]:.0f} streams in flight on gw1 at the kill; "
        f"{len(load.broken)} streams cut ({sorted(set(load.broken))}); statuses {sorted(set(load.statuses))}, "
        f"{sum(s != 200 for s in load.statuses)} retried; {len(records)} records; {len(report.checkpoints)} checkpoints"
    )


GITHUB_TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


async def test_when_approved_through_one_instance_then_a_request_waiting_on_another_is_released(
    cluster: Cluster,
) -> None:
    waiting_on, decided_on = cluster.instances[1], cluster.instances[2]
    body = {"model": MODEL, "messages": [{"role": "user", "content": f"deploy with {GITHUB_TOKEN}"}]}
    async with aiohttp.ClientSession() as session:

        async def wait() -> tuple[int, Any, str]:
            headers = {**cluster.headers("sam"), "X-Clearance-Wait": "30"}
            async with session.post(waiting_on.url + "/v1/chat/completions", json=body, headers=headers) as response:
                return response.status, await response.json(content_type=None), response.headers["X-Request-ID"]

        async with asyncio.timeout(30), asyncio.TaskGroup() as group:
            waiting = group.create_task(wait())
            pending = await wait_for(
                session,
                decided_on.url + "/admin/v1/approvals?state=pending",
                cluster.headers("alice"),
                lambda status, page: status == 200 and page["data"],
            )
            assert not waiting.done()  # held on gw2 while nobody decided
            (approval,) = pending
            async with session.post(
                f"{decided_on.url}/admin/v1/approvals/{approval['id']}/approve",
                json={},
                headers=cluster.headers("alice"),
            ) as response:
                assert response.status == 200, await response.text()
        status, answer, request_id = waiting.result()
    assert status == 200, answer
    assert answer["choices"][0]["message"]["content"] == expected_answer()
    ((recorded_approval, instance),) = sql(
        cluster.database_url,
        f"SELECT approval_id, instance FROM audit_records WHERE request_id = '{request_id}'",
    )
    assert (recorded_approval, instance) == (approval["id"], waiting_on.name)


async def chat(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> tuple[int, Any]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
    async with session.post(url + "/v1/chat/completions", json=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def test_when_a_key_is_revoked_through_one_instance_then_every_instance_refuses_its_next_request(
    cluster: Cluster,
) -> None:
    survivors = [instance.url for instance in cluster.instances[1:]]
    eve = cluster.headers("eve")
    key_id = cluster.keys["eve"].split("_")[1]
    async with aiohttp.ClientSession() as session:
        for url in [*survivors, cluster.url]:
            assert (await chat(session, url, eve))[0] == 200  # in use everywhere: any cache would hold it now
        async with session.delete(
            f"{cluster.instances[2].url}/admin/v1/keys/{key_id}", headers=cluster.headers("ada")
        ) as response:
            assert response.status == 200, await response.text()
        for url in [*survivors, cluster.url]:  # at once: no cache, no time window
            status, answer = await chat(session, url, eve)
            assert (status, answer["error"]["code"]) == (401, "api_key_revoked"), url
        assert (await chat(session, cluster.url, cluster.headers("sam")))[0] == 200  # the others' keys still work


FINANCE_AUDITORS = "  - groups: [finance]\n    level: public\n    roles: [auditor]\n"


async def test_when_one_instance_reloads_the_policy_then_the_others_decide_by_theirs_until_they_reload(
    cluster: Cluster,
) -> None:
    first, second = cluster.instances[1], cluster.instances[2]
    ada, nobody = cluster.headers("ada"), cluster.headers("nobody")  # nobody: finance, no role in the policy yet
    policy = "/admin/v1/policy"
    async with aiohttp.ClientSession() as session:
        old = await wait_for(session, first.url + policy, ada, lambda status, body: status == 200 and body["digest"])
        text_before = cluster.policy_file.read_text()
        cluster.policy_file.write_text(text_before.replace("clearances:\n", "clearances:\n" + FINANCE_AUDITORS, 1))
        first.reload_policy()
        new = await wait_for(
            session, first.url + policy, ada, lambda s, body: s == 200 and body["digest"] != old and body["digest"]
        )
        # the instances disagree until each reloads: finance reads every approval on one and nothing on the other
        async with session.get(second.url + policy, headers=ada) as response:
            assert (await response.json())["digest"] == old
        async with session.get(first.url + "/admin/v1/approvals", headers=nobody) as response:
            assert response.status == 200
        async with session.get(second.url + "/admin/v1/approvals", headers=nobody) as response:
            assert response.status == 403
        second.reload_policy()
        await wait_for(session, second.url + policy, ada, lambda s, body: s == 200 and body["digest"] == new)
        async with session.get(second.url + "/admin/v1/approvals", headers=nobody) as response:
            assert response.status == 200
    versions = {digest for (digest,) in sql(cluster.database_url, "SELECT digest FROM policy_versions")}
    assert {old, new} <= versions  # the shared history holds both, whichever instance loaded them


async def test_the_balancer_keeps_metrics_and_readiness_details_to_each_instance(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as session:
        for path in ("/metrics", "/readyz"):
            async with session.get(cluster.url + path) as response:
                assert response.status == 403, path  # HAProxy's answer: every caller would look like loopback
        async with session.get(cluster.instances[1].url + "/metrics") as response:
            assert response.status == 200  # on the instance's own address, for the operator
