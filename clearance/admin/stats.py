"""The audit trail's figures over a window on the admin API, for the ``auditor`` and ``admin`` roles:

- ``GET /admin/v1/stats?since=&until=&bucket=&top=``: the requests recorded in ``[since, until)`` (ISO 8601 or
  seconds since the epoch, as the records search takes them; by default the last 24 hours), their decisions by
  action, the entity types found most (findings and the records holding them), the busiest models and users (the
  ``top`` of each, 10 by default) and the requests of each ``bucket`` by action. ``bucket`` is seconds (or ``5m``,
  ``1h``, ``1d``); left out, the window chooses it (an hour: minutes; a day: quarters of an hour; at most
  ``MAX_BUCKETS`` buckets). Counted in SQL (``clearance.audit.stats``), so the figures are the store's.

``StatsApi.window`` is the operation (the console's overview calls it too); the HTTP handler authenticates, calls
it and serialises.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from aiohttp import web
from sqlalchemy import Engine

from clearance.admin.access import ADMIN, AUDITOR, Authenticate, signed_in
from clearance.admin.record_resources import MAX_TOP, StatsResource
from clearance.admin.records import parse_time
from clearance.audit.stats import window_stats
from clearance.exceptions import ClearanceError, InvalidRequest, PermissionDenied
from clearance.models import Identity
from clearance.policy import PolicyHolder
from clearance.proxy.errors import JSON_CONTENT_TYPE, error_response

PATH: Final = "/admin/v1/stats"
READERS: Final = frozenset({AUDITOR, ADMIN})
DEFAULT_WINDOW: Final = 24 * 3600
MAX_BUCKETS: Final = 100
DEFAULT_TOP: Final = 10
BUCKETS: Final = (60, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
"""The bucket lengths a window chooses from: the shortest that gives at most ``MAX_BUCKETS``."""
_DURATION: Final = re.compile(r"^(\d{1,9})([smhd]?)$")
_UNIT: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

Clock = Callable[[], float]


def choose_bucket(window: float) -> int:
    """The shortest bucket of ``BUCKETS`` that cuts ``window`` seconds into at most ``MAX_BUCKETS`` (and more than
    a week's for a window of years)."""
    for seconds in BUCKETS:
        if window / seconds <= MAX_BUCKETS - 1:  # one more when the window straddles its boundaries
            return seconds
    return math.ceil(window / (MAX_BUCKETS - 1) / 86400) * 86400


def _bucket(text: str | None, window: float) -> int:
    if text is None:
        return choose_bucket(window)
    match = _DURATION.match(text)
    seconds = int(match.group(1)) * _UNIT[match.group(2)] if match else 0
    if seconds < 60 or seconds % 60:
        raise InvalidRequest("bucket must be whole minutes: seconds (900) or 15m, 1h, 1d", param="bucket")
    if window / seconds > MAX_BUCKETS - 1:
        least = math.ceil(window / (MAX_BUCKETS - 1) / 60) * 60
        raise InvalidRequest(
            f"bucket cuts the window into more than {MAX_BUCKETS} buckets: use {least} seconds or more, or leave it "
            "out",
            param="bucket",
        )
    return seconds


def _top(text: str | None) -> int:
    if text is None:
        return DEFAULT_TOP
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_TOP:
        raise InvalidRequest(f"top must be a whole number from 1 to {MAX_TOP}", param="top")
    return int(text)


@dataclass(frozen=True, slots=True)
class StatsApi:
    """The figures operation and its HTTP handler, bound to the gateway's database (the audit store's), the policy
    (for roles), the authenticator of admin callers and a clock (the default window ends now)."""

    engine: Engine
    policy: PolicyHolder
    authenticate: Authenticate
    clock: Clock = time.time

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(PATH, self._get)

    async def window(self, identity: Identity, params: Mapping[str, str]) -> StatsResource:
        """The figures of the window ``params`` ask for (``since``, ``until``, ``bucket``, ``top``)."""
        if not READERS & self.policy.policy.roles(identity):
            raise PermissionDenied(
                "the audit trail's figures need the auditor or admin role: ask for one in the policy's clearances",
                code="auditor_role_required",
            )
        until = _time(params.get("until"), "until") or datetime.fromtimestamp(self.clock(), UTC)
        since = _time(params.get("since"), "since") or datetime.fromtimestamp(until.timestamp() - DEFAULT_WINDOW, UTC)
        if since >= until:
            raise InvalidRequest("since must be before until", param="since")
        window = until.timestamp() - since.timestamp()
        bucket = _bucket(params.get("bucket"), window)
        top = _top(params.get("top"))
        figures = await asyncio.to_thread(window_stats, self.engine, since, until, bucket=bucket, top=top)
        return StatsResource.of(figures, since=since, until=until, bucket=bucket)

    async def _get(self, request: web.Request) -> web.Response:
        try:
            identity = await signed_in(self.authenticate, request)
            resource = await self.window(identity, request.query)
        except ClearanceError as error:
            return error_response(error)
        return web.Response(body=resource.model_dump_json(), content_type=JSON_CONTENT_TYPE)


def _time(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    moment = parse_time(text, name).astimezone(UTC)
    if not 0 <= moment.timestamp() < 2**40:
        raise InvalidRequest(f"{name} is out of range", param=name)
    return moment


STATS_API: Final = web.AppKey("stats_api", StatsApi)
