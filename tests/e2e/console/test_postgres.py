"""The harness's PostgreSQL variant: a module's gateway on a fresh schema of the real PostgreSQL."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.console.conftest import OpenAIFactory
from tests.e2e.console.harness import APPROVER, USER, ConsoleGateway, sign_in

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def database_url(postgres_database: str) -> str:
    return postgres_database


def test_a_gateway_on_postgresql_records_and_signs_in(
    page: Page, gateway: ConsoleGateway, openai_client: OpenAIFactory
) -> None:
    assert gateway.config.database.url.startswith("postgresql")
    openai_client(gateway.api_key(USER)).chat.completions.create(
        model="llama-internal", messages=[{"role": "user", "content": "recorded in PostgreSQL"}]
    )
    assert [r["subject"] for r in gateway.records()] == [USER.login]
    sign_in(page, APPROVER)
    assert page.locator("main").get_attribute("data-signed-in") == APPROVER.login
