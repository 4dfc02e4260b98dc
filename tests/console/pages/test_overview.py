"""The overview page: the trail's figures over a window as SVG charts with tables of the same numbers, for auditors
and admins; the figures are those of the records a real gateway wrote (compared with SQL counts asked directly,
on SQLite and PostgreSQL); an empty trail and an empty window each say why; nobody else gets the page."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestServer

from clearance.app import AUDIT, create_app
from clearance.auth.keys import ApiKeyStore
from clearance.console.testing import console_session
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import PEOPLE, sql
from tests.console.conftest import SignInSetup, app_of
from tests.console.pages.test_keys import ADA, AUDREY, SAM, console_config

TOKEN = "deploy with ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
ASKED = (("sam", "hello"), ("eve", "mail jane.doe@northwind-traders.com"), ("sam", TOKEN), ("nobody", "hi"))


@dataclass
class Overview:
    server: TestServer
    database_url: str

    async def page(self, identity: Identity, query: str = "", path: str = "/console/overview") -> tuple[int, str]:
        cookies, _ = console_session(app_of(self.server), identity)
        async with (
            aiohttp.ClientSession(cookies=cookies) as session,
            session.get(self.server.make_url(path + query)) as page,
        ):
            return page.status, await page.text()

    def sql(self, query: str) -> list[tuple[object, ...]]:
        return sql(self.database_url, query)


async def _served(config_url: str | None, setup: SignInSetup, upstream: str, tmp_path: Path) -> TestServer:
    config = console_config(tmp_path, setup, upstream)
    if config_url is not None:
        config = config.model_copy(update={"database": config.database.model_copy(update={"url": config_url})})
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def overview(
    request: pytest.FixtureRequest, sign_in_setup: SignInSetup, fake_upstream: FakeUpstream, tmp_path: Path
) -> AsyncIterator[Overview]:
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    server = await _served(database_url, sign_in_setup, fake_upstream.base_url, tmp_path)
    try:
        url = database_url or console_config(tmp_path, sign_in_setup, fake_upstream.base_url).database.url
        yield Overview(server, url)
    finally:
        await server.close()


async def _traffic(overview: Overview) -> None:
    """The requests of ``ASKED``, each with its sender's API key, through the gateway's model API."""
    store = ApiKeyStore(overview.database_url)
    try:
        keys = {name: store.create(owner=name, groups=PEOPLE[name], expires_at=None)[1] for name, _ in ASKED}
    finally:
        store.close()
    base = str(overview.server.make_url("/v1"))
    for who, content in ASKED:
        async with openai.AsyncOpenAI(base_url=base, api_key=keys[who], max_retries=0) as client:
            with contextlib.suppress(openai.PermissionDeniedError):  # blocked, or waiting for an approval
                await client.chat.completions.create(
                    model="llama-internal", messages=[{"role": "user", "content": content}]
                )
    await app_of(overview.server)[AUDIT].flush()


def cell(page: str, table_row: str) -> list[str]:
    """The cells of the table row whose header is ``table_row``."""
    found = re.search(rf'<tr><th scope="row">{re.escape(table_row)}</th>((?:<td>[^<]*</td>)+)</tr>', page)
    assert found is not None, table_row
    return re.findall(r"<td>([^<]*)</td>", found.group(1))


async def test_when_an_auditor_opens_the_overview_then_its_figures_are_the_trails(overview: Overview) -> None:
    await _traffic(overview)

    status, page = await overview.page(AUDREY)

    assert status == 200
    total = overview.sql("SELECT count(*) FROM audit_records")[0][0]
    assert total == len(ASKED)
    assert re.search(rf"<dt>Requests</dt><dd>{total}</dd>", page)
    for decision, n in overview.sql("SELECT decision, count(*) FROM audit_records GROUP BY decision"):
        assert cell(page, str(decision).replace("_", " ")) == [str(n)]
    for subject, n in overview.sql("SELECT subject, count(*) FROM audit_records GROUP BY subject"):
        assert cell(page, str(subject)) == [str(n)]
    for model, n in overview.sql("SELECT model, count(*) FROM audit_records GROUP BY model"):
        assert cell(page, str(model)) == [str(n)]
    holding = overview.sql("SELECT count(*) FROM audit_records WHERE CAST(findings AS TEXT) LIKE '%GITHUB_TOKEN%'")
    assert cell(page, "GITHUB_TOKEN") == ["1", str(holding[0][0])]
    assert page.count("<svg") == 5
    assert page.count("<details>") == 5
    assert 'class="series-allow"' in page and 'class="series-block"' in page
    assert "style=" not in page and "<script>" not in page


@pytest.mark.parametrize("window", ["1h", "7d", "30d"])
async def test_when_a_window_is_chosen_then_it_is_the_one_shown(overview: Overview, window: str) -> None:
    await _traffic(overview)

    status, page = await overview.page(ADA, f"?window={window}")

    assert status == 200
    assert f'value="{window}" checked' in page
    assert re.search(rf"<dt>Requests</dt><dd>{len(ASKED)}</dd>", page)


async def test_when_the_trail_is_empty_then_the_overview_says_no_traffic_yet(overview: Overview) -> None:
    status, page = await overview.page(ADA)

    assert status == 200
    assert "No traffic yet." in page
    assert "<svg" not in page


async def test_when_a_custom_window_holds_nothing_then_it_says_so_and_when_the_trail_starts(
    overview: Overview,
) -> None:
    await _traffic(overview)

    status, page = await overview.page(AUDREY, "?window=custom&since=2020-01-01T00:00&until=2020-01-02T00:00")

    assert status == 200
    assert "No requests in this window." in page
    assert "The trail&#39;s first record is from" in page
    assert 'value="2020-01-01T00:00"' in page


@pytest.mark.parametrize(
    "query", ["?window=2y", "?window=custom&since=2020-01-01T00:00", "?window=custom&since=x&until=y"]
)
async def test_when_the_window_is_wrong_then_400_says_what(overview: Overview, query: str) -> None:
    status, page = await overview.page(AUDREY, query)
    assert status == 400
    assert 'class="error"' in page


async def test_when_neither_an_auditor_nor_an_admin_opens_it_then_403_and_no_link(overview: Overview) -> None:
    status, page = await overview.page(SAM)
    _, home = await overview.page(SAM, path="/console/")

    assert status == 403
    assert "auditor_role_required" in page
    assert 'href="/console/overview"' not in home
    assert 'href="/console/overview"' in (await overview.page(AUDREY, path="/console/"))[1]
