"""The console's browser-test harness: the people, a real gateway served from a thread, and the browser's watch.

- ``Account``: a person of the real OpenID provider (``tests/oidc``), with the groups the e2e policy
  (``policy.yaml`` here) maps to each console role: ``APPROVER``, ``AUDITOR``, ``ADMIN``, ``USER``, ``NO_ROLE``,
  and for approvals ``LEAD`` (escalation) and ``ONCALL`` (break-glass).
- ``ServiceLoop``: an event loop in a thread of its own. The gateway and the model double run there as a server
  would, while the test and Playwright's sync API keep the main thread (Playwright's sync API marks its own loop
  as running in the main thread, so a browser test is a plain ``def``; ``gateway.call(coro)`` runs a coroutine on
  the gateway's loop when a test needs one).
- ``ConsoleGateway``: ``create_app`` served by ``web.AppRunner`` with ``clearance.server.runner_options`` (what
  ``clearance serve`` runs), lifespan included, with ``FakeUpstream`` as its model.
- ``BrowserWatch``: what a browser context reports that a console page must never cause: a console error (a CSP
  violation is one), an uncaught exception, a failed request, a 5xx.
- ``sign_in``: drives the provider's development login and consent pages in a Playwright page.
"""

from __future__ import annotations

import asyncio
import copy
import re
import threading
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, ViewportSize, WebError

from clearance.app import AUDIT, create_app
from clearance.audit.store import SqlAuditStore
from clearance.auth.keys import ApiKeyStore
from clearance.config import GatewayConfig, parse_config
from clearance.server import runner_options
from clearance.testing.fake_upstream import FakeUpstream, FakeUpstreamBehaviour
from tests.oidc.harness import API, default_clients

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
POLICY = HERE / "policy.yaml"
SCREENSHOTS = ROOT / "docs" / "console"
CHROMIUM = Path("/usr/bin/chromium")
CONSOLE_CLIENT_ID = "clearance-console"
CONSOLE_SCOPES = ("openid", "email", "profile", "groups")
MODELS = ("llama-internal", "codellama-hosted")
"""The models the e2e policy names, both served by the gateway's ``FakeUpstream``."""
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
TIMEOUT_MS = 20_000
"""How long a Playwright action or expectation waits (a bound, not an assertion: the machine is small and shared)."""


@dataclass(frozen=True)
class Account:
    """A person of the provider: ``login`` is what they type at its login page and becomes their subject."""

    login: str
    name: str
    groups: tuple[str, ...]
    roles: frozenset[str]
    """The console roles the e2e policy gives ``groups`` (documentation for test authors; a test checks it)."""

    @property
    def email(self) -> str:
        return f"{self.login}@example.com"

    def claims(self) -> dict[str, Any]:
        return {"email": self.email, "email_verified": True, "name": self.name, "groups": list(self.groups)}


APPROVER = Account("alice", "Alice Approver", ("security",), frozenset({"user", "approver"}))
AUDITOR = Account("audrey", "Audrey Auditor", ("audit",), frozenset({"auditor"}))
ADMIN = Account("adam", "Adam Admin", ("clearance-admins",), frozenset({"user", "admin"}))
USER = Account("sam", "Sam User", ("engineering",), frozenset({"user"}))
NO_ROLE = Account("nobody", "Nora Nobody", ("finance",), frozenset())
LEAD = Account("lee", "Lee Lead", ("security-leads",), frozenset({"user", "approver"}))
"""Decides once an approval escalates (the policy's ``escalate.to``)."""
ONCALL = Account("olga", "Olga Oncall", ("engineering", "oncall"), frozenset({"user"}))
"""May break the glass on her own request (the policy's ``break_glass.groups``)."""
ACCOUNTS = (APPROVER, AUDITOR, ADMIN, USER, NO_ROLE, LEAD, ONCALL)


def provider_accounts() -> dict[str, Any]:
    """The provider's account table: the same claims in ID tokens and access tokens."""
    return {a.login: {"id_token_claims": a.claims(), "token_claims": a.claims()} for a in ACCOUNTS}


def console_client(callback_url: str) -> dict[str, Any]:
    """The console as the provider's client: a public web client (PKCE, no secret) with one redirect URI."""
    return {
        "client_id": CONSOLE_CLIENT_ID,
        "token_endpoint_auth_method": "none",
        "application_type": "web",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "redirect_uris": [callback_url],
    }


def provider_clients(callback_url: str) -> list[dict[str, Any]]:
    """The console's client and the identity tests' ``svc`` and ``cli`` clients (for service tokens)."""
    return [console_client(callback_url), *default_clients()]


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it, mapping by mapping (a list or a scalar in ``extra`` replaces)."""
    out = copy.deepcopy(dict(base))
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def gateway_settings(
    *, port: int, issuer: str, upstream_url: str, database_url: str, extra: Mapping[str, Any] = {}
) -> dict[str, Any]:
    """The configuration file of the e2e gateway, as a mapping: ``extra`` is laid over it (``merge``)."""
    base = {
        "server": {"host": "127.0.0.1", "port": port},
        "upstreams": [{"name": "fake", "base_url": upstream_url, "models": list(MODELS)}],
        "database": {"url": database_url},
        "policy": {"file": str(POLICY)},
        "auth": {"issuers": [{"issuer": issuer, "audience": API}], "api_keys": {"enabled": True}},
        "console": {
            "enabled": True,
            "oidc": {
                "issuer": issuer,
                "client_id": CONSOLE_CLIENT_ID,
                "redirect_url": f"http://127.0.0.1:{port}/console/callback",
                "scopes": list(CONSOLE_SCOPES),
            },
        },
    }
    return merge(base, extra)


class ServiceLoop:
    """An event loop run by a thread of its own; ``call`` runs a coroutine there and waits for its result."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)

    def close(self) -> None:
        self.call(self.loop.shutdown_asyncgens())
        self.call(self.loop.shutdown_default_executor())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=60)
        self.loop.close()


@dataclass
class ConsoleGateway:
    """A running gateway (console included) and its model double, served from a ``ServiceLoop``."""

    url: str
    app: web.Application
    config: GatewayConfig
    upstream: FakeUpstream
    service: ServiceLoop
    _keys: ApiKeyStore = field(init=False)

    def __post_init__(self) -> None:
        self._keys = ApiKeyStore(self.config.database.url)

    @property
    def base_url(self) -> str:
        """What an OpenAI client is given (``…/v1``)."""
        return self.url + "/v1"

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run ``coro`` on the gateway's loop (its stores' async methods must run there)."""
        return self.service.call(coro, timeout)

    def api_key(self, account: Account, *, label: str = "e2e") -> str:
        """A new API key whose owner is ``account``'s subject, with its groups; the raw key."""
        return self._keys.create(owner=account.login, groups=account.groups, expires_at=None, label=label)[1]

    def records(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The audit records written so far (the queue flushed first), newest first."""
        store = self.app[AUDIT]
        assert isinstance(store, SqlAuditStore)
        self.call(store.flush())
        return store.recent(limit)

    def close(self) -> None:
        self._keys.close()


@contextmanager
def serve_gateway(
    *, port: int, issuer: str, database_url: str, extra: Mapping[str, Any] = {}
) -> Iterator[ConsoleGateway]:
    """The gateway on ``127.0.0.1:port`` in front of a ``FakeUpstream``, each on the loop of one thread."""
    service = ServiceLoop("e2e-gateway")
    try:
        upstream = service.call(FakeUpstream(behaviour=FakeUpstreamBehaviour(models=MODELS)).start())
        config = parse_config(
            gateway_settings(
                port=port, issuer=issuer, upstream_url=upstream.base_url, database_url=database_url, extra=extra
            ),
            source="the e2e gateway's settings",
        )
        app = create_app(config)
        runner = web.AppRunner(app, **runner_options(config.server))

        async def start() -> None:
            await runner.setup()  # the lifespan: stores, migrations, the authenticator's discovery
            await web.TCPSite(runner, config.server.host, config.server.port).start()

        service.call(start())
        gateway = ConsoleGateway(f"http://127.0.0.1:{port}", app, config, upstream, service)
        try:
            yield gateway
        finally:
            gateway.close()
            service.call(runner.cleanup())
            service.call(upstream.stop())
    finally:
        service.close()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class BrowserWatch:
    """Collects what a browser context reports that no console page may cause.

    Watched, on the gateway's pages or for requests to the gateway: console messages of level error (a CSP
    violation, a failed subresource, a script's ``console.error``), uncaught exceptions, requests that failed at the
    network level, and 5xx answers. A test that provokes one on purpose says so with ``allow(pattern)``. A request
    aborted by a navigation (``net::ERR_ABORTED``) is the browser's normal behaviour, not a fault. The provider's own
    pages are not ours and are not watched.
    """

    origin: str
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("weberror", self._uncaught)
        context.on("requestfailed", self._request_failed)
        context.on("response", self._response)

    def allow(self, pattern: str) -> None:
        """Do not count problems matching ``pattern`` (a regular expression searched in the report's text)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self.allowed)]

    def _note(self, text: str, page_url: str, resource_url: str = "") -> None:
        if self.origin in (origin(page_url), origin(resource_url)):
            resource = f" [{resource_url}]" if resource_url and resource_url != page_url else ""
            self.problems.append(f"{text}{resource} (on {page_url})")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            source = message.location.get("url", "")
            self._note(f"console error: {message.text}", message.page.url if message.page else source, source)

    def _uncaught(self, error: WebError) -> None:
        self._note(f"uncaught: {error.error}", error.page.url if error.page is not None else "")

    def _request_failed(self, request: Request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:
            self._note(f"request failed: {request.method} {failure}", request.frame.url, request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            text = f"server error: {response.request.method} answered {response.status}"
            self._note(text, response.frame.url, response.url)


def sign_in(page: Page, account: Account, path: str = "/console/") -> None:
    """Open ``path`` (relative to the gateway), sign in as ``account`` at the provider and consent; returns once
    the browser has left the provider's forms: back on the gateway, at the page the console redirected to."""
    page.goto(path)
    for _ in range(4):  # the login page, then the consent page; bounded
        form = page.locator("form:has(input[name=prompt])")
        if not _at_interaction(page) or not form.count():
            return
        prompt = form.locator("input[name=prompt]").get_attribute("value")
        if prompt == "login":
            form.locator("input[name=login]").fill(account.login)
            form.locator("input[name=password]").fill("any password: the development login takes any")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
    raise AssertionError(f"the provider kept asking {account.login} to sign in or consent (at {page.url})")


def _at_interaction(page: Page) -> bool:
    """Whether the page is one of the provider's interaction (login or consent) pages."""
    return "/interaction/" in urlsplit(page.url).path
