"""Pages from templates: the layout shows the caller's navigation, user text is escaped, times read as UTC."""

from __future__ import annotations

from aiohttp.test_utils import make_mocked_request

from clearance.console.access import ConsoleUser
from clearance.console.render import TEMPLATES, build_templates, iso, redirect, render, render_fragment, when
from clearance.models import Identity


def test_when_formatting_times_then_they_are_utc() -> None:
    assert when(0) == "1970-01-01 00:00:00 UTC"
    assert iso(86400.5) == "1970-01-02T00:00:00.500000Z"
    assert when(None) == "" and iso(None) == ""


def test_when_rendering_then_user_text_is_escaped_and_the_nav_follows_the_roles() -> None:
    request = make_mocked_request("GET", "/console/policy")
    request.app[TEMPLATES] = build_templates()
    user = ConsoleUser(Identity("<script>x</script>", groups=("<b>",)), frozenset({"admin"}), "t", signed_in=True)
    page = render(request, "home.html", user=user, title="Console").text or ""
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert 'href="/console/keys"' in page
    assert 'href="/console/policy" aria-current="page"' in page
    assert 'href="/console/approvals"' in page  # every signed-in caller


def test_when_rendering_a_fragment_then_it_has_no_layout() -> None:
    request = make_mocked_request("GET", "/console/")
    request.app[TEMPLATES] = build_templates()
    user = ConsoleUser(Identity("a"), frozenset(), "t", signed_in=False)
    fragment = render_fragment(request, "macros.html", user=user).text or ""
    assert "<html" not in fragment


def test_a_redirect_after_a_post_is_see_other() -> None:
    response = redirect("/console/x")
    assert response.status == 303
    assert response.headers["Location"] == "/console/x"
