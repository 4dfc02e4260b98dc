"""The gateway's API keys (``clr_…``) on the admin API, for the ``admin`` role only:

- ``GET /admin/v1/keys``: every key, oldest first: its id, name, owner, groups, when it was made, expires and was
  last used, and its status (active, expired, revoked). Never the key, nor its hash.
- ``POST /admin/v1/keys`` with ``{"name": "...", "groups": [...], "expires_in": "90d", "owner": "..."}``: a new
  key, as ``clearance keys create`` makes one (the same store call and the same expiry forms: ``90d``, ``12h``,
  ``2w``, a date, ``never``); its owner is the caller unless ``owner`` names another subject. The raw key is in this
  response only (``Cache-Control: no-store``): only its hash is kept.
- ``DELETE /admin/v1/keys/{id}``: revoke a key; it stops working at once, on every gateway sharing the database.
  404 for an id no key has; revoking a revoked key answers it as it is.

Every create and revoke is logged (who, which key id; never the key). When ``auth.api_keys.enabled`` is off, every
operation answers 404 ``api_keys_disabled`` saying so. ``KeysApi``'s operations take the caller's identity (the
console calls them too); its HTTP handlers authenticate, call them and serialise.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clearance.admin.access import ADMIN, Authenticate, signed_in
from clearance.admin.bodies import json_body, resource_response
from clearance.auth.key_auth import ApiKeyAuthenticator
from clearance.auth.keys import DEFAULT_EXPIRY, ApiKeyRecord, is_key_id, parse_expiry
from clearance.exceptions import (
    ClearanceError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
)
from clearance.models import Identity
from clearance.policy import PolicyHolder
from clearance.proxy.errors import error_response

log = logging.getLogger("clearance.auth.keys")

PREFIX: Final = "/admin/v1/keys"
MAX_KEY_BODY_BYTES: Final = 16 * 1024
KEY_BODY_TIMEOUT: Final = 30.0
MAX_NAME_CHARS: Final = 255
MAX_GROUPS: Final = 50
KeyStatus = Literal["active", "expired", "revoked"]
Clock = Callable[[], float]

_BODY_EXAMPLE = '{"name": "nightly-report", "groups": ["engineering"], "expires_in": "90d"}'


class _Resource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KeyResource(_Resource):
    """One API key as admins see it: never the key, nor its hash."""

    object: Literal["api_key"] = "api_key"
    id: str = Field(description="the key's public id: the 12 hex digits after clr_")
    name: str = Field(description="what the key is for (the CLI's --label)")
    owner: str = Field(description="the subject the key's caller is: who answers for it")
    groups: list[str] = Field(description="the groups its caller belongs to (the policy's clearances read them)")
    created_at: float = Field(description="seconds since the epoch")
    expires_at: float | None = Field(description="null: never")
    last_used_at: float | None = Field(description="null: never used (or not yet written: within a minute)")
    revoked_at: float | None
    status: KeyStatus

    @classmethod
    def of(cls, record: ApiKeyRecord, *, now: float) -> KeyResource:
        return cls(**_fields(record, now))


class NewKeyResource(KeyResource):
    """A key just made, the raw key included: shown this once, kept nowhere (only its hash is stored)."""

    key: str = Field(description="the key itself (clr_…): store it in a secret manager now; it is not shown again")


class KeyPage(_Resource):
    """Every API key, oldest first."""

    object: Literal["list"] = "list"
    data: list[KeyResource]


class NewKeyBody(_Resource):
    """A key to make, as ``clearance keys create`` takes it."""

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=r"\S", description="what the key is for")
    groups: list[str] = Field(
        default=[],
        max_length=MAX_GROUPS,
        description="the groups its caller belongs to (each 1 to 255 characters)",
    )
    expires_in: str = Field(
        default=DEFAULT_EXPIRY, max_length=64, description="90d, 12h, 2w, a date such as 2026-12-31, or never"
    )
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="the subject its caller is (default: yours)",
    )


def _fields(record: ApiKeyRecord, now: float) -> dict[str, Any]:
    return {
        "id": record.key_id,
        "name": record.label,
        "owner": record.owner,
        "groups": list(record.groups),
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "last_used_at": record.last_used_at,
        "revoked_at": record.revoked_at,
        "status": record.status(now),
    }


def new_key_body(data: Any) -> NewKeyBody:
    """``data`` (parsed JSON, or a console form's fields) as a ``NewKeyBody``; ``InvalidRequest`` naming the first
    field that is wrong, its expiry included."""
    try:
        body = NewKeyBody.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidRequest(f"{where or 'the body'}: {first['msg']}; send {_BODY_EXAMPLE}", param=where) from None
    if any(not group.strip() or len(group) > MAX_NAME_CHARS for group in body.groups):
        raise InvalidRequest("each group must be 1 to 255 characters, not blank", param="groups")
    try:
        parse_expiry(body.expires_in, now=time.time())
    except ValueError as exc:
        raise InvalidRequest(f"expires_in: {exc}", param="expires_in") from None
    return body


async def _body(request: web.Request) -> NewKeyBody:
    data = await json_body(request, max_bytes=MAX_KEY_BODY_BYTES, timeout=KEY_BODY_TIMEOUT, example=_BODY_EXAMPLE)
    return new_key_body(data)


@dataclass(frozen=True, slots=True)
class KeysApi:
    """The key operations and their HTTP handlers, bound to the gateway's key authenticator (None: API keys are
    disabled), the policy (for roles), the authenticator of admin callers and a clock."""

    keys: ApiKeyAuthenticator | None
    policy: PolicyHolder
    authenticate: Authenticate
    clock: Clock = time.time

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(PREFIX, self._answering(self._list))
        router.add_post(PREFIX, self._answering(self._create))
        router.add_delete(f"{PREFIX}/{{id}}", self._answering(self._revoke))

    # the operations: the HTTP handlers below and the console call these

    async def list_keys(self, identity: Identity) -> KeyPage:
        """Every key, oldest first (the admin role)."""
        keys = self._allowed(identity)
        await keys.flush()  # last-used times this gateway holds in memory, written first
        records = await asyncio.to_thread(keys.store.list)
        now = self.clock()
        return KeyPage(data=[KeyResource.of(r, now=now) for r in records])

    async def create_key(self, identity: Identity, body: NewKeyBody) -> NewKeyResource:
        """A new key (the admin role); the raw key is in the answer only."""
        keys = self._allowed(identity)
        now = self.clock()
        try:
            expires_at = parse_expiry(body.expires_in, now=now)
        except ValueError as exc:
            raise InvalidRequest(f"expires_in: {exc}", param="expires_in") from None
        owner = body.owner or identity.subject
        record, raw = await asyncio.to_thread(
            keys.store.create, owner=owner, groups=body.groups, expires_at=expires_at, label=body.name, now=now
        )
        log.warning("API key created", extra={"key_id": record.key_id, "owner": owner, "by": identity.subject})
        return NewKeyResource(**_fields(record, now), key=raw)

    async def revoke_key(self, identity: Identity, key_id: str) -> KeyResource:
        """Revoke a key (the admin role); ``NotFound`` for an id no key has."""
        keys = self._allowed(identity)
        unknown = NotFound(
            "there is no API key with this id: the id is the 12 hex digits after clr_ (see GET /admin/v1/keys)",
            code="api_key_not_found",
        )
        if not is_key_id(key_id):
            raise unknown
        now = self.clock()
        if await asyncio.to_thread(keys.store.revoke, key_id, now=now):
            log.warning("API key revoked", extra={"key_id": key_id, "by": identity.subject})
        record = await asyncio.to_thread(keys.store.get, key_id)
        if record is None:
            raise unknown
        return KeyResource.of(record, now=now)

    def _allowed(self, identity: Identity) -> ApiKeyAuthenticator:
        if ADMIN not in self.policy.policy.roles(identity):
            raise PermissionDenied(
                "managing API keys needs the admin role: ask for it in the policy's clearances",
                code="admin_role_required",
            )
        if self.keys is None:
            raise NotFound(
                "API keys are disabled on this gateway: set auth.api_keys.enabled: true in its configuration "
                "(the keys live in auth.api_keys.url, else database.url)",
                code="api_keys_disabled",
            )
        return self.keys

    # the HTTP handlers

    def _answering(
        self, handler: Callable[[web.Request, Identity], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def answer(request: web.Request) -> web.Response:
            try:
                return await handler(request, await signed_in(self.authenticate, request))
            except ClearanceError as error:
                return error_response(error)

        return answer

    async def _list(self, _request: web.Request, identity: Identity) -> web.Response:
        return resource_response(await self.list_keys(identity))

    async def _create(self, request: web.Request, identity: Identity) -> web.Response:
        self._allowed(identity)  # before the body is read: a caller who may not create learns nothing from it
        return resource_response(await self.create_key(identity, await _body(request)), status=201, private=True)

    async def _revoke(self, request: web.Request, identity: Identity) -> web.Response:
        return resource_response(await self.revoke_key(identity, request.match_info["id"]))


KEYS_API: Final = web.AppKey("keys_api", KeysApi)
