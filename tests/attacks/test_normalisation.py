"""Normalisation the docs claim: compatibility digits, and invisible or combining characters between a value's own.

Each attack writes a value in a disguise the model reads straight through (full-width or circled digits, a
zero-width space after every character, a combining mark on every digit, C0 controls) and sends it in a chat
message. Nothing in any form may reach the upstream, the caller, the logs or the audit rows; the words around the
value must survive (offsets map back to the original text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import openai
import pytest

from tests.attacks.conftest import ATTACK_LOOP, OPENAI_MODEL, Attack
from tests.attacks.harness import IBAN_GB, SSN, VISA, Secret, expect
from tests.attacks.shapes import SHAPES

pytestmark = ATTACK_LOOP

_FULLWIDTH = {ord(c): 0xFF10 + i for i, c in enumerate("0123456789")} | {
    ord(c): 0xFF21 + i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}
_SUPERSCRIPT = dict(zip(map(ord, "0123456789"), "⁰¹²³⁴⁵⁶⁷⁸⁹", strict=True))
_SUBSCRIPT = dict(zip(map(ord, "0123456789"), "₀₁₂₃₄₅₆₇₈₉", strict=True))
_CIRCLED = dict(zip(map(ord, "0123456789"), "⓪①②③④⑤⑥⑦⑧⑨", strict=True))
_MATH_BOLD = {ord(c): 0x1D7CE + i for i, c in enumerate("0123456789")}
_MATH_MONO = {ord(c): 0x1D7F6 + i for i, c in enumerate("0123456789")}


def translate(table: Mapping[int, str | int]) -> Callable[[str], str]:
    return lambda s: s.translate(table)


def between(ch: str) -> Callable[[str], str]:
    """``ch`` after every character of the value."""
    return lambda s: ch.join(s)


def after_each(mark: str) -> Callable[[str], str]:
    return lambda s: "".join(c + mark for c in s)


DISGUISES: dict[str, Callable[[str], str]] = {
    "fullwidth": translate(_FULLWIDTH),
    "superscript": translate(_SUPERSCRIPT),
    "subscript": translate(_SUBSCRIPT),
    "circled": translate(_CIRCLED),
    "math_bold": translate(_MATH_BOLD),
    "math_monospace": translate(_MATH_MONO),
    "zwsp": between("\u200b"),
    "zwnj": between("\u200c"),
    "zwj": between("\u200d"),
    "word_joiner": between("\u2060"),
    "soft_hyphen": between("\u00ad"),
    "bom": between("\ufeff"),
    "lrm": between("\u200e"),
    "invisible_separator": between("\u2063"),
    "tag_space": between("\U000e0020"),
    "combining_acute": after_each("\u0301"),
    "combining_stroke": after_each("\u0336"),
    "grapheme_joiner": after_each("\u034f"),
    "nul": between("\x00"),
    "bell": between("\x07"),
    "escape": between("\x1b"),
    "del": between("\x7f"),
    "backspace": between("\x08"),
    "fullwidth_and_zwsp": lambda s: "\u200b".join(s.translate(_FULLWIDTH)),
}

VALUES: dict[str, Secret] = {"visa": VISA, "ssn": SSN, "iban": IBAN_GB}


def plain(secret: Secret) -> str:
    return secret.raw if secret.kind != "ssn" else secret.raw.replace("-", "")


CASES = [(d, "visa") for d in DISGUISES] + [
    (d, v) for v in ("ssn", "iban") for d in ("fullwidth", "circled", "zwsp", "soft_hyphen", "combining_acute", "nul")
]


@pytest.mark.parametrize(("disguise", "value"), CASES, ids=[f"{d}-{v}" for d, v in CASES])
async def test_disguised_value_in_chat(attack: Attack, disguise: str, value: str) -> None:
    secret = VALUES[value]
    carrier = DISGUISES[disguise](secret.raw)
    label = "SSN" if secret.kind == "ssn" else secret.kind
    path, body = SHAPES["chat"](f"Please store my {label} {carrier} before noon")
    reply = await attack.post(path, body)
    await attack.check([secret], carriers=[carrier])
    if reply.status == 200 and attack.upstream.received:
        text = attack.upstream.received[0].body["messages"][0]["content"]
        expect(
            text.startswith(f"Please store my {label} ") and text.endswith(" before noon"),
            f"the words around a masked {disguise} value did not survive: offsets no longer map to the original",
        )


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize("disguise", ["fullwidth", "zwsp"])
async def test_disguised_card_in_every_endpoint(attack: Attack, shape: str, disguise: str) -> None:
    carrier = DISGUISES[disguise](VISA.raw)
    path, body = SHAPES[shape](f"card {carrier} ok")
    await attack.post(path, body)
    await attack.check([VISA], carriers=[carrier])


@pytest.mark.parametrize("disguise", ["circled", "word_joiner", "combining_stroke"])
async def test_disguised_card_through_the_openai_sdk(attack: Attack, disguise: str) -> None:
    carrier = DISGUISES[disguise](plain(VISA))
    async with openai.AsyncOpenAI(base_url=attack.gw.base_url, api_key="x", max_retries=0) as sdk:
        try:
            reply = await sdk.chat.completions.create(
                model=OPENAI_MODEL, messages=[{"role": "user", "content": f"my card: {carrier}"}]
            )
            attack.saw(reply.model_dump_json())
        except openai.APIStatusError as exc:
            attack.saw_error(exc)
    await attack.check([VISA], carriers=[carrier])
