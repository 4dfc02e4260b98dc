"""The admin API's OpenAPI document: valid OpenAPI 3.1, generated from the resources, covering every admin route;
and the API fuzzed against it with schemathesis on a running gateway (no 5xx, every answer documented and in its
schema)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi import definitions
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clearance.admin.approvals import PREFIX
from clearance.admin.openapi import openapi_document
from clearance.app import create_app
from tests.admin.gateway import People, admin_config, gateway_in_a_thread

UNREACHABLE = "http://127.0.0.1:9"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def operations(document: dict[str, Any]) -> list[Any]:
    """The document's operations, as schemathesis reads them (an invalid one fails the test)."""
    found = []
    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        assert isinstance(result, Ok), result
        found.append(result.ok())
    return found


def admin_routes(app: web.Application) -> set[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith(PREFIX) and route.method != "HEAD":
            routes.add((route.method.lower(), path))
    return routes


def test_when_the_document_is_generated_then_it_is_a_valid_openapi_3_1_document() -> None:
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    definitions.OPENAPI_31_VALIDATOR.validate(document)  # the OpenAPI 3.1 meta-schema
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)  # each is JSON Schema (2020-12, as OpenAPI 3.1 has it)
    assert len(operations(document)) == 23
    assert set(document["components"]["schemas"]) >= {
        *("ApprovalResource", "ApprovalPage", "DecisionBody", "RecordPage", "RecordResource", "RecordSummary"),
        "RevealBody",
        *("PolicyResource", "PolicyVersionPage", "PolicyVersionResource", "PolicyDiffResource", "PolicyTestBody"),
        "PolicyTestResult",
        *("KeyPage", "KeyResource", "NewKeyBody", "NewKeyResource", "StatsResource"),
    }


def test_when_the_app_is_built_then_every_admin_route_is_in_the_document(tmp_path: Path) -> None:
    app = create_app(admin_config(tmp_path, UNREACHABLE))
    documented = {(method, path) for path, item in openapi_document()["paths"].items() for method in item}
    documented -= {("parameters", path) for path in openapi_document()["paths"]}
    assert admin_routes(app) == documented


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, People]]:
    config = admin_config(tmp_path, UNREACHABLE)
    with gateway_in_a_thread(config) as (url, app):
        yield url, People.enrol(app, config.database.url)


def _with_ids(document: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """The document, its ``id`` parameters drawn from ``ids``: the fuzz then acts on real approvals too."""
    targeted = copy.deepcopy(document)
    for item in targeted["paths"].values():
        for parameter in item.get("parameters", []):
            if parameter["name"] == "id":
                parameter["schema"] = {"type": "string", "enum": ids}
    return targeted


@pytest.mark.parametrize("who", ["alice", "sam", "audrey", "ada", "nobody", None])
def test_when_the_api_is_fuzzed_then_it_never_fails_and_answers_as_documented(
    served: tuple[str, People], who: str | None
) -> None:
    url, people = served
    approvals = [
        people.approval("sam"),
        people.approval("sam", needed=2),
        people.approval("alice"),
        people.approval("sam", approvers=("ops",)),
        people.break_glass("olga"),
    ]
    ids = [a.id for a in approvals] + ["no-such-approval"]
    headers = people.headers(who) if who else {}
    with requests.Session() as session:
        for document in (openapi_document(), _with_ids(openapi_document(), ids)):
            for operation in operations(document):
                if operation.path == f"{PREFIX}/approvals/events":
                    continue  # a stream that lasts until the gateway stops: tests/admin/test_approvals.py tests it

                @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy())
                def fuzz(case: Any) -> None:
                    response = case.call(base_url=url, session=session, headers=headers)
                    case.validate_response(response, checks=CHECKS)

                fuzz()
