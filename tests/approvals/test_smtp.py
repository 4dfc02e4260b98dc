from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clearance.approvals.config import EmailNotifierConfig
from clearance.approvals.notify import DeliveryFailed
from clearance.approvals.smtp import EmailNotifier, email_message, email_text
from tests.approvals.notify_samples import PREVIEW, RAW_CARD, RAW_TOKEN, sample_event


@dataclass
class Inbox:
    """What the test's SMTP server received, and whether each message came over TLS."""

    messages: list[tuple[Envelope, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append((envelope, session.ssl is not None))
        return "250 OK"

    def parsed(self, i: int = 0) -> Message:
        content = self.messages[i][0].content
        assert isinstance(content, bytes)
        return message_from_bytes(content, policy=policy.default)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), made for this test only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clearance-test-smtp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def plain_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    try:
        yield inbox, port, cert
    finally:
        controller.stop()


def config(port: int, **changes: object) -> EmailNotifierConfig:
    fields: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "clearance@example.com",
        "to": ["security@example.com"],
    }
    fields.update(changes)
    return EmailNotifierConfig.model_validate(fields)


async def test_when_the_server_is_on_loopback_without_starttls_then_the_mail_is_sent_plain(
    plain_server: tuple[Inbox, int],
) -> None:
    inbox, port = plain_server
    await EmailNotifier("mail", config(port), None).send(sample_event())
    ((envelope, over_tls),) = inbox.messages
    assert envelope.mail_from == "clearance@example.com"
    assert envelope.rcpt_tos == ["security@example.com"]
    assert over_tls is False
    message = inbox.parsed()
    assert message["Subject"] == "[Clearance] Approval requested: sam for llama-3-70b (Zq3-appr0val_id)"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert PREVIEW.encode() in body
    assert RAW_CARD.encode() not in body
    assert RAW_TOKEN.encode() not in body


async def test_when_a_server_elsewhere_offers_no_starttls_then_nothing_is_sent_unless_allowed(
    plain_server: tuple[Inbox, int],
) -> None:
    inbox, port = plain_server
    # "127.1" reaches the test's server, but the loopback check does not read it as loopback (it only knows
    # "localhost" and canonical addresses): it stands for a server on another host.
    elsewhere = config(port, host="127.1")
    assert elsewhere.loopback is False
    with pytest.raises(DeliveryFailed, match="email mail: the server does not offer STARTTLS"):
        await EmailNotifier("mail", elsewhere, None).send(sample_event())
    assert inbox.messages == []
    await EmailNotifier("mail", config(port, host="127.1", allow_plaintext=True), None).send(sample_event())
    assert len(inbox.messages) == 1


async def test_when_the_server_offers_starttls_then_the_mail_goes_over_tls(
    tls_server: tuple[Inbox, int, Path],
) -> None:
    inbox, port, cert = tls_server
    await EmailNotifier("mail", config(port, ca_file=str(cert)), None).send(sample_event())
    ((_, over_tls),) = inbox.messages
    assert over_tls is True


async def test_when_the_servers_certificate_is_not_trusted_then_nothing_is_sent(
    tls_server: tuple[Inbox, int, Path],
) -> None:
    inbox, port, _ = tls_server
    with pytest.raises(DeliveryFailed, match="email mail: SSLCertVerificationError"):
        await EmailNotifier("mail", config(port), None).send(sample_event())
    assert inbox.messages == []


async def test_when_a_decision_is_sent_then_the_requester_is_told_too(plain_server: tuple[Inbox, int]) -> None:
    inbox, port = plain_server
    notifier = EmailNotifier("mail", config(port, to_requester=True), None)
    await notifier.send(sample_event("requested"))
    await notifier.send(sample_event("denied"))
    assert [envelope.rcpt_tos for envelope, _ in inbox.messages] == [
        ["security@example.com"],
        ["security@example.com", "sam@example.com"],
    ]


async def test_when_nobody_is_to_be_told_then_nothing_is_sent(plain_server: tuple[Inbox, int]) -> None:
    inbox, port = plain_server
    await EmailNotifier("mail", config(port, to=[], to_requester=True), None).send(sample_event("requested"))
    assert inbox.messages == []


async def test_when_the_server_is_down_then_the_failure_names_the_notifier() -> None:
    with pytest.raises(DeliveryFailed, match="email mail: ConnectionRefusedError"):
        await EmailNotifier("mail", config(free_port()), None).send(sample_event())


def test_when_a_mail_is_written_then_it_holds_the_facts_and_only_the_masked_preview() -> None:
    text = email_text(sample_event())
    for fact in (
        "Requester:   sam <sam@example.com>",
        "Model:       llama-3-70b (chat.completions)",
        "Types found: CREDIT_CARD: 2, GITHUB_TOKEN: 1",
        "Rule:        secrets-need-approval (matched_rule, restricted_type)",
        "Reason:      release hotfix INC-42",
        PREVIEW,
        "Open it: https://gateway.example.com/console/approvals/Zq3-appr0val_id",
        "In the admin API: https://gateway.example.com/admin/v1/approvals/Zq3-appr0val_id",
    ):
        assert fact in text
    assert RAW_CARD not in text
    assert RAW_TOKEN not in text


def test_when_a_name_carries_a_line_break_then_the_subject_stays_one_line() -> None:
    message = email_message(sample_event(model="m\r\nBcc: everyone@example.com"), "a@example.com", ["b@example.com"])
    assert "\n" not in str(message["Subject"])
    assert message["Bcc"] is None
