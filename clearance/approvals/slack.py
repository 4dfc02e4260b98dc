"""A Slack-compatible incoming-webhook message: who asked, which model, the types found, the requester's reason,
the rule and a link, as Block Kit ``blocks`` with a plain ``text`` fallback (notifications, and clients without
blocks, show the fallback).

Text from the request (the masked preview, the stated reason, names) is escaped for Slack's mrkdwn, so it cannot
mention ``@channel`` or forge a link, and cut to fit Slack's block limits.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from clearance.approvals.notify import ApprovalEvent, counts_text, released_text
from clearance.approvals.webhook import post_json

MAX_SECTION_CHARS = 2900
"""Slack refuses a section over 3,000 characters."""
MAX_PREVIEW_CHARS = 1500


def escape(text: str) -> str:
    """Slack's three control characters; ``<!channel>`` and ``<url|label>`` need ``<`` and ``>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _code(text: str) -> str:
    # A ``` inside would close the block early and let the rest render as mrkdwn.
    return "```" + escape(text).replace("```", "` ` `") + "```"


def slack_message(event: ApprovalEvent) -> dict[str, Any]:
    """The incoming-webhook body for ``event``."""
    a = event.approval
    who = a.requester.subject + (f" ({a.requester.email})" if a.requester.email else "")
    found = counts_text(a.counts)
    text = escape(f"{event.title}: {who} asked to send {found} to {a.model} (rule {a.rule}).") + f" {event.link}"
    facts = [
        ("Requester", who),
        ("Model", a.model),
        ("Types found", found),
        ("If approved, the model gets", released_text(a)),
        ("Rule", a.rule),
        ("Level", a.level),
        ("Approvers", ", ".join(a.approvers) + f" ({a.approvals_needed} needed)"),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(event.title, 150)}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": _cut(f"*{label}*\n{escape(value)}", 2000)} for label, value in facts],
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _cut(f"*Reason given*\n{escape(a.requester_reason) or '_none_'}", MAX_SECTION_CHARS),
            },
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Masked preview*\n" + _code(_cut(a.preview, MAX_PREVIEW_CHARS)),
            },
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"<{escape(event.link)}|Open approval {escape(a.id)}>"},
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"state: {a.state} · reasons: {escape(', '.join(a.reasons))}"}],
        },
    ]
    return {"text": _cut(text, MAX_SECTION_CHARS), "blocks": blocks}


class SlackNotifier:
    """Posts ``slack_message`` to one incoming webhook."""

    def __init__(self, name: str, url: str, session: aiohttp.ClientSession, *, timeout: float = 10.0) -> None:
        self._name = name
        self._url = url
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    @property
    def name(self) -> str:
        return self._name

    async def send(self, event: ApprovalEvent) -> None:
        body = orjson.dumps(slack_message(event))
        headers = {"Content-Type": "application/json"}
        await post_json(self._session, f"slack {self._name}", self._url, body, headers, self._timeout)
