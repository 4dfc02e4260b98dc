"""Separators: a value's digits grouped by any non-alphanumeric separator, and IBANs in lower case or with dashes.

A model reads ``4111/1111/1111/1111`` or ``536_22_8174`` as the number; so must the gateway. Every case is sent in
a chat message; no form of the value may reach any place.
"""

from __future__ import annotations

import openai
import pytest

from tests.attacks.conftest import ATTACK_LOOP, OPENAI_MODEL, Attack
from tests.attacks.harness import AMEX, IBAN_DE, IBAN_GB, SSN, VISA, Secret, compact
from tests.attacks.shapes import SHAPES

pytestmark = ATTACK_LOOP

SEPARATORS: dict[str, str] = {
    "slash": "/",
    "underscore": "_",
    "comma": ",",
    "colon": ":",
    "pipe": "|",
    "dot": ".",
    "middle_dot": "\u00b7",
    "ellipsis": "\u2026",
    "tab": "\t",
    "newline": "\n",
    "line_separator": "\u2028",
    "five_spaces": "     ",
    "nbsp": "\u00a0",
    "thin_space": "\u2009",
    "en_dash": "\u2013",
    "em_dash": "\u2014",
}

GROUPS: dict[str, tuple[Secret, tuple[int, ...]]] = {
    "visa": (VISA, (4, 4, 4, 4)),
    "ssn": (SSN, (3, 2, 4)),
}
AMEX_GROUPS = (4, 6, 5)


def grouped(value: str, sizes: tuple[int, ...], sep: str) -> str:
    digits = compact(value)
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    return sep.join(parts)


@pytest.mark.parametrize("value", GROUPS, ids=list(GROUPS))
@pytest.mark.parametrize("sep", SEPARATORS, ids=list(SEPARATORS))
async def test_value_grouped_by_separator(attack: Attack, sep: str, value: str) -> None:
    secret, sizes = GROUPS[value]
    carrier = grouped(secret.raw, sizes, SEPARATORS[sep])
    word = "SSN" if secret.kind == "ssn" else "card number"
    path, body = SHAPES["chat"](f"my {word} is {carrier} thanks")
    await attack.post(path, body)
    await attack.check([secret], carriers=[carrier])


EVERY_DIGIT: dict[str, str] = {
    "space_between_every_digit": " ",
    "dash_between_every_digit": "-",
    "dot_between_every_digit": ".",
    "newline_between_every_digit": "\n",
    "comma_space_between_every_digit": ", ",
}


@pytest.mark.parametrize("value", ["visa"])
@pytest.mark.parametrize("sep", EVERY_DIGIT, ids=list(EVERY_DIGIT))
async def test_separator_between_every_digit(attack: Attack, sep: str, value: str) -> None:
    secret = GROUPS[value][0]
    carrier = EVERY_DIGIT[sep].join(compact(secret.raw))
    path, body = SHAPES["chat"](f"number: {carrier}")
    await attack.post(path, body)
    await attack.check([secret], carriers=[carrier])


def iban_groups(iban: str, sep: str) -> str:
    return sep.join(iban[i : i + 4] for i in range(0, len(iban), 4))


IBAN_FORMS: dict[str, str] = {
    "lower": IBAN_GB.raw.lower(),
    "lower_spaced": iban_groups(IBAN_GB.raw.lower(), " "),
    "dashes": iban_groups(IBAN_GB.raw, "-"),
    "lower_dashes": iban_groups(IBAN_GB.raw.lower(), "-"),
    "dots": iban_groups(IBAN_GB.raw, "."),
    "slashes": iban_groups(IBAN_GB.raw, "/"),
    "de_lower": IBAN_DE.raw.lower(),
    "de_dashes": iban_groups(IBAN_DE.raw, "-"),
}


@pytest.mark.parametrize("form", IBAN_FORMS, ids=list(IBAN_FORMS))
async def test_iban_forms(attack: Attack, form: str) -> None:
    carrier = IBAN_FORMS[form]
    secret = IBAN_DE if form.startswith("de_") else IBAN_GB
    path, body = SHAPES["chat"](f"wire it to IBAN {carrier} today")
    await attack.post(path, body)
    await attack.check([secret], carriers=[carrier])


@pytest.mark.parametrize("sep", ["slash", "pipe", "newline", "nbsp"])
async def test_amex_grouped_by_separator(attack: Attack, sep: str) -> None:
    carrier = grouped(AMEX.raw, AMEX_GROUPS, SEPARATORS[sep])
    path, body = SHAPES["chat"](f"amex {carrier}")
    await attack.post(path, body)
    await attack.check([AMEX], carriers=[carrier])


@pytest.mark.parametrize("sep", ["slash", "tab"])
async def test_separated_card_through_the_openai_sdk(attack: Attack, sep: str) -> None:
    carrier = grouped(VISA.raw, (4, 4, 4, 4), SEPARATORS[sep])
    async with openai.AsyncOpenAI(base_url=attack.gw.base_url, api_key="x", max_retries=0) as sdk:
        try:
            reply = await sdk.completions.create(model=OPENAI_MODEL, prompt=f"card {carrier}")
            attack.saw(reply.model_dump_json())
        except openai.APIStatusError as exc:
            attack.saw_error(exc)
    await attack.check([VISA], carriers=[carrier])
