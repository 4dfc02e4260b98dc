from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clearance.approvals.notify import DeliveryFailed, event_document
from clearance.approvals.webhook import (
    EVENT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    WebhookNotifier,
    sign,
    verify_signature,
)
from tests.approvals.notify_samples import PREVIEW, RAW_CARD, RAW_REQUEST, RAW_TOKEN, sample_event

SECRET = "whsec-test-0123456789"
SENT_AT = 1_700_000_000


@dataclass
class Receiver:
    """A webhook receiver as a user would write one: verify, then accept (204) or refuse (401)."""

    url: str
    now: float = SENT_AT
    accepted: list[bytes] = field(default_factory=list)
    refused: int = 0
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver(url="")

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_signature(SECRET, request.headers.get(SIGNATURE_HEADER), body, now=state.now):
            state.refused += 1
            return web.Response(status=401)
        state.accepted.append(body)
        state.headers.append(dict(request.headers))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url("/hook"))
    try:
        yield state
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def notifier(url: str, session: aiohttp.ClientSession, secret: str = SECRET) -> WebhookNotifier:
    return WebhookNotifier("ops", url, secret, session, clock=lambda: SENT_AT + 0.75)


async def test_when_an_event_is_sent_then_the_receiver_verifies_its_signature(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    event = sample_event()
    await notifier(receiver.url, session).send(event)
    assert receiver.refused == 0
    assert [orjson.loads(b) for b in receiver.accepted] == [event_document(event)]
    headers = receiver.headers[0]
    assert headers[EVENT_HEADER] == "requested"
    assert headers[EVENT_ID_HEADER] == event.key
    assert headers[SIGNATURE_HEADER].startswith(f"t={SENT_AT},v1=")


async def test_when_a_delivery_is_replayed_after_the_tolerance_then_the_receiver_refuses_it(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    await notifier(receiver.url, session).send(sample_event())
    body, headers = receiver.accepted[0], receiver.headers[0]
    receiver.now = SENT_AT + 301
    async with session.post(receiver.url, data=body, headers={SIGNATURE_HEADER: headers[SIGNATURE_HEADER]}) as replay:
        assert replay.status == 401
    assert receiver.refused == 1


async def test_when_the_body_is_tampered_with_then_the_receiver_refuses_it(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    await notifier(receiver.url, session).send(sample_event())
    body, headers = receiver.accepted[0], receiver.headers[0]
    tampered = body.replace(b'"approvals_needed":1', b'"approvals_needed":0')
    assert tampered != body
    async with session.post(
        receiver.url, data=tampered, headers={SIGNATURE_HEADER: headers[SIGNATURE_HEADER]}
    ) as forged:
        assert forged.status == 401
    assert receiver.refused == 1


async def test_when_the_secret_is_wrong_then_the_receiver_refuses_and_the_send_fails(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(DeliveryFailed, match="webhook ops: answered 401"):
        await notifier(receiver.url, session, secret="another").send(sample_event())


async def test_when_the_receiver_is_unreachable_then_the_failure_names_no_url(session: aiohttp.ClientSession) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await notifier("http://127.0.0.1:9/secret-path", session).send(sample_event())
    assert "secret-path" not in str(failed.value)


async def test_when_an_event_is_sent_then_only_the_masked_preview_leaves(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    await notifier(receiver.url, session).send(sample_event())
    sent = receiver.accepted[0].decode()
    assert orjson.loads(sent)["approval"]["preview"] == PREVIEW
    for raw in (RAW_CARD, RAW_TOKEN, RAW_REQUEST, "4111111111111111"):
        assert raw not in sent


BODY = b'{"event":"requested"}'


@pytest.mark.parametrize(
    ("header", "now", "ok"),
    [
        (sign(SECRET, BODY, SENT_AT), SENT_AT, True),
        (sign(SECRET, BODY, SENT_AT), SENT_AT + 300, True),
        (sign(SECRET, BODY, SENT_AT), SENT_AT + 301, False),
        (sign(SECRET, BODY, SENT_AT), SENT_AT - 301, False),
        (sign("other", BODY, SENT_AT), SENT_AT, False),
        (f"v1=deadbeef,{sign(SECRET, BODY, SENT_AT)}", SENT_AT, True),
        (sign(SECRET, BODY, SENT_AT).replace(f"t={SENT_AT}", f"t={SENT_AT + 1}"), SENT_AT, False),
        (sign(SECRET, BODY, SENT_AT).split(",")[1], SENT_AT, False),
        (f"t={SENT_AT}", SENT_AT, False),
        (f"t={SENT_AT},t={SENT_AT},v1=00", SENT_AT, False),
        ("t=-5,v1=00", SENT_AT, False),
        ("garbage", SENT_AT, False),
        ("", SENT_AT, False),
        (None, SENT_AT, False),
    ],
)
def test_when_a_signature_header_is_checked_then_only_a_fresh_matching_one_passes(
    header: str | None, now: float, ok: bool
) -> None:
    assert verify_signature(SECRET, header, BODY, now=now) is ok
