"""Encodings a model reads as easily as text: HTML entities, percent-encoding, ``\\uXXXX`` escapes, base64 (in
strings and in data URLs that hold no real image) and spelled-out digits.

The gateway must decode candidates, inspect what they decode to, and mask or refuse the encoded form: the encoded
form reaching the upstream is a leak like the plain one.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import openai
import pytest
from openai.types.chat import ChatCompletionContentPartParam

from tests.attacks.conftest import ATTACK_LOOP, OPENAI_MODEL, Attack
from tests.attacks.harness import GITHUB_TOKEN, IBAN_GB, SSN, VISA, Secret, spell
from tests.attacks.shapes import SHAPES

pytestmark = ATTACK_LOOP


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


ENCODINGS: dict[str, Callable[[str], str]] = {
    "html_decimal": lambda s: "".join(f"&#{ord(c)};" for c in s),
    "html_hex": lambda s: "".join(f"&#x{ord(c):x};" for c in s),
    "html_half": lambda s: "".join(f"&#{ord(c)};" if i % 2 else c for i, c in enumerate(s)),
    "percent_all": lambda s: "".join(f"%{ord(c):02X}" for c in s),
    "percent_half": lambda s: "".join(f"%{ord(c):02X}" if i % 2 else c for i, c in enumerate(s)),
    "u_escape": lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
    "x_escape": lambda s: "".join(f"\\x{ord(c):02x}" for c in s),
    "base64_value": b64,
    "base64_sentence": lambda s: b64(f"the value is {s}"),
    "base64url_value": lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
    "double_base64": lambda s: b64(b64(s)),
    "data_url_text": lambda s: "data:text/plain;base64," + b64(f"value {s}"),
    "data_url_fake_png": lambda s: "data:image/png;base64," + b64(f"value {s}"),
}

VALUES: dict[str, Secret] = {"visa": VISA, "ssn": SSN, "iban": IBAN_GB, "github_token": GITHUB_TOKEN}


CASES = [(e, v) for v in ("visa", "github_token") for e in ENCODINGS] + [
    (e, v) for v in ("ssn", "iban") for e in ("html_decimal", "percent_all", "u_escape", "base64_sentence")
]


@pytest.mark.parametrize(("encoding", "value"), CASES, ids=[f"{e}-{v}" for e, v in CASES])
async def test_encoded_value_in_chat(attack: Attack, encoding: str, value: str) -> None:
    secret = VALUES[value]
    carrier = ENCODINGS[encoding](secret.raw)
    path, body = SHAPES["chat"](f"decode this and remember it: {carrier}")
    await attack.post(path, body)
    await attack.check([secret], carriers=[carrier])


SPELLINGS: dict[str, Callable[[str], str]] = {
    "words": lambda s: spell(s),
    "words_hyphen": lambda s: spell(s, "-"),
    "words_comma": lambda s: spell(s, ", "),
    "words_upper": lambda s: spell(s).upper(),
    "words_capitalised": lambda s: " ".join(w.capitalize() for w in spell(s).split()),
    "words_oh_for_zero": lambda s: spell(s).replace("zero", "oh"),
    "mixed_words_and_digits": lambda s: " ".join(
        w if i % 3 else c for i, (w, c) in enumerate(zip(spell(s).split(), [c for c in s if c.isdigit()], strict=True))
    ),
}


@pytest.mark.parametrize("value", ["visa"])
@pytest.mark.parametrize("spelling", SPELLINGS, ids=list(SPELLINGS))
async def test_spelled_out_digits(attack: Attack, spelling: str, value: str) -> None:
    secret = VALUES[value]
    carrier = SPELLINGS[spelling](secret.raw)
    path, body = SHAPES["chat"](f"my number, spelled out: {carrier}.")
    await attack.post(path, body)
    await attack.check([secret], carriers=[carrier])


@pytest.mark.parametrize("shape", ["completion", "embedding", "responses", "ollama_generate"])
@pytest.mark.parametrize("encoding", ["html_decimal", "base64_sentence"])
async def test_encoded_card_in_other_endpoints(attack: Attack, shape: str, encoding: str) -> None:
    carrier = ENCODINGS[encoding](VISA.raw)
    path, body = SHAPES[shape](f"x {carrier} y")
    await attack.post(path, body)
    await attack.check([VISA], carriers=[carrier])


@pytest.mark.parametrize("encoding", ["html_hex", "u_escape", "base64_value", "data_url_fake_png"])
async def test_encoded_card_through_the_openai_sdk(attack: Attack, encoding: str) -> None:
    carrier = ENCODINGS[encoding](VISA.raw)
    content: list[ChatCompletionContentPartParam] = [{"type": "text", "text": f"see {carrier}"}]
    if encoding.startswith("data_url"):
        content = [{"type": "image_url", "image_url": {"url": carrier}}]
    async with openai.AsyncOpenAI(base_url=attack.gw.base_url, api_key="x", max_retries=0) as sdk:
        try:
            reply = await sdk.chat.completions.create(
                model=OPENAI_MODEL,
                messages=[{"role": "user", "content": content}],
            )
            attack.saw(reply.model_dump_json())
        except openai.APIStatusError as exc:
            attack.saw_error(exc)
    await attack.check([VISA], carriers=[carrier])
