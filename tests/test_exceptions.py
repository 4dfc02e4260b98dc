"""The error tree drawn in ``clearance.exceptions``'s docstring is the tree the classes form: same names, same
parents, same statuses and codes, so the drawing can be trusted when choosing what to raise."""

from __future__ import annotations

import inspect
import re

import pytest

from clearance import exceptions
from clearance.exceptions import ClearanceError

LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)(?:\s+(?P<status>\d{3})(?:\s+(?P<code>[a-z]+_[a-z_]+))?)?")


def drawn() -> dict[str, tuple[str | None, int | None, str | None]]:
    """Each error drawn: its parent, and the status and code written beside it (when written)."""
    assert exceptions.__doc__ is not None
    tree = exceptions.__doc__.split("::", 1)[1]
    found: dict[str, tuple[str | None, int | None, str | None]] = {}
    path: list[tuple[int, str]] = []
    for line in tree.splitlines():
        match = LINE.match(line)
        if match is None:
            continue
        depth = len(match["indent"])
        while path and path[-1][0] >= depth:
            path.pop()
        status = int(match["status"]) if match["status"] else None
        found[match["name"]] = (path[-1][1] if path else None, status, match["code"])
        path.append((depth, match["name"]))
    return found


def defined() -> dict[str, type[ClearanceError]]:
    return {
        name: cls
        for name, cls in inspect.getmembers(exceptions, inspect.isclass)
        if issubclass(cls, ClearanceError) and cls.__module__ == exceptions.__name__
    }


def test_the_drawing_names_every_error_and_nothing_else() -> None:
    assert set(drawn()) == set(defined())


@pytest.mark.parametrize("name", sorted(defined()))
def test_each_error_sits_where_the_drawing_puts_it(name: str) -> None:
    cls = defined()[name]
    parent, status, code = drawn()[name]
    assert cls.__bases__[0].__name__ == (parent or "Exception")
    if status is not None:
        assert cls.http_status == status
    if code is not None:
        assert cls.code == code


@pytest.mark.parametrize("name", sorted(defined()))
def test_each_error_has_a_stable_code_and_an_http_status(name: str) -> None:
    error = defined()[name]("what to do next")
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", error.code)
    assert 400 <= error.http_status < 600
    assert error.message == "what to do next"


def test_a_code_given_at_raise_time_overrides_the_class_default() -> None:
    error = exceptions.PermissionDenied("ask an approver", code="approval_required", details={"rule": "r1"})
    assert (error.code, error.http_status, error.details) == ("approval_required", 403, {"rule": "r1"})
    assert exceptions.PermissionDenied.code == "blocked_by_policy"
