"""``/console/overview``: the audit trail's figures over a window, for auditors and admins
(``clearance.admin.stats``' operation, so its role check and its numbers): requests per bucket by decision, the
decisions, the types found most, the busiest models and users, each as an SVG chart with a table of the same
figures.

The window: ``?window=1h|24h|7d|30d`` (default 24h), or ``window=custom`` with ``since`` and ``until`` (the form's
``datetime-local`` fields, read as UTC; ISO 8601 or seconds since the epoch work too). An empty window says whether
nothing was ever recorded or nothing in it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from aiohttp import web

from clearance.admin.stats import STATS_API
from clearance.console.access import console_user
from clearance.console.charts import bars, columns
from clearance.console.render import render
from clearance.exceptions import InvalidRequest

PATH: Final = "/console/overview"
WINDOWS: Final = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
DEFAULT_WINDOW: Final = "24h"
DECISIONS: Final = ("allow", "mask", "require_approval", "block", "none")
"""The decisions in the order the charts stack and list them (none: refused before the policy decided)."""


def _field(moment: float) -> str:
    """A time as a ``datetime-local`` field shows it (UTC, to the minute)."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M")


async def overview(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    api = request.app[STATS_API]
    chosen = request.query.get("window", DEFAULT_WINDOW)
    if chosen == "custom":
        since, until = request.query.get("since", ""), request.query.get("until", "")
        if not since or not until:
            raise InvalidRequest("a custom window needs both its start and its end", param="since")
        query = {"since": since, "until": until}
    elif chosen in WINDOWS:
        now = api.clock()
        query = {"since": f"{now - WINDOWS[chosen]:.3f}", "until": f"{now:.3f}"}
    else:
        raise InvalidRequest(f"window must be one of {', '.join(WINDOWS)} or custom", param="window")
    stats = await api.window(user.identity, query)
    decisions = sorted(stats.decisions.items(), key=lambda item: _rank(item[0]))
    timeline = columns([(b.start, b.decisions) for b in stats.buckets], DECISIONS)
    short = "%H:%M" if stats.bucket < 86400 and stats.until - stats.since <= 2 * 86400 else "%m-%d %H:%M"
    return render(
        request,
        "overview/overview.html",
        user=user,
        title="Overview",
        stats=stats,
        windows=WINDOWS,
        chosen=chosen,
        since_field=_field(stats.since),
        until_field=_field(stats.until),
        decisions=decisions,
        timeline=timeline,
        ticks=[(x, datetime.fromtimestamp(start, UTC).strftime(short)) for x, start in timeline.ticks],
        decision_bars=bars(decisions, series={d: d for d in DECISIONS}),
        type_bars=bars([(t.type, t.found) for t in stats.types]),
        model_bars=bars([(m.name or "(none)", m.requests) for m in stats.models]),
        user_bars=bars([(u.name or "(anonymous)", u.requests) for u in stats.users]),
    )


def _rank(decision: str) -> int:
    return DECISIONS.index(decision) if decision in DECISIONS else len(DECISIONS)


def register(router: web.UrlDispatcher) -> None:
    router.add_get(PATH, overview)
