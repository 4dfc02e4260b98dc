"""A gateway with the approval example policy and API keys, and the people of the admin tests: what the API, the
OpenAPI and the CLI tests share. Approvals are made in the gateway's store directly, as the pipeline would."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import create_engine, text

from clearance.app import APPROVALS, create_app
from clearance.approvals.lifecycle import break_glass
from clearance.approvals.model import ApprovalRequest, Requester
from clearance.approvals.store import ApprovalStore
from clearance.auth.keys import ApiKeyStore
from clearance.config import GatewayConfig
from clearance.models import ReasonFrom
from tests.approvals.test_store import request as approval_request
from tests.conftest import gateway_config

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "engineering-secrets-approval.yaml"
PEOPLE: dict[str, tuple[str, ...]] = {
    "alice": ("security",),  # roles user and approver
    "bob": ("security",),
    "carol": ("security",),
    "sam": ("engineering",),  # role user
    "eve": ("engineering",),
    "olga": ("engineering", "oncall"),  # role user; may break the glass
    "lee": ("security-leads",),  # roles user and approver: decides once an approval escalates
    "audrey": ("audit",),  # role auditor: reads every approval
    "ava": ("audit", "security"),  # roles auditor and approver: reads every approval, decides security's
    "nobody": ("finance",),  # no clearance: no role
    "ada": ("platform",),  # role admin (the policy ADMIN_CLEARANCE adds): manages API keys
}
ADMIN_CLEARANCE = "  - groups: [platform]\n    level: public\n    roles: [admin]\n"
"""The example policy has no admin: the admin tests' copy of it adds this clearance (after ``clearances:``)."""


def admin_policy(tmp_path: Path) -> Path:
    """The example approval policy with ``ADMIN_CLEARANCE``, written in ``tmp_path``."""
    text = POLICY.read_text(encoding="utf-8").replace("clearances:\n", "clearances:\n" + ADMIN_CLEARANCE, 1)
    path = tmp_path / "admin-policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def admin_config(tmp_path: Path, upstream_url: str, database_url: str | None = None, **extra: Any) -> GatewayConfig:
    """The example approval policy (and an admin: ``admin_policy``) and API keys; the database in ``tmp_path``
    (SQLite) unless ``database_url``; ``extra``: more sections of the configuration file."""
    database = {"database": {"url": database_url}} if database_url else {}
    return gateway_config(
        tmp_path,
        [{"name": "fake", "base_url": upstream_url, "models": ["llama-internal"]}],
        policy={"file": str(admin_policy(tmp_path))},
        auth={"api_keys": {"enabled": True}},
        **database,
        **extra,
    )


@dataclass
class People:
    """One API key per person of ``PEOPLE`` (the key's owner is the subject), and the approvals made so far."""

    store: ApprovalStore
    keys: dict[str, str] = field(default_factory=dict)
    serial: int = 0

    @classmethod
    def enrol(cls, app: web.Application, url: str) -> People:
        keys = ApiKeyStore(url)
        try:
            people = cls(app[APPROVALS])
            for name, groups in PEOPLE.items():
                people.keys[name] = keys.create(owner=name, groups=groups, expires_at=None)[1]
        finally:
            keys.close()
        return people

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}

    def approval(
        self,
        requester: str = "sam",
        *,
        approvers: tuple[str, ...] = ("security",),
        needed: int = 1,
        created_at: float | None = None,
        reason_from: ReasonFrom = "none",
        escalate_to: tuple[str, ...] = (),
    ) -> ApprovalRequest:
        """A pending approval of ``requester``'s request (``tests.approvals.test_store.request``: model ``llama``, a
        GitHub token and two emails), stored; each one for a body of its own. With ``escalate_to``, it escalates a
        minute after it is made."""
        self.serial += 1
        now = time.time() if created_at is None else created_at
        asker = Requester(requester, kind="service", groups=PEOPLE.get(requester, ()))
        approval = approval_request({"n": self.serial}, requester=asker, approvers=approvers, needed=needed, now=now)
        escalate_at = now + 60 if escalate_to else None
        approval = replace(approval, reason_from=reason_from, escalate_to=escalate_to, escalate_at=escalate_at)
        return self.store.create(approval, now=now).approval

    def break_glass(
        self, requester: str = "olga", *, reason: str = "prod down, INC-7", groups: tuple[str, ...] = ("oncall",)
    ) -> ApprovalRequest:
        """A break-glass approval of ``requester``'s request, granted by themselves (as the gateway makes one under
        a rule whose break-glass ``groups`` are these), stored; its review is pending."""
        self.serial += 1
        now = time.time()
        asker = Requester(requester, kind="service", groups=PEOPLE.get(requester, ()))
        asked = approval_request({"n": self.serial}, requester=asker, now=now)
        granted = break_glass(asked, asker, reason, groups=groups, now=now)
        return self.store.record_break_glass(granted)


@dataclass
class AdminGateway:
    """A served admin gateway: its URL (no trailing slash), app, people and database."""

    url: str
    app: web.Application
    people: People
    database_url: str

    def sql(self, query: str) -> list[tuple[object, ...]]:
        return sql(self.database_url, query)


@asynccontextmanager
async def admin_gateway(
    fixture: pytest.FixtureRequest, tmp_path: Path, upstream_url: str
) -> AsyncIterator[AdminGateway]:
    """``admin_config``'s gateway served on loopback, its people enrolled; on PostgreSQL when the fixture's param
    is ``postgresql`` (a fresh schema), else SQLite."""
    database_url = fixture.getfixturevalue("postgres_url") if fixture.param == "postgresql" else None
    config = admin_config(tmp_path, upstream_url, database_url)
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        people = People.enrol(server.app, config.database.url)
        yield AdminGateway(str(server.make_url("")).rstrip("/"), server.app, people, config.database.url)
    finally:
        await server.close()


def sql(database_url: str, query: str) -> list[tuple[object, ...]]:
    """The rows ``query`` gives, asked of the database directly (to compare the API's figures with)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()


@contextmanager
def gateway_in_a_thread(config: GatewayConfig) -> Iterator[tuple[str, web.Application]]:
    """The gateway served on loopback by an event loop of its own, for callers that block (the CLI runs
    ``asyncio.run``; schemathesis calls with ``requests``): its URL and its app."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="admin-gateway", daemon=True)
    thread.start()
    app = create_app(config)
    runner = web.AppRunner(app)

    async def start() -> str:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    try:
        url = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=60)
        try:
            yield url, app
        finally:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=60)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=60)
        loop.close()
