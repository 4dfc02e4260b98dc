"""Fixtures of the console's browser tests: the real OpenID provider, a real gateway, headless Chromium.

Scopes: one browser and one provider for the package (``tests/e2e/console``), a gateway per test module (its
database in the module's ``tmp_path``, SQLite unless the module overrides ``database_url``), a browser context per
page fixture (fresh cookies: every test signs in itself). The provider registers the console's callback on a port
chosen once for the package, and each module's gateway listens there.

A browser test is a plain ``def``: Playwright's sync API marks its own event loop as running in the main thread
while it is open, so an ``async def`` test here would clash with it (it is refused with that reason). A coroutine
a test needs (a store's async method) runs on the gateway's loop: ``gateway.call(coro)``.

Writing a module's tests::

    from tests.e2e.console.harness import APPROVER, sign_in

    def test_the_queue(page: Page, gateway: ConsoleGateway, openai_client: OpenAIFactory) -> None:
        openai_client(gateway.api_key(USER)).chat.completions.create(model="llama-internal", messages=[...])
        sign_in(page, APPROVER, "/console/approvals")
        expect(page.get_by_role("table")).to_contain_text(...)

Module-wide settings: override ``gateway_extra`` (laid over the gateway's configuration file, e.g.
``{"approvals": {"public_url": ...}}``) or ``database_url`` (``postgres_database`` gives a fresh PostgreSQL schema).
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from tests.conftest import postgres_schema
from tests.e2e.console.harness import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    TIMEOUT_MS,
    BrowserWatch,
    ConsoleGateway,
    origin,
    provider_accounts,
    provider_clients,
    serve_gateway,
)
from tests.oidc.harness import OidcProvider, ensure_node_modules, free_port, rsa_jwk

PageFactory = Callable[[ViewportSize], Page]
OpenAIFactory = Callable[[str], openai.OpenAI]
Screenshot = Callable[[Page, str], Path]


# aiohttp's FileResponse opens a static file in an executor thread; when the browser drops the request meanwhile (a
# navigation leaves the page, and the gateway runs with handler cancellation), the handler is cancelled and the
# file the thread opened is never closed, only collected: a ResourceWarning from the gateway's thread that is no
# fault of the page under test. Ignored for the console's static files only (a colon would end the message
# pattern of a warning filter: "." stands for it).
STATIC_FILE_LEAK = (
    r"ignore:unclosed file <_io\.BufferedReader name='[^']*/clearance/console/static/:ResourceWarning",
    r"ignore:Exception ignored in. <_io\.FileIO name='[^']*/clearance/console/static/"
    ":pytest.PytestUnraisableExceptionWarning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            for spec in STATIC_FILE_LEAK:
                item.add_marker(pytest.mark.filterwarnings(spec))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if inspect.iscoroutinefunction(getattr(item, "function", None)):
        pytest.fail(
            "a browser test is a plain def: Playwright's sync API holds the main thread's event loop; "
            "run a coroutine on the gateway's loop with gateway.call(coro)",
            pytrace=False,
        )


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (never a browser Playwright downloads)."""
    if not CHROMIUM.exists():
        reason = (
            f"Debian's chromium is not installed ({CHROMIUM}) and scripts/setup dev could not install it "
            "(apt-get needs root or password-less sudo)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the browser tests", pytrace=False)
        pytest.skip(reason)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        # Hosts other than localhost and 127.0.0.1 resolve to nothing: a page that reached for a third-party asset (or a
        # redirect that left for another host) fails loudly here, and no test sends traffic off the machine.
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def gateway_port() -> int:
    """The port of every module's gateway: the console's callback URL that the provider knows."""
    return free_port()


@pytest.fixture(scope="package")
def provider(tmp_path_factory: pytest.TempPathFactory, gateway_port: int) -> Iterator[OidcProvider]:
    """The real oidc-provider, with the console as a client and the accounts of ``harness.ACCOUNTS``."""
    ensure_node_modules()
    idp = OidcProvider(
        tmp_path_factory.mktemp("console-idp"),
        keys=[rsa_jwk("console-1")],
        accounts=provider_accounts(),
        clients=provider_clients(f"http://127.0.0.1:{gateway_port}/console/callback"),
    )
    idp.start()
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The module's gateway database: SQLite. Override with ``postgres_database`` for PostgreSQL."""
    return f"sqlite:///{tmp_path_factory.mktemp('console-db') / 'gateway.db'}"


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A fresh schema in the real PostgreSQL (127.0.0.1:5432, database ``test``) for the module's gateway."""
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="module")
def gateway_extra() -> dict[str, Any]:
    """Laid over the gateway's configuration file (``harness.gateway_settings``): override it in a module."""
    return {}


@pytest.fixture(scope="module")
def gateway(
    provider: OidcProvider, gateway_port: int, database_url: str, gateway_extra: dict[str, Any]
) -> Iterator[ConsoleGateway]:
    """The module's gateway, console on, in front of a ``FakeUpstream`` (``gateway.upstream.received``)."""
    with serve_gateway(port=gateway_port, issuer=provider.issuer, database_url=database_url, extra=gateway_extra) as gw:
        yield gw


@pytest.fixture
def browser_watch(gateway: ConsoleGateway) -> Iterator[BrowserWatch]:
    """Fails the test (at teardown) on what the browser reported from the gateway's pages; see ``BrowserWatch``."""
    watch = BrowserWatch(origin(gateway.url))
    yield watch
    if problems := watch.unexpected():
        pytest.fail("the browser reported:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def new_page(browser: Browser, gateway: ConsoleGateway, browser_watch: BrowserWatch) -> Iterator[PageFactory]:
    """Opens a page in a fresh context (its own cookies) at a viewport; relative URLs are the gateway's."""
    contexts = []

    def open_page(viewport: ViewportSize) -> Page:
        phone = viewport["width"] <= PHONE["width"]
        context = browser.new_context(viewport=viewport, base_url=gateway.url, is_mobile=phone, has_touch=phone)
        context.set_default_timeout(TIMEOUT_MS)
        browser_watch.attach(context)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: PageFactory) -> Page:
    """A desktop page (1280 x 800)."""
    return new_page(DESKTOP)


@pytest.fixture
def phone_page(new_page: PageFactory) -> Page:
    """A phone page (390 x 844, mobile, touch)."""
    return new_page(PHONE)


@pytest.fixture
def openai_client(gateway: ConsoleGateway) -> Iterator[OpenAIFactory]:
    """Makes the official SDK's client for the gateway, with an API key (``gateway.api_key``) or a token."""
    clients: list[openai.OpenAI] = []

    def make(credential: str) -> openai.OpenAI:
        client = openai.OpenAI(base_url=gateway.base_url, api_key=credential, max_retries=0, timeout=60)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def screenshot(tmp_path: Path) -> Screenshot:
    """``screenshot(page, name)``: the whole page as ``<name>-<desktop|phone>.png``, into ``docs/console`` when
    ``CLEARANCE_SCREENSHOTS=1`` (how the docs' pictures are made), else into the test's ``tmp_path``."""
    folder = SCREENSHOTS if os.environ.get("CLEARANCE_SCREENSHOTS") == "1" else tmp_path

    def take(page: Page, name: str) -> Path:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), f"name a screenshot in kebab-case, not {name!r}"
        viewport = page.viewport_size
        kind = "phone" if viewport is not None and viewport["width"] <= PHONE["width"] else "desktop"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}-{kind}.png"
        page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
        return path

    return take
