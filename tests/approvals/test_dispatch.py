from __future__ import annotations

import asyncio
import logging

import pytest

from clearance.approvals.config import EventKind, RetryConfig
from clearance.approvals.dispatch import DeliveryCounts, NotificationDispatcher, Outcome, Route
from clearance.approvals.model import Requester
from clearance.approvals.notify import ApprovalEvent, DeliveryFailed
from tests.approvals.notify_samples import PREVIEW, PUBLIC_URL, sample_approval, sample_event


class Recorder:
    """Delivers by keeping the event; fails its first ``failures`` attempts."""

    def __init__(self, name: str = "rec", failures: int = 0, error: Exception | None = None) -> None:
        self.name = name
        self.failures = failures
        self.error = error or DeliveryFailed(f"{name}: answered 503")
        self.attempts = 0
        self.got: list[ApprovalEvent] = []

    async def send(self, event: ApprovalEvent) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.error
        self.got.append(event)


class Hanging:
    """Never answers until released."""

    def __init__(self, name: str = "hang") -> None:
        self.name = name
        self.release = asyncio.Event()
        self.started = 0

    async def send(self, event: ApprovalEvent) -> None:
        self.started += 1
        await self.release.wait()


class FakeSleep:
    """Records each backoff and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def dispatcher(*routes: Route, sleep: FakeSleep | None = None, **kwargs: object) -> NotificationDispatcher:
    return NotificationDispatcher(
        routes,
        public_url=PUBLIC_URL,
        clock=lambda: 5_000.0,
        sleep=sleep or FakeSleep(),
        **kwargs,  # type: ignore[arg-type]
    )


async def settle(d: NotificationDispatcher) -> None:
    """Let the workers run until nothing is outstanding (each step is one loop turn, never a timed wait)."""
    for _ in range(1_000):
        if d.pending == 0:
            return
        await asyncio.sleep(0)
    raise AssertionError("deliveries did not settle")


async def test_when_an_approval_is_notified_then_every_notifier_gets_the_event_with_its_link() -> None:
    a, b = Recorder("a"), Recorder("b")
    async with dispatcher(Route(a), Route(b)) as d:
        d.notify("requested", sample_approval())
        await settle(d)
    assert [(e.link, e.api_link) for e in a.got] == [
        (f"{PUBLIC_URL}/console/approvals/Zq3-appr0val_id", f"{PUBLIC_URL}/admin/v1/approvals/Zq3-appr0val_id")
    ]
    assert a.got == b.got
    assert a.got[0].at == 5_000.0
    assert d.counts == DeliveryCounts(sent=2)


async def test_when_the_console_is_off_then_the_link_opens_the_approval_in_the_admin_api() -> None:
    a = Recorder("a")
    async with dispatcher(Route(a), console=False) as d:
        d.notify("requested", sample_approval())
        await settle(d)
    api = f"{PUBLIC_URL}/admin/v1/approvals/Zq3-appr0val_id"
    assert [(e.link, e.api_link) for e in a.got] == [(api, api)]


async def test_when_a_notifier_fails_then_it_is_retried_with_backoff_until_it_succeeds() -> None:
    flaky, sleep = Recorder(failures=3), FakeSleep()
    async with dispatcher(Route(flaky), sleep=sleep, retry=RetryConfig(initial_backoff=2.0)) as d:
        d.publish(sample_event())
        await settle(d)
    assert sleep.delays == [2.0, 4.0, 8.0]
    assert len(flaky.got) == 1
    assert d.counts == DeliveryCounts(sent=1, retried=3)


async def test_when_a_notifier_keeps_failing_then_it_gives_up_after_the_bound_and_goes_on() -> None:
    broken, sleep = Recorder(failures=4), FakeSleep()
    retry = RetryConfig(max_attempts=4, initial_backoff=1.0, max_backoff=3.0)
    async with dispatcher(Route(broken), sleep=sleep, retry=retry) as d:
        d.publish(sample_event("requested"))
        d.publish(sample_event("approved"))
        await settle(d)
    assert sleep.delays == [1.0, 2.0, 3.0]
    assert [e.kind for e in broken.got] == ["approved"]
    assert d.counts == DeliveryCounts(sent=1, failed=1, retried=3)


async def test_when_a_notifier_hangs_then_the_caller_and_the_other_notifiers_go_on() -> None:
    hang, rec = Hanging(), Recorder()
    async with dispatcher(Route(hang), Route(rec), drain_timeout=0) as d:
        d.publish(sample_event())  # returns at once: nothing to await
        await settle_one(rec)
        assert hang.started == 1
        assert d.pending == 1
    assert d.counts_by_notifier == {"hang": DeliveryCounts(dropped=1), "rec": DeliveryCounts(sent=1)}


async def settle_one(rec: Recorder) -> None:
    for _ in range(1_000):
        if rec.got:
            return
        await asyncio.sleep(0)
    raise AssertionError("the working notifier got nothing")


async def test_when_an_attempt_outlasts_its_timeout_then_it_counts_as_a_failure_and_is_retried() -> None:
    hang, sleep = Hanging(), FakeSleep()
    async with dispatcher(Route(hang, timeout=0), sleep=sleep, retry=RetryConfig(max_attempts=2)) as d:
        d.publish(sample_event())
        await settle(d)
    assert hang.started == 2
    assert sleep.delays == [1.0]
    assert d.counts == DeliveryCounts(failed=1, retried=1)


async def test_when_closed_then_queued_events_are_delivered_first() -> None:
    flaky = Recorder(failures=2)
    d = dispatcher(Route(flaky))
    d.start()
    for kind in ("requested", "approved", "expired"):
        d.publish(sample_event(kind))
    await d.close()
    assert [e.kind for e in flaky.got] == ["requested", "approved", "expired"]
    assert d.counts == DeliveryCounts(sent=3, retried=2)


async def test_when_events_come_before_the_start_then_they_wait_and_are_sent() -> None:
    rec = Recorder()
    d = dispatcher(Route(rec))
    d.publish(sample_event())
    assert rec.got == []
    async with d:
        await settle(d)
    assert len(rec.got) == 1


async def test_when_the_dispatcher_is_closed_then_a_later_event_is_dropped_and_counted() -> None:
    rec = Recorder()
    async with dispatcher(Route(rec)) as d:
        pass
    d.publish(sample_event())
    assert d.counts == DeliveryCounts(dropped=1)
    assert rec.got == []


async def test_when_the_queue_is_full_then_the_event_is_dropped_for_that_notifier_only() -> None:
    hang, rec = Hanging(), Recorder()
    d = dispatcher(Route(hang), Route(rec, events=frozenset({"approved"})), queue_size=1)
    d.publish(sample_event("requested"))
    d.publish(sample_event("approved"))
    assert d.counts_by_notifier["hang"] == DeliveryCounts(dropped=1)
    hang.release.set()
    async with d:
        await settle(d)
    assert [e.kind for e in rec.got] == ["approved"]
    assert d.counts == DeliveryCounts(sent=2, dropped=1)


async def test_when_a_notifier_fails_then_the_logs_hold_no_payload_text(caplog: pytest.LogCaptureFixture) -> None:
    leaky = Recorder(failures=9, error=RuntimeError(f"boom: {PREVIEW} release hotfix INC-42"))
    with caplog.at_level(logging.WARNING, logger="clearance.approvals.notify"):
        async with dispatcher(Route(leaky), retry=RetryConfig(max_attempts=2)) as d:
            d.publish(sample_event())
            await settle(d)
    assert [r.getMessage() for r in caplog.records] == [
        "notification failed, retrying",
        "notification failed, giving up",
    ]
    for record in caplog.records:
        assert record.__dict__["error"] == "RuntimeError"
        assert record.__dict__["approval"] == "Zq3-appr0val_id"
        text = repr(record.__dict__)
        assert "INC-42" not in text
        assert "CREDIT_CARD" not in text


def test_when_two_notifiers_share_a_name_then_the_dispatcher_is_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        dispatcher(Route(Recorder("x")), Route(Recorder("x")))


# -- a requester's own route ----------------------------------------------------------------------------------


def of(subject: str, kind: str = "service") -> Requester:
    return Requester(subject, kind=kind)


async def test_when_routes_are_bound_to_requesters_then_each_gets_its_own_approvals_only() -> None:
    sams, eves, everyone = Recorder("sam"), Recorder("eve"), Recorder("all")
    routes = (Route(sams, requester="sam"), Route(eves, requester="eve"), Route(everyone))
    async with dispatcher(*routes) as d:
        d.publish(sample_event("approved", id="apr_sam", requester=of("sam")))
        d.publish(sample_event("denied", id="apr_eve", requester=of("eve")))
        d.publish(sample_event("approved", id="apr_sammy", requester=of("sammy")))  # a longer name: not sam's
        d.publish(sample_event("approved", id="apr_SAM", requester=of("SAM")))  # another case: not sam's
        await settle(d)
    assert [(e.kind, e.approval.id) for e in sams.got] == [("approved", "apr_sam")]
    assert [(e.kind, e.approval.id) for e in eves.got] == [("denied", "apr_eve")]
    assert len(everyone.got) == 4


@pytest.mark.parametrize(
    ("route", "asker", "taken"),
    [
        (Route(Recorder(), requester="sam"), of("sam", "user"), True),
        (Route(Recorder(), requester="anonymous"), of("anonymous", "anonymous"), False),
        (Route(Recorder(), requester="sam", requester_kind="service"), of("sam", "user"), False),
        (Route(Recorder(), requester="sam", requester_kind="service"), of("sam", "service"), True),
        (Route(Recorder(), events=frozenset({"denied"}), requester="sam"), of("sam"), False),
    ],
)
def test_when_a_route_is_bound_to_a_requester_then_it_takes_what_matches_exactly(
    route: Route, asker: Requester, taken: bool
) -> None:
    assert route.takes(sample_event("approved", requester=asker)) is taken


# -- what the dispatcher reports to its owner -------------------------------------------------------------------


class Reports:
    """The callbacks of an owner that counts: every outcome, and each notifier's queue as it changes."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str, str]] = []
        self.depths: list[tuple[str, int]] = []

    def outcome(self, notifier: str, kind: EventKind, outcome: Outcome) -> None:
        self.outcomes.append((notifier, kind, outcome))

    def depth(self, notifier: str, depth: int) -> None:
        self.depths.append((notifier, depth))


async def test_when_events_are_delivered_or_retried_then_each_outcome_is_reported_with_its_event() -> None:
    reports, flaky, broken = Reports(), Recorder("flaky", failures=1), Recorder("broken", failures=9)
    routes = (Route(flaky), Route(broken, events=frozenset({"denied"})))
    retry = RetryConfig(max_attempts=2)
    async with dispatcher(*routes, retry=retry, on_outcome=reports.outcome, on_queue_depth=reports.depth) as d:
        d.publish(sample_event("requested"))
        d.publish(sample_event("denied"))
        await settle(d)
    assert sorted(reports.outcomes) == sorted(
        [
            ("flaky", "requested", "retried"),
            ("flaky", "requested", "sent"),
            ("flaky", "denied", "sent"),
            ("broken", "denied", "retried"),
            ("broken", "denied", "failed"),
        ]
    )
    assert d.counts == DeliveryCounts(sent=2, failed=1, retried=2)
    flaky_depths = [n for name, n in reports.depths if name == "flaky"]
    assert flaky_depths[0] == 0  # reported at the start, before any event
    assert max(flaky_depths) == 2
    assert flaky_depths[-1] == 0


async def test_when_events_are_left_at_shutdown_or_refused_then_each_is_reported_dropped_with_its_kind() -> None:
    reports, hang = Reports(), Hanging()
    d = dispatcher(Route(hang), queue_size=2, drain_timeout=0, on_outcome=reports.outcome, on_queue_depth=reports.depth)
    d.start()
    d.publish(sample_event("requested"))
    for _ in range(100):  # the worker takes the first event and hangs in it
        if hang.started:
            break
        await asyncio.sleep(0)
    assert hang.started == 1
    d.publish(sample_event("approved"))
    d.publish(sample_event("expired"))
    d.publish(sample_event("cancelled"))  # the queue (2) is full
    await d.close()
    d.publish(sample_event("denied"))  # closed
    assert reports.outcomes == [
        ("hang", "cancelled", "dropped"),
        ("hang", "requested", "dropped"),
        ("hang", "approved", "dropped"),
        ("hang", "expired", "dropped"),
        ("hang", "denied", "dropped"),
    ]
    assert d.counts == DeliveryCounts(dropped=5)
    assert reports.depths[-1] == ("hang", 0)


async def test_when_a_callback_fails_then_delivery_goes_on() -> None:
    def broken_outcome(_notifier: str, _kind: EventKind, _outcome: Outcome) -> None:
        raise RuntimeError("metrics down")

    def broken_depth(_notifier: str, _depth: int) -> None:
        raise RuntimeError("metrics down")

    rec = Recorder()
    async with dispatcher(Route(rec), on_outcome=broken_outcome, on_queue_depth=broken_depth) as d:
        d.publish(sample_event())
        await settle(d)
    assert len(rec.got) == 1
    assert d.counts == DeliveryCounts(sent=1)
