from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clearance.approvals.notify import DeliveryFailed
from clearance.approvals.slack import MAX_PREVIEW_CHARS, SlackNotifier, escape, slack_message
from tests.approvals.notify_samples import PREVIEW, RAW_CARD, RAW_TOKEN, sample_event


def all_text(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def test_when_an_approval_is_requested_then_the_message_says_who_what_model_types_reason_rule_and_link() -> None:
    event = sample_event()
    message = slack_message(event)
    assert message["text"].startswith("Approval requested: sam (sam@example.com) asked to send")
    assert event.link in message["text"]
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["header", "section", "section", "section", "section", "context"]
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in message["blocks"][1]["fields"]}
    assert fields == {
        "*Requester*": "sam (sam@example.com)",
        "*Model*": "llama-3-70b",
        "*Types found*": "CREDIT_CARD: 2, GITHUB_TOKEN: 1",
        "*If approved, the model gets*": "GITHUB_TOKEN (1) unmasked; CREDIT_CARD (2) as partial",
        "*Rule*": "secrets-need-approval",
        "*Level*": "restricted",
        "*Approvers*": "security (1 needed)",
    }
    assert message["blocks"][2]["text"]["text"] == "*Reason given*\nrelease hotfix INC-42"
    assert message["blocks"][3]["text"]["text"] == f"*Masked preview*\n```{PREVIEW}```"
    assert message["blocks"][4]["text"]["text"] == f"<{event.link}|Open approval {event.approval.id}>"


def test_when_text_carries_slack_markup_then_it_is_escaped() -> None:
    event = sample_event(requester_reason="<!channel> see <https://evil.example|the docs> & ```x```")
    message = slack_message(event)
    reason = message["blocks"][2]["text"]["text"]
    assert "<!channel>" not in reason
    assert "&lt;!channel&gt;" in reason
    assert "&amp;" in reason
    preview = slack_message(sample_event(preview="a ``` b"))["blocks"][3]["text"]["text"]
    assert preview.count("```") == 2


def test_when_the_preview_is_long_then_it_is_cut_to_fit_a_block() -> None:
    message = slack_message(sample_event(preview="x" * 10_000))
    text = message["blocks"][3]["text"]["text"]
    assert len(text) < 3000
    assert text.endswith("…```")
    assert text.count("x") == MAX_PREVIEW_CHARS - 1


def test_when_a_message_is_built_then_only_the_masked_preview_is_in_it() -> None:
    text = all_text(slack_message(sample_event()))
    assert RAW_CARD not in text
    assert RAW_TOKEN not in text
    assert escape(PREVIEW) in text


async def test_when_sent_then_the_incoming_webhook_receives_the_message() -> None:
    received: list[dict[str, Any]] = []

    async def incoming(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/services/T0/B0/secret", incoming)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("/services/T0/B0/secret"))
            event = sample_event("approved")
            await SlackNotifier("chan", url, session).send(event)
            with pytest.raises(DeliveryFailed) as failed:
                await SlackNotifier("chan", url + "-wrong", session).send(event)
    finally:
        await server.close()
    assert received == [slack_message(event)]
    assert str(failed.value) == "slack chan: answered 404"
