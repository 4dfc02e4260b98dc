"""Controls: the suite's own checks, so a failing attack means the gateway, not an over-eager harness.

The leak check must see every disguise the attack modules use, and must stay quiet about what a correct gateway
sends (masks, placeholders, the plain cases masked today). ``scripts/attack-report`` lists these apart from the
attack classes.
"""

from __future__ import annotations

import base64

import pytest

from tests.attacks.conftest import ATTACK_LOOP, OPENAI_MODEL, SSE_HEADERS, Attack, Script, chunk, sse
from tests.attacks.harness import GITHUB_TOKEN, IBAN_GB, SSN, VISA, LeakError, Place, assert_no_leak, find_leak, spell

SEEN: dict[str, str] = {
    "verbatim": "card 4111111111111111",
    "separated": "card 4111/1111/1111/1111",
    "fullwidth": "card " + VISA.raw.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"}),
    "zero_width": "card " + "\u200b".join(VISA.raw),
    "html_entities": "".join(f"&#{ord(c)};" for c in VISA.raw),
    "percent": "".join(f"%{ord(c):02X}" for c in VISA.raw),
    "u_escapes": "".join(f"\\u{ord(c):04x}" for c in VISA.raw),
    "base64": base64.b64encode(f"card {VISA.raw}".encode()).decode(),
    "spelled": spell(VISA.raw),
    "all_but_last_four": "card 4111 1111 1111 XXXX",
}


@pytest.mark.parametrize("form", SEEN, ids=list(SEEN))
def test_the_check_sees_every_form(form: str) -> None:
    assert find_leak(Place("x", SEEN[form]), VISA) is not None


QUIET: dict[str, str] = {
    "card_mask": "card XXXX XXXX XXXX 1111 ok",
    "placeholder": "key [GITHUB_TOKEN] and [US_SSN] and [IBAN_CODE]",
    "other_numbers": "order 4111 placed 2026-01-01T00:00:00Z, 11 items, total 1111.11",
    "ids_and_timestamps": "chatcmpl-x 1733350000 fake-model 0 stop",
}


@pytest.mark.parametrize("text", QUIET, ids=list(QUIET))
def test_the_check_is_quiet_about_masked_text(text: str) -> None:
    assert_no_leak([Place("x", QUIET[text])], [VISA, SSN, IBAN_GB, GITHUB_TOKEN])


def test_a_leak_raises_leak_error_with_the_value_masked() -> None:
    with pytest.raises(LeakError) as caught:
        assert_no_leak([Place("the logs", SEEN["verbatim"])], [VISA])
    assert "4111…1111" in str(caught.value)
    assert VISA.raw not in str(caught.value)


@ATTACK_LOOP
@pytest.mark.parametrize(
    "text",
    [f"card {VISA.raw}", f"ssn {SSN.raw}", f"iban {IBAN_GB.raw}", f"token {GITHUB_TOKEN.raw}"],
    ids=["card", "ssn", "iban", "token"],
)
async def test_plain_value_masked_today_passes(attack: Attack, text: str) -> None:
    await attack.post("/v1/chat/completions", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": text}]})
    await attack.check([VISA, SSN, IBAN_GB, GITHUB_TOKEN])


@ATTACK_LOOP
async def test_plain_streamed_answer_masked_today_passes(attack: Attack) -> None:
    attack.upstream.script = Script(
        sse(chunk("card 4111 11"), chunk("11 1111 1111 ok"), chunk(finish="stop")), headers=SSE_HEADERS
    )
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}], "stream": True}
    await attack.post("/v1/chat/completions", body)
    await attack.check([VISA])
