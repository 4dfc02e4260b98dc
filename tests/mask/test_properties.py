"""Properties of masking, over generated texts with real values in them (real detection engine throughout)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.detect import Scanner
from clearance.mask.masker import Masker
from clearance.mask.stream import StreamMasker
from clearance.models import MaskPlan, OperatorName

SCANNER = Scanner.from_config(None)
VALUES = {
    "CREDIT_CARD": ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "2221000000000009"],
    "US_SSN": ["123-45-6789", "078-05-1121"],
    "EMAIL_ADDRESS": ["jane.doe@acme-corp.io", "ops+alerts@internal.globex.net"],
    "GITHUB_TOKEN": ["ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"],
}
ALL_VALUES = [v for vs in VALUES.values() for v in vs]
FILLER = st.text(alphabet=st.sampled_from(list("abcdefghij klmnop,.!?éß漢字🙂\n")), max_size=25)


@st.composite
def texts_with_values(draw: st.DrawFn) -> tuple[str, list[str]]:
    parts: list[str] = []
    values: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        value = draw(st.sampled_from(ALL_VALUES))
        parts += [draw(FILLER), " ", value, " "]
        values.append(value)
    parts.append(draw(FILLER))
    return "".join(parts), values


def masker(op: OperatorName, restore: bool = False) -> Masker:
    return Masker(MaskPlan({t: op for t in VALUES}, restore=restore), SCANNER.scan, b"k")


@settings(max_examples=60, deadline=None)
@given(texts_with_values())
def test_masking_then_restoring_gives_back_the_original(case: tuple[str, list[str]]) -> None:
    text, _ = case
    m = masker("placeholder", restore=True)
    masked = m.mask(text)
    assert m.vault.restore(masked) == text


@settings(max_examples=60, deadline=None)
@given(texts_with_values(), st.sampled_from(["redact", "partial", "hash", "placeholder"]))
def test_masked_text_never_contains_a_value_or_a_finding(case: tuple[str, list[str]], op: OperatorName) -> None:
    text, values = case
    masked = masker(op).mask(text)
    for value in values:
        assert value not in masked
    assert [f for f in SCANNER.scan(masked) if f.type in VALUES] == []


@settings(max_examples=60, deadline=None)
@given(texts_with_values())
def test_offsets_do_not_drift_with_multibyte_text(case: tuple[str, list[str]]) -> None:
    text, _ = case
    masked = masker("redact").mask(text)
    expected = text
    for entity, values in VALUES.items():
        for value in values:
            expected = expected.replace(value, f"[{entity}]")
    assert masked == expected


@settings(max_examples=60, deadline=None)
@given(texts_with_values(), st.lists(st.integers(min_value=1, max_value=200), max_size=12))
def test_a_stream_split_anywhere_masks_like_the_whole_text(case: tuple[str, list[str]], cuts: list[int]) -> None:
    text, values = case
    whole = masker("partial").outgoing(text)
    m = masker("partial")
    stream = StreamMasker(lambda context, segment: m.outgoing(segment, context))
    out, last = [], 0
    for cut in sorted({min(c, len(text)) for c in cuts}):
        out.append(stream.feed(text[last:cut]))
        last = cut
    out.append(stream.feed(text[last:]))
    out.append(stream.flush())
    streamed = "".join(out)
    assert streamed == whole
    for value in values:
        assert value not in streamed
