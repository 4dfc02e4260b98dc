"""The policy pages (the approver, auditor or admin role; the policy API's operations do the check):

- ``GET /console/policy``: the policy in force summarised (levels, clearances, model and upstream ceilings, rules in
  order, defaults), its digest, its source and when it was loaded.
- ``GET /console/policy/history``: the versions loaded, newest first, and a form choosing two to diff
  (``?from=DIGEST&to=DIGEST``); the diff with each added and removed line marked for sight and for screen readers.
- ``GET /console/policy/try`` and ``POST /console/policy/try``: a caller, a model and a text, with a draft policy
  (prefilled with the live text); the decision under the live policy and the draft side by side, and how many recent
  recorded decisions the draft would change. The post answers with the page itself rather than a redirect: a trial
  changes nothing, and its text must go neither into a URL nor into a store. A script's post (``policy.js``, header
  ``X-Console-Fragment``) gets the result alone, to swap in.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from clearance.admin.policy import MAX_TEST_BODY_BYTES, POLICY_API, PolicyApi, trial_body
from clearance.admin.policy_resources import PolicyTestResult, PolicyVersionResource
from clearance.console.access import ConsoleUser, Form, console_form, console_user, form_text
from clearance.console.render import render, render_fragment
from clearance.enforce.trial import DEFAULT_ENDPOINT, ENDPOINTS
from clearance.exceptions import ClearanceError, RequestError

FRAGMENT_HEADER: Final = "X-Console-Fragment"
MAX_TRIAL_FORM_BYTES: Final = 3 * MAX_TEST_BODY_BYTES
"""The API's cap on a trial, as a form may encode it (a byte percent-encoded is three)."""
CALLER_KINDS: Final = ("user", "service_account", "anonymous")


def _api(request: web.Request) -> PolicyApi:
    return request.app[POLICY_API]


async def summary(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    policy = await _api(request).show(user.identity)
    return render(request, "policy/summary.html", user=user, title="Policy in force", policy=policy)


async def history(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    api = _api(request)
    query = request.query
    page = await api.list_versions(user.identity, query)
    chosen = {"from": query.get("from", ""), "to": query.get("to", "")}
    versions: list[PolicyVersionResource] = page.data
    if not chosen["from"] and len(versions) > 1:  # the two newest: what the last reload changed
        chosen = {"from": versions[1].digest, "to": versions[0].digest}
    diff = await api.diff(user.identity, query) if "from" in query or "to" in query else None
    return render(
        request,
        "policy/history.html",
        user=user,
        title="Policy history",
        versions=versions,
        next_cursor=page.next_cursor,
        chosen=chosen,
        diff=diff,
    )


def _fields(form: Form | None, api: PolicyApi, live_text: str) -> dict[str, str]:
    """The form's values as sent, or the first visit's: a user, the first model, the live text as the draft."""
    if form is None:
        models = api.models()
        return {
            "kind": "user",
            "name": "",
            "email": "",
            "groups": "",
            "model": models[0] if models else "",
            "endpoint": DEFAULT_ENDPOINT,
            "label": "",
            "text": "",
            "draft": live_text,
        }
    names = ("kind", "name", "email", "groups", "model", "endpoint", "label", "text", "draft")
    return {name: form_text(form, name) for name in names}


def _body(fields: dict[str, str]) -> dict[str, Any]:
    kind, name = fields["kind"], fields["name"].strip()
    identity: dict[str, Any] = {"groups": [g.strip() for g in fields["groups"].split(",") if g.strip()]}
    if kind == "user":
        identity.update(user=name or None, email=fields["email"].strip() or None)
    elif kind == "service_account":
        identity["service_account"] = name or None
    return {
        "identity": identity,
        "model": fields["model"],
        "text": fields["text"],
        "endpoint": fields["endpoint"] or DEFAULT_ENDPOINT,
        "label": fields["label"] or None,
        "draft": fields["draft"] if fields["draft"].strip() else None,
    }


def _try_page(
    request: web.Request,
    user: ConsoleUser,
    api: PolicyApi,
    fields: dict[str, str],
    result: PolicyTestResult | None,
    error: ClearanceError | None,
) -> web.Response:
    # a mistake in the form (an invalid draft, groups without a caller) is the page answering as it should: 200,
    # the mistake shown beside the form; anything else keeps its status
    status = error.http_status if error is not None and not isinstance(error, RequestError) else 200
    context: dict[str, Any] = {"result": result, "error": error, "levels": api.holder.policy.levels}
    if request.headers.get(FRAGMENT_HEADER):
        return render_fragment(request, "policy/_result.html", user=user, status=status, **context)
    return render(
        request,
        "policy/try.html",
        user=user,
        title="Try the policy",
        status=status,
        fields=fields,
        models=api.models(),
        endpoints=list(ENDPOINTS),
        kinds=CALLER_KINDS,
        **context,
    )


async def try_form(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    api = _api(request)
    live = await api.show(user.identity)  # the role check, and the live text for the draft
    return _try_page(request, user, api, _fields(None, api, live.text), None, None)


async def try_submit(request: web.Request) -> web.StreamResponse:
    user, form = await console_form(request, max_bytes=MAX_TRIAL_FORM_BYTES)
    api = _api(request)
    api.check(user.identity)  # no role: the error page, before the text is even read
    fields = _fields(form, api, "")
    try:
        result = await api.test(user.identity, trial_body(_body(fields)))
    except ClearanceError as error:  # an invalid draft, an unknown endpoint…: shown beside the form as sent
        return _try_page(request, user, api, fields, None, error)
    return _try_page(request, user, api, fields, result, None)


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/console/policy", summary)
    router.add_get("/console/policy/history", history)
    router.add_get("/console/policy/try", try_form)
    router.add_post("/console/policy/try", try_submit)
