"""The admin API's one door: an authenticated caller passes as they are; an anonymous one is refused with 401."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from clearance.admin.access import signed_in
from clearance.exceptions import AuthenticationError
from clearance.models import Identity

REQUEST = make_mocked_request("GET", "/admin/v1/approvals")


async def test_when_the_caller_is_authenticated_then_their_identity_is_returned_as_it_is() -> None:
    sam = Identity(subject="sam", kind="service", groups=("ci",))

    async def authenticate(_request: web.Request) -> Identity:
        return sam

    assert await signed_in(authenticate, REQUEST) is sam


async def test_when_the_caller_is_anonymous_then_401_missing_credentials() -> None:
    async def authenticate(_request: web.Request) -> Identity:
        return Identity.anonymous()

    with pytest.raises(AuthenticationError) as refused:
        await signed_in(authenticate, REQUEST)

    assert (refused.value.code, refused.value.http_status) == ("missing_credentials", 401)
    assert "clearance token" in refused.value.message
