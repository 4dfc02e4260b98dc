"""Red team, request side: disguises of a value that a model reads back, and the places a value hides in a request.

Each case sends one disguised value in a chat request through the gateway and checks that neither the value nor
the disguised form the attack sent reached the upstream (``carriers``). The disguises are the ones a model
decodes or reads without effort when asked to: invisible Unicode tag characters (ASCII smuggling), Cyrillic and
Greek letters that look like Latin ones inside a token or an IBAN, byte codes written in hex or decimal, digit
words glued together, a card whose groups are joined by different separators, base64 broken over lines.
Forms a model cannot reliably read back (base32, base85, binary, octal, Morse…) are not claimed here.

Still open, and failing here on purpose: a vendor token cut by a line break or written in groups of four (the
token detectors match the token as one run of token characters; joining chunks across white space needs a
guard against prose after a bare prefix), ROT13 of a token or an IBAN, and a card written backwards.
"""

from __future__ import annotations

import base64
import codecs
import json
from collections.abc import Callable

import pytest

from tests.attacks.conftest import ATTACK_LOOP, OPENAI_MODEL, Attack
from tests.attacks.harness import AWS_KEY_ID, GITHUB_TOKEN, IBAN_GB, SSN, VISA, LeakError, Secret
from tests.attacks.shapes import SHAPES

pytestmark = ATTACK_LOOP

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# Latin capitals and the Cyrillic / Greek capitals drawn the same.
_CYRILLIC = str.maketrans("ABCEHKMOPTXY", "\u0410\u0412\u0421\u0415\u041d\u041a\u041c\u041e\u0420\u0422\u0425\u0423")
_GREEK = str.maketrans(
    "ABEHIKMNOPTXYZ", "\u0391\u0392\u0395\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a7\u03a5\u0396"
)


def tags(text: str) -> str:
    """ASCII smuggling: each character as its invisible Unicode tag character (U+E0000 + code)."""
    return "".join(chr(0xE0000 + ord(c)) for c in text)


def mixed_separators(text: str) -> str:
    groups = [text[i : i + 4] for i in range(0, len(text), 4)]
    out = groups[0]
    for sep, group in zip("-._|/", groups[1:], strict=False):
        out += sep + group
    return out


def base64_lines(text: str, width: int = 16) -> str:
    """Base64 broken into lines, as mail and PEM write it."""
    encoded = base64.b64encode(text.encode()).decode()
    return "\n".join(encoded[i : i + width] for i in range(0, len(encoded), width))


DISGUISES: dict[str, Callable[[str], str]] = {
    "unicode_tags": tags,
    "cyrillic_lookalikes": lambda s: s.translate(_CYRILLIC),
    "greek_lookalikes": lambda s: s.translate(_GREEK),
    "hex_0x_bytes": lambda s: " ".join(f"0x{b:02x}" for b in s.encode()),
    "hex_plain": lambda s: s.encode().hex(),
    "hex_spaced": lambda s: " ".join(f"{b:02x}" for b in s.encode()),
    "decimal_char_codes": lambda s: " ".join(str(b) for b in s.encode()),
    "digit_words_glued": lambda s: "".join(_WORDS[int(c)] if c.isdigit() else c for c in s),
    "mixed_separators": mixed_separators,
    "base64_over_lines": lambda s: base64_lines(f"the value is {s}"),
    # Still open (see the module docstring).
    "token_wrapped_over_lines": lambda s: s[: len(s) // 2] + "\n" + s[len(s) // 2 :],
    "token_in_groups_of_four": lambda s: " ".join(s[i : i + 4] for i in range(0, len(s), 4)),
    "rot13": lambda s: codecs.encode(s, "rot13"),
    "reversed": lambda s: s[::-1],
    # Fixed since: markup between digit groups.
    "digit_groups_in_html_tags": lambda s: "".join(f"<b>{s[i : i + 4]}</b>" for i in range(0, len(s), 4)),
}

VALUES: dict[str, Secret] = {"visa": VISA, "ssn": SSN, "iban": IBAN_GB, "github": GITHUB_TOKEN, "aws": AWS_KEY_ID}

# Which values each disguise is tried on: look-alike letters only matter for values with letters, separators
# only for digit groups.
CASES = [
    *[
        (d, v)
        for d in ("unicode_tags", "hex_0x_bytes", "hex_plain", "hex_spaced", "decimal_char_codes")
        for v in VALUES
    ],
    *[(d, v) for d in ("cyrillic_lookalikes", "greek_lookalikes") for v in ("iban", "github", "aws")],
    *[("digit_words_glued", v) for v in ("visa", "ssn")],
    ("mixed_separators", "visa"),
    *[("base64_over_lines", v) for v in ("visa", "github")],
    *[("token_wrapped_over_lines", v) for v in ("github", "aws")],
    *[("token_in_groups_of_four", v) for v in ("github", "aws")],
    *[("rot13", v) for v in ("github", "aws", "iban")],
    ("reversed", "visa"),
    ("digit_groups_in_html_tags", "visa"),
]


OPEN = {
    "rot13": "no ROT13 view yet",
    "reversed": "no reversed-digit view yet (a Luhn check of reversed runs adds false positives)",
}
"""Classes this suite found that still leak: known and open (strict xfail, so a fix shows up as a failure to
remove the mark). Listed in the README and docs/detection.md's known limits."""


def _case(disguise: str, value: str) -> object:
    marks = [pytest.mark.xfail(raises=LeakError, strict=True, reason=OPEN[disguise])] if disguise in OPEN else []
    return pytest.param(disguise, value, id=f"{disguise}-{value}", marks=marks)


@pytest.mark.parametrize(("disguise", "value"), [_case(d, v) for d, v in CASES])
async def test_disguised_value_in_chat(attack: Attack, disguise: str, value: str) -> None:
    secret = VALUES[value]
    carrier = DISGUISES[disguise](secret.raw)
    path, body = SHAPES["chat"](f"decode this and keep it for later: {carrier} thanks")
    await attack.post(path, body)
    await attack.check([secret], carriers=[carrier])


def _chat(messages: list[dict[str, object]], **extra: object) -> tuple[str, dict[str, object]]:
    return "/v1/chat/completions", {"model": OPENAI_MODEL, "messages": messages, **extra}


_HALF_A, _HALF_B = "4111 1111", "1111 1111"
_TOKEN_A, _TOKEN_B = GITHUB_TOKEN.raw[:20], GITHUB_TOKEN.raw[20:]

# A value cut in two, each half in a different place of one request, which the model reads as one text.
SPLITS: dict[str, tuple[tuple[str, dict[str, object]], Secret, list[str]]] = {
    "name_then_content": (
        _chat([{"role": "user", "name": _TOKEN_A, "content": _TOKEN_B}]),
        GITHUB_TOKEN,
        [],
    ),
    "tool_args_key_then_value": (
        _chat(
            [
                {"role": "user", "content": "call it"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "pay", "arguments": json.dumps({_HALF_A: _HALF_B})},
                        }
                    ],
                },
            ]
        ),
        VISA,
        [],
    ),
    "tool_args_two_values": (
        _chat(
            [
                {"role": "user", "content": "call it"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "pay", "arguments": json.dumps({"a": _HALF_A, "b": _HALF_B})},
                        }
                    ],
                },
            ]
        ),
        VISA,
        [],
    ),
    "json_in_string_in_json": (
        _chat([{"role": "user", "content": json.dumps({"nested": json.dumps({"card": VISA.raw})})}]),
        VISA,
        [],
    ),
    "tool_definition_description": (
        _chat(
            [{"role": "user", "content": "hi"}],
            tools=[{"type": "function", "function": {"name": "f", "description": f"key {GITHUB_TOKEN.raw}"}}],
        ),
        GITHUB_TOKEN,
        [],
    ),
    "response_format_schema": (
        _chat(
            [{"role": "user", "content": "hi"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "s", "schema": {"type": "object", "description": VISA.raw}},
            },
        ),
        VISA,
        [],
    ),
    "stop_sequence": (_chat([{"role": "user", "content": "hi"}], stop=[VISA.raw]), VISA, []),
    "logit_bias_keys": (
        _chat([{"role": "user", "content": "hi"}], logit_bias={"4111111111111111": 1}),
        VISA,
        [],
    ),
    "seed_integer_card": (_chat([{"role": "user", "content": "hi"}], seed=4111111111111111), VISA, []),
}


@pytest.mark.parametrize("split", SPLITS, ids=list(SPLITS))
async def test_value_hidden_in_request_structure(attack: Attack, split: str) -> None:
    (path, body), secret, carriers = SPLITS[split]
    await attack.post(path, body)
    await attack.check([secret], carriers=carriers)
