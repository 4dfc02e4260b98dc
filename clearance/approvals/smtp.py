"""Email over SMTP: a plain-text message with the same facts as the Slack message, sent with the standard
library's ``smtplib`` in a worker thread (it blocks).

STARTTLS is used whenever the server offers it, with the certificate verified (the system's CAs, or ``ca_file``);
a server that does not offer it is refused, unless it is on loopback or ``allow_plaintext`` is set. A STARTTLS that
fails is a failure, never a fall back to plain text.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from clearance.approvals.config import DECISION_KINDS, EmailNotifierConfig
from clearance.approvals.notify import ApprovalEvent, DeliveryFailed, counts_text, released_text


def _one_line(text: str, limit: int = 120) -> str:
    """A header-safe fragment: no line breaks or other control characters, cut to ``limit``."""
    flat = "".join(c if c.isprintable() else " " for c in text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def email_text(event: ApprovalEvent) -> str:
    """The body: who, which model, what was found, why, the rule, the masked preview and the link."""
    a = event.approval
    who = a.requester.subject + (f" <{a.requester.email}>" if a.requester.email else "")
    lines = [
        f"{event.title}.",
        "",
        f"Approval:    {a.id} ({a.state})",
        f"Requester:   {who}",
        f"Model:       {a.model} ({a.endpoint})",
        f"Types found: {counts_text(a.counts)}",
        f"If approved: {released_text(a)}",
        f"Level:       {a.level}",
        f"Rule:        {a.rule} ({', '.join(a.reasons)})",
        f"Approvers:   {', '.join(a.approvers)} ({a.approvals_needed} needed)",
        f"Reason:      {a.requester_reason or '(none given)'}",
    ]
    if a.history and event.kind != "requested":
        last = a.history[-1]
        lines.append(f"Last step:   {last.state} by {last.actor}" + (f": {last.reason}" if last.reason else ""))
    lines += ["", "Masked preview (what approvers may see):", "", a.preview, "", f"Open it: {event.link}"]
    lines += [f"In the admin API: {event.api_link}", ""] if event.api_link else [""]
    return "\n".join(lines)


def email_message(event: ApprovalEvent, sender: str, recipients: Sequence[str]) -> EmailMessage:
    a = event.approval
    message = EmailMessage()
    message["Subject"] = _one_line(f"[Clearance] {event.title}: {a.requester.subject} for {a.model} ({a.id})")
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["X-Clearance-Event-Id"] = _one_line(event.key, 200)
    message.set_content(email_text(event))
    return message


class EmailNotifier:
    """Sends each event to the configured addresses (and, for a decision, to the requester when configured)."""

    def __init__(self, name: str, config: EmailNotifierConfig, password: str | None) -> None:
        self._name = name
        self._config = config
        self._password = password
        self._tls = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)

    @property
    def name(self) -> str:
        return self._name

    def recipients(self, event: ApprovalEvent) -> list[str]:
        found = list(self._config.to)
        email = event.approval.requester.email
        if self._config.to_requester and email and event.kind in DECISION_KINDS and email not in found:
            found.append(email)
        return found

    async def send(self, event: ApprovalEvent) -> None:
        recipients = self.recipients(event)
        if not recipients:
            return
        message = email_message(event, self._config.sender, recipients)
        try:
            await asyncio.to_thread(self._deliver, message, recipients)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"email {self._name}: {type(exc).__name__}") from None

    def _deliver(self, message: EmailMessage, recipients: list[str]) -> None:
        c = self._config
        with smtplib.SMTP(c.host, c.port, timeout=c.timeout) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            elif not (c.loopback or c.allow_plaintext):
                raise DeliveryFailed(f"email {self._name}: the server does not offer STARTTLS")
            if c.username is not None and self._password is not None:
                smtp.login(c.username, self._password)
            smtp.send_message(message, from_addr=c.sender, to_addrs=recipients)
