"""A template: one hand-written shape of document, in a family (``table``, ``email``…) that names the record kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.heldout.doc import DocBuilder, fill
from bench.heldout.slots import SLOTS, Ctx


@dataclass(frozen=True, slots=True)
class Template:
    family: str
    name: str
    write: Callable[[Ctx, DocBuilder], None]


def text(family: str, name: str, body: str) -> Template:
    """A template that is one string of ``«slot»`` fields."""

    def write(ctx: Ctx, d: DocBuilder) -> None:
        fill(d, SLOTS, ctx, body)

    return Template(family, name, write)


def choice(family: str, name: str, *bodies: str) -> Template:
    """A template whose body is one of a few close variants (same phrasing family, small differences)."""

    def write(ctx: Ctx, d: DocBuilder) -> None:
        fill(d, SLOTS, ctx, ctx.rng.choice(bodies))

    return Template(family, name, write)
