"""The enforcement stage on its own: token ids refused, decisions carried, the hold-back chosen from the plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from clearance.detect import Scanner
from clearance.endpoints import (
    OLLAMA_CHAT,
    OLLAMA_EMBED,
    OLLAMA_GENERATE,
    OPENAI_CHAT,
    OPENAI_COMPLETIONS,
    OPENAI_EMBEDDINGS,
    OPENAI_RESPONSES,
    Endpoint,
)
from clearance.enforce.inspector import MAX_POSITIONS, Inspection, Inspector
from clearance.exceptions import InspectionFailed, InvalidRequest, UnsupportedInput
from clearance.models import Decision, DecisionInput, Finding, Identity, MaskPlan
from clearance.payload.extract import walk_body
from tests.image_samples import data_url, png

SCANNER = Scanner.from_config(None)
CARD_KEY = "4111 1111 1111 1111"
TYPES = frozenset(t for d in SCANNER.detectors for t in d.types)


def classify(counts: Mapping[str, int]) -> str:
    return "restricted" if counts else "public"


def decide_with(plan: MaskPlan) -> Inspector:
    def decide(facts: DecisionInput) -> Decision:
        return Decision("mask", "r1", ("restricted_type",), facts.level, plan, facts.counts)

    return Inspector(scan=SCANNER.scan, classify=classify, decide=decide, hash_key=b"k", types=TYPES)


def inspect(inspector: Inspector, body: dict[str, Any], endpoint: Endpoint = OPENAI_CHAT) -> Inspection:
    return inspector.inspect(
        endpoint,
        body,
        identity=Identity.anonymous(),
        model="m",
        upstream="u",
        declared=None,
    )


def test_token_ids_are_refused_unless_allowed() -> None:
    inspector = decide_with(MaskPlan({"CREDIT_CARD": "redact"}))
    with pytest.raises(UnsupportedInput, match="token ids"):
        inspect(inspector, {"model": "m", "input": [[1, 2, 3]]}, OPENAI_EMBEDDINGS)


def test_findings_are_counted_and_masked_in_the_body() -> None:
    inspector = decide_with(MaskPlan({"CREDIT_CARD": "redact"}))
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "card 4111 1111 1111 1111"}]}
    result = inspect(inspector, body)
    assert result.decision.counts == {"CREDIT_CARD": 1}
    assert result.body["messages"][0]["content"] == "card [CREDIT_CARD]"
    assert body["messages"][0]["content"] == "card 4111 1111 1111 1111"
    assert result.masked == {"CREDIT_CARD": 1}


def test_a_body_already_walked_is_inspected_from_its_leaves_as_it_would_be_walked_here() -> None:
    body: dict[str, object] = {"model": "m", "messages": [{"role": "user", "content": "card 4111 1111 1111 1111"}]}
    walked = walk_body(body)
    inspector = decide_with(MaskPlan({"CREDIT_CARD": "redact"}))
    given = inspector.inspect(
        OPENAI_CHAT, body, identity=Identity.anonymous(), model="m", upstream="u", declared=None, walked=walked
    )
    assert given.body == inspect(decide_with(MaskPlan({"CREDIT_CARD": "redact"})), body).body
    assert given.masked == {"CREDIT_CARD": 1}


def test_a_refused_request_has_nothing_masked() -> None:
    def block(facts: DecisionInput) -> Decision:
        return Decision(
            "block", "r1", ("restricted_type",), facts.level, MaskPlan({"CREDIT_CARD": "redact"}), facts.counts
        )

    inspector = Inspector(scan=SCANNER.scan, classify=classify, decide=block, hash_key=b"k", types=TYPES)
    result = inspect(inspector, {"model": "m", "messages": [{"role": "user", "content": "4111 1111 1111 1111"}]})
    assert result.decision.action == "block"
    assert result.masked == {}


@pytest.mark.parametrize(
    ("plan", "hold"),
    [
        (MaskPlan({"CREDIT_CARD": "partial", "GITHUB_TOKEN": "redact"}), False),
        (MaskPlan({"CREDIT_CARD": "partial", "EMAIL_ADDRESS": "placeholder"}), True),
        (MaskPlan({"CREDIT_CARD": "partial"}, restore=True), True),
        (MaskPlan(otherwise="redact"), True),  # every type, emails included
    ],
)
def test_streams_hold_words_only_when_a_masked_type_can_start_with_one(plan: MaskPlan, hold: bool) -> None:
    result = inspect(decide_with(plan), {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert result.masker.hold_words is hold


def test_a_detector_failure_is_inspection_failed_with_no_payload_in_the_message() -> None:
    def broken(_text: str) -> list[Finding]:
        raise ValueError("4111 1111 1111 1111")

    def never(_facts: DecisionInput) -> Decision:
        raise AssertionError("a failed scan must stop the stage before any decision")

    inspector = Inspector(scan=broken, classify=classify, decide=never, hash_key=b"k")
    with pytest.raises(InspectionFailed) as info:
        inspect(inspector, {"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert "4111" not in info.value.message


# -- structure, keys, numbers, token ids, data URLs, split values ---------------------------------------------

CARD = "4111 1111 1111 1111"
MASKS_CARDS = MaskPlan({"CREDIT_CARD": "redact", "US_SSN": "redact", "AWS_ACCESS_KEY": "redact"})


def chat(*messages: dict[str, object], **extra: object) -> dict[str, object]:
    return {"model": "m", "messages": list(messages), **extra}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (chat({"role": "admin", "content": "x"}), "messages[0].role"),
        (chat({"role": "user", "content": [{"type": "Text Part", "text": "x"}]}), "messages[0].content[0].type"),
        (chat({"role": "tool", "tool_call_id": "call 1", "content": "x"}), "messages[0].tool_call_id"),
        (chat({"role": "user", "content": "x", "name": "Jane Doe"}), "messages[0].name"),
        (
            chat({"role": "user", "content": "x"}, tools=[{"type": "function", "function": {"name": "a b"}}]),
            "tools[0].function.name",
        ),
        (chat({"role": "user", "content": "x"}, extra={"deep": [{"id": CARD}]}), "extra.deep[0].id"),
        (chat({"role": "user", "content": "x"}, service_tier="Default"), "service_tier"),
    ],
)
def test_structure_out_of_its_format_is_refused_naming_the_path(body: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        inspect(decide_with(MASKS_CARDS), body)
    assert info.value.param == param
    assert param in info.value.message
    assert "4111" not in info.value.message


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (chat({"role": "user", "content": "x", CARD: "y"}), "messages[0].<key>"),
        (chat({"role": "user", "content": "x"}, notes={"4111111111111111": 1}), "notes.<key>"),
        (chat({"role": "user", "content": "x"}, notes={"ssn 536-22-1234": {"a": "b"}}), "notes.<key>"),
        (chat({"role": "tool", "tool_call_id": "call_4111111111111111", "content": "x"}), "messages[0].tool_call_id"),
        (
            chat(
                {"role": "user", "content": "x"},
                tools=[{"type": "function", "function": {"name": "AKIA2OGYBAH6STMMNXNN"}}],
            ),
            "tools[0].function.name",
        ),
        (chat({"role": "user", "content": "x"}, metadata={"tag": {"4111-1111-1111-1111": "v"}}), "metadata.tag.<key>"),
    ],
)
def test_keys_and_structure_holding_a_masked_value_are_refused(body: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        inspect(decide_with(MASKS_CARDS), body)
    assert info.value.param == param
    for raw in ("4111", "536-22", "AKIA"):
        assert raw not in info.value.message


def test_a_key_holding_a_type_the_plan_lets_through_passes() -> None:
    body = chat({"role": "user", "content": "x"}, notes={CARD: "y"})
    result = inspect(decide_with(MaskPlan({"US_SSN": "redact"})), body)
    assert result.body["notes"] == {CARD: "y"}
    assert result.decision.counts == {"CREDIT_CARD": 1}


@pytest.mark.parametrize(
    ("extra", "masked"),
    [
        ({"n": 4111111111111111}, {"n": "[CREDIT_CARD]"}),
        ({"n": 4111111111111111.0}, {"n": "[CREDIT_CARD]"}),
        ({"n": [1, 4111111111111111]}, {"n": [1, "[CREDIT_CARD]"]}),
        ({"ssn": 536221234}, {"ssn": "[US_SSN]"}),
        ({"customer_ssn": 536221234}, {"customer_ssn": "[US_SSN]"}),
        ({"max_tokens": 4096, "seed": 536221234}, {"max_tokens": 4096, "seed": 536221234}),
    ],
)
def test_numbers_holding_a_masked_value_become_their_masked_string(
    extra: dict[str, object], masked: dict[str, object]
) -> None:
    result = inspect(decide_with(MASKS_CARDS), chat({"role": "user", "content": "x"}, **extra))
    assert {k: result.body[k] for k in extra} == masked


@pytest.mark.parametrize(
    ("endpoint", "body", "param"),
    [
        (OPENAI_COMPLETIONS, {"model": "m", "prompt": [1, 2, 3]}, "prompt"),
        (OPENAI_COMPLETIONS, {"model": "m", "prompt": [[], [1, 2]]}, "prompt"),
        (OPENAI_EMBEDDINGS, {"model": "m", "input": [[], [[5]]]}, "input"),
        (OPENAI_EMBEDDINGS, {"model": "m", "input": [[1, 2, 3]]}, "input"),
        (OLLAMA_GENERATE, {"model": "m", "prompt": "hi", "context": [1, 2, 3]}, "context"),
        (OLLAMA_CHAT, {"model": "m", "messages": [], "context": [[], [9]]}, "context"),
        (
            OPENAI_CHAT,
            {"model": "m", "messages": [], "extra_body": {"prompt_token_ids": [1]}},
            "extra_body.prompt_token_ids",
        ),
    ],
)
def test_token_ids_in_any_nesting_are_refused_unless_allowed(
    endpoint: Endpoint, body: dict[str, object], param: str
) -> None:
    with pytest.raises(UnsupportedInput, match="token ids") as info:
        inspect(decide_with(MASKS_CARDS), body, endpoint)
    assert info.value.param == param
    allowed = Inspector(
        scan=SCANNER.scan,
        classify=classify,
        decide=decide_with(MASKS_CARDS)._decide,
        hash_key=b"k",
        allow_token_ids=True,
    )
    assert inspect(allowed, body, endpoint).body == body


def test_only_real_images_pass_unread() -> None:
    real = data_url("png", png())
    fake = f"data:image/png;base64,{CARD}"
    body = chat({"role": "user", "content": [{"type": "image_url", "image_url": {"url": u}} for u in (real, fake)]})
    parts = inspect(decide_with(MASKS_CARDS), body).body["messages"][0]["content"]
    assert [p["image_url"]["url"] for p in parts] == [real, "data:image/png;base64,[CREDIT_CARD]"]


@pytest.mark.parametrize(
    ("endpoint", "body", "texts"),
    [
        (
            OPENAI_CHAT,
            chat({"role": "user", "content": "card 4111 1111"}, {"role": "user", "content": "1111 1111 ok"}),
            lambda b: [m["content"] for m in b["messages"]],
        ),
        (
            OPENAI_CHAT,
            chat(
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "card 4111 1111"}, {"type": "text", "text": "1111 1111 ok"}],
                }
            ),
            lambda b: [p["text"] for p in b["messages"][0]["content"]],
        ),
        (OPENAI_COMPLETIONS, {"model": "m", "prompt": ["card 4111 1111", "1111 1111 ok"]}, lambda b: b["prompt"]),
        (OPENAI_EMBEDDINGS, {"model": "m", "input": ["card 4111 1111", "1111 1111 ok"]}, lambda b: b["input"]),
        (
            OPENAI_RESPONSES,
            {"model": "m", "instructions": "card 4111 1111", "input": "1111 1111 ok"},
            lambda b: [b["instructions"], b["input"]],
        ),
        (
            OLLAMA_GENERATE,
            {"model": "m", "system": "card 4111 1111", "prompt": "1111 1111 ok"},
            lambda b: [b["system"], b["prompt"]],
        ),
        (OLLAMA_EMBED, {"model": "m", "input": ["card 4111 1111", "1111 1111 ok"]}, lambda b: b["input"]),
    ],
)
def test_a_value_split_across_adjacent_texts_is_masked_in_both(
    endpoint: Endpoint, body: dict[str, object], texts: Callable[[Any], list[str]]
) -> None:
    result = inspect(decide_with(MASKS_CARDS), body, endpoint)
    assert texts(result.body) == ["card [CREDIT_CARD]", "[CREDIT_CARD] ok"]
    assert result.decision.counts == {"CREDIT_CARD": 1}


def hold_with(plan: MaskPlan) -> Inspector:
    def decide(facts: DecisionInput) -> Decision:
        return Decision("require_approval", "r1", ("approval_required",), facts.level, plan, facts.counts)

    return Inspector(scan=SCANNER.scan, classify=classify, decide=decide, hash_key=b"k", types=TYPES)


def test_when_a_request_is_held_for_approval_then_nothing_is_masked_until_it_is_released_under_its_plan() -> None:
    inspector = hold_with(MaskPlan({"US_SSN": "redact"}))
    body = {"model": "m", "messages": [{"role": "user", "content": "card 4111 1111 1111 1111, ssn 123-45-6789"}]}

    held = inspect(inspector, body)
    released = inspector.release(held)

    assert held.body is body and held.masked == {}
    assert released.body["messages"][0]["content"] == "card 4111 1111 1111 1111, ssn [US_SSN]"
    assert released.masked == {"US_SSN": 1}


def test_when_a_held_request_is_previewed_then_every_finding_is_redacted_whatever_its_plan() -> None:
    inspector = hold_with(MaskPlan())
    body = {"model": "m", "messages": [{"role": "user", "content": "card 4111 1111 1111 1111, ssn 123-45-6789"}]}

    preview = inspector.preview(inspect(inspector, body))

    assert preview["messages"][0]["content"] == "card [CREDIT_CARD], ssn [US_SSN]"
    assert inspector.redact("mail jane.doe@acme-corp.io") == "mail [EMAIL_ADDRESS]"


def test_when_a_held_request_carries_an_image_then_its_preview_shows_a_marker_and_the_release_the_image() -> None:
    inspector = hold_with(MaskPlan())
    image = data_url("png", png())
    content = [{"type": "text", "text": "card 4111 1111 1111 1111"}, {"type": "image_url", "image_url": {"url": image}}]
    held = inspect(inspector, {"model": "m", "messages": [{"role": "user", "content": content}]})

    preview = inspector.preview(held)["messages"][0]["content"]
    released = inspector.release(held).body["messages"][0]["content"]

    assert preview[0]["text"] == "card [CREDIT_CARD]"
    assert preview[1]["image_url"]["url"].startswith("[image: ")
    assert released[1]["image_url"]["url"] == image


def test_when_a_held_request_has_a_finding_in_a_key_then_its_preview_is_refused() -> None:
    inspector = hold_with(MaskPlan())
    held = inspect(inspector, {"model": "m", "messages": [{"role": "user", "content": "x"}], "metadata": {CARD_KEY: 1}})

    with pytest.raises(InvalidRequest, match="object key"):
        inspector.preview(held)


def test_when_a_request_was_not_held_then_it_cannot_be_released() -> None:
    inspector = decide_with(MaskPlan())

    with pytest.raises(ValueError, match="held for approval"):
        inspector.release(inspect(inspector, {"model": "m", "messages": [{"role": "user", "content": "x"}]}))
    with pytest.raises(ValueError, match="held for approval"):
        inspector.released_as(inspect(inspector, {"model": "m", "messages": [{"role": "user", "content": "x"}]}))


def test_when_a_held_request_is_described_then_released_as_says_what_its_release_sends_unmasked() -> None:
    inspector = hold_with(MaskPlan({"US_SSN": "redact"}))
    body = {"model": "m", "messages": [{"role": "user", "content": "card 4111 1111 1111 1111, ssn 123-45-6789"}]}
    held = inspect(inspector, body)

    released_as = inspector.released_as(held)
    released = inspector.release(held)

    assert released_as == {"CREDIT_CARD": "unmasked", "US_SSN": "redact"}
    # what it says is what the release does: the unmasked type's value goes as is, the other is masked
    text = released.body["messages"][0]["content"]
    assert "4111 1111 1111 1111" in text and "123-45-6789" not in text


EMAIL = "jane.roe@corp-mail.io"


def test_when_a_request_is_masked_then_the_positions_point_at_each_finding_in_the_forwarded_text() -> None:
    inspector = decide_with(MaskPlan({"EMAIL_ADDRESS": "placeholder"}))
    content = f"mail {EMAIL} and card {CARD_KEY}, again {EMAIL}"
    result = inspect(inspector, {"model": "m", "messages": [{"role": "user", "content": content}]})

    forwarded = result.body["messages"][0]["content"]
    assert forwarded == f"mail <EMAIL_ADDRESS_1> and card {CARD_KEY}, again <EMAIL_ADDRESS_1>"
    assert [(p.type, p.path) for p in result.positions] == [
        ("EMAIL_ADDRESS", ("messages", 0, "content")),
        ("CREDIT_CARD", ("messages", 0, "content")),
        ("EMAIL_ADDRESS", ("messages", 0, "content")),
    ]
    assert [forwarded[p.start : p.end] for p in result.positions] == [
        "<EMAIL_ADDRESS_1>",
        CARD_KEY,
        "<EMAIL_ADDRESS_1>",
    ]


def test_when_nothing_is_masked_then_the_positions_are_where_the_findings_were_found() -> None:
    result = inspect(decide_with(MaskPlan()), {"model": "m", "input": ["x", f"to {EMAIL}"]}, OPENAI_EMBEDDINGS)
    assert [(p.type, p.path, p.start, p.end) for p in result.positions] == [
        ("EMAIL_ADDRESS", ("input", 1), 3, 3 + len(EMAIL))
    ]


def test_when_a_key_holds_a_finding_then_its_position_names_the_key_without_its_value() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "notes": {CARD_KEY: "y"}}
    result = inspect(decide_with(MaskPlan({"US_SSN": "redact"})), body)
    assert [(p.type, p.path, p.start, p.end) for p in result.positions] == [
        ("CREDIT_CARD", ("notes", "<key>"), 0, len(CARD_KEY))
    ]
    assert "4111" not in repr(result.positions)


def test_when_a_request_is_refused_or_held_then_the_positions_are_in_the_request_as_received() -> None:
    def block(facts: DecisionInput) -> Decision:
        return Decision("block", "r1", ("restricted_type",), facts.level, MaskPlan({"US_SSN": "redact"}), facts.counts)

    body = {"model": "m", "prompt": "ssn 123-45-6789"}
    refused = inspect(
        Inspector(scan=SCANNER.scan, classify=classify, decide=block, hash_key=b"k"), body, OPENAI_COMPLETIONS
    )
    held_by = hold_with(MaskPlan({"US_SSN": "redact"}))
    held = inspect(held_by, body, OPENAI_COMPLETIONS)
    released = held_by.release(held)

    assert [(p.path, p.start, p.end) for p in refused.positions] == [(("prompt",), 4, 15)]
    assert held.positions == refused.positions
    assert released.body["prompt"] == "ssn [US_SSN]"
    assert [(p.path, p.start, p.end) for p in released.positions] == [(("prompt",), 4, 12)]


def test_when_a_request_holds_more_findings_than_are_kept_then_the_first_are() -> None:
    body = {"model": "m", "input": [f"{i} {EMAIL}" for i in range(MAX_POSITIONS + 5)]}
    result = inspect(decide_with(MaskPlan()), body, OPENAI_EMBEDDINGS)
    assert len(result.positions) == MAX_POSITIONS and result.positions[0].path == ("input", 0)


def test_when_a_document_is_redacted_then_every_string_key_and_number_holding_a_value_is() -> None:
    inspector = decide_with(MaskPlan())
    document = {
        "messages": [{"role": "user", "content": f"mail {EMAIL} <EMAIL_ADDRESS_1>"}],
        EMAIL: 1,
        "n": 4111111111111111,
        "ssn": 536221234,
        "max_tokens": 4096,
        "ok": True,
        "none": None,
    }
    assert inspector.redact_document(document) == {
        "messages": [{"role": "user", "content": "mail [EMAIL_ADDRESS] <EMAIL_ADDRESS_1>"}],
        "[EMAIL_ADDRESS]": 1,
        "n": "[CREDIT_CARD]",
        "ssn": "[US_SSN]",
        "max_tokens": 4096,
        "ok": True,
        "none": None,
    }


def test_when_an_answer_is_redacted_then_its_values_go_its_placeholders_stay_and_its_logprobs_are_dropped() -> None:
    inspector = decide_with(MaskPlan({"EMAIL_ADDRESS": "placeholder"}, restore=True))
    answer = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"<EMAIL_ADDRESS_1> paid with {CARD_KEY}"},
                "logprobs": {"content": [{"token": "4111", "logprob": -0.1}]},
            }
        ]
    }
    redacted = inspector.redact_answer(answer)
    assert redacted["choices"][0]["message"]["content"] == "<EMAIL_ADDRESS_1> paid with [CREDIT_CARD]"
    assert "4111" not in str(redacted)
