"""Decoded views: values behind entities, percent-encoding, escapes, base64, data URLs and number words are found,
with a span that covers the encoded form, and masking that span leaves no decodable trace."""

from __future__ import annotations

import base64
import itertools
import random
import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clearance.detect.decoded import (
    BASE64,
    DECODER_TRIGGERS,
    MAX_DEPTH,
    PERCENT,
    DecodedView,
    Piece,
    base64_runs,
    base64_text,
    decoded_views,
    find_pieces,
)
from clearance.detect.scanner import Scanner
from tests.detect.encodings import (
    ENCODERS,
    NUMERIC_ENCODERS,
    VALUES,
    decode_everything,
    luhn_card,
    mask,
    ssn,
)

SCANNER = Scanner()
GITHUB = VALUES["github"][2]
FAMILIES = tuple(DECODER_TRIGGERS)
WORDS = ("please", "check", "the", "record", "below", "thanks", "ref", "note", "from", "our", "team")


def _covering(text: str, start: int, end: int, type_: str) -> bool:
    return any(f.type == type_ and f.start <= start and f.end >= end for f in SCANNER.scan(text))


@pytest.mark.parametrize(
    ("kind", "encoding"),
    [
        (kind, encoding)
        for kind in sorted(VALUES)
        for encoding in sorted(ENCODERS)
        if encoding not in NUMERIC_ENCODERS or VALUES[kind][2].replace("-", "").isdigit()  # words spell digits
    ],
)
def test_when_a_value_is_encoded_then_the_finding_covers_the_encoded_form(kind: str, encoding: str) -> None:
    type_, label, value = VALUES[kind]
    encoded = ENCODERS[encoding](value)
    text = f"{label} {encoded} thanks"
    start = len(label) + 1 + (encoded.index(",") + 1 if encoded.startswith("data:") else 0)  # the payload
    assert _covering(text, start, len(label) + 1 + len(encoded), type_)
    assert value.lower() not in decode_everything(mask(text, SCANNER.scan(text))).lower()


@pytest.mark.parametrize(
    ("text", "type_", "value"),
    [
        ("4111111111111111@gmail.com", "CREDIT_CARD", "4111111111111111"),
        ("write to me+4111111111111111@x.io", "CREDIT_CARD", "4111111111111111"),
        ("mail 123-45-6789@corp.io please", "US_SSN", "123-45-6789"),
        (f"{GITHUB}@corp.io", "GITHUB_TOKEN", GITHUB),
        ("https://aB3dE5fG7hJ9kL1mN3pQ5rS7tU9v@bitbucket.org/o/r.git", "API_KEY", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9v"),
        ("https://x.io/cards/%34%31%31%31%31%31%31%31%31%31%31%31%31%31%31%31/", "CREDIT_CARD", ""),
        ("https://x.io/pay?card=4111+1111+1111+1111&ok=1", "CREDIT_CARD", ""),
    ],
)
def test_when_a_value_hides_in_an_address_then_it_is_reported_as_itself(text: str, type_: str, value: str) -> None:
    findings = SCANNER.scan(text)
    assert type_ in {f.type for f in findings}
    if value:
        assert any(f.type == type_ and text[f.start : f.end] == value for f in findings)
    assert "4111111111111111" not in decode_everything(mask(text, findings))


def test_when_a_url_carries_credentials_then_the_masked_url_keeps_its_host_and_path() -> None:
    text = "git clone https://oauth2:glpat-aB3dE5fG7hJ9kL1mN3pQ@gitlab.com/grp/x.git"
    masked = mask(text, SCANNER.scan(text))
    assert masked == "git clone https://oauth2:<MASKED>@gitlab.com/grp/x.git"


def _random_value(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(("card", "ssn", "token", "aws"))
    if kind == "card":
        return "CREDIT_CARD", luhn_card(rng)
    if kind == "ssn":
        return "US_SSN", ssn(rng)
    if kind == "token":
        alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return "GITHUB_TOKEN", "ghp_" + "".join(rng.choice(alphabet) for _ in range(36))
    return "AWS_ACCESS_KEY", "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


_CHAINABLE = sorted(set(ENCODERS) - NUMERIC_ENCODERS - {"data_url"})


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.lists(st.sampled_from(_CHAINABLE), min_size=1, max_size=MAX_DEPTH))
def test_when_values_are_encoded_in_layers_then_masking_leaves_no_decodable_trace(
    rng: random.Random, chain: list[str]
) -> None:
    type_, value = _random_value(rng)
    encoded = f"{ {'US_SSN': 'ssn', 'CREDIT_CARD': 'card'}.get(type_, 'key') } {value}"
    assume(type_ in {f.type for f in SCANNER.scan(encoded)})  # a degenerate draw (a token of one letter) is no value
    for name in chain:
        encoded = ENCODERS[name](encoded)
    before = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4)))
    after = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4)))
    text = f"{before} {encoded} {after}"
    findings = SCANNER.scan(text)
    start = len(before) + 1
    assert any(f.start <= start + len(encoded) and f.end >= start for f in findings), chain
    assert value.lower() not in decode_everything(mask(text, findings)).lower(), chain


@pytest.mark.parametrize(
    "text",
    [
        "blob " + base64.b64encode(random.Random(7).randbytes(48)).decode(),
        "blob " + base64.urlsafe_b64encode(random.Random(8).randbytes(96)).decode().rstrip("="),
        "sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 sha256 "
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "id 123e4567-e89b-12d3-a456-426614174000 and f47ac10b-58cc-4372-a567-0e02b2c3d479",
        "see https://docs.python.org/3/library/urllib.parse.html?highlight=quote%20plus#url-quoting",
        "<p>Tom &amp; Jerry &lt;3 &copy; 2020&nbsp;caf&eacute; &#8212; &#x2014; &hellip;</p>",
        "I have one or two things to say, three at most, and one more: four of them are done.",
        "Version one two three of the plan, then five six.",
        'path "C:\\x41\\u0042" and \\n escapes \\t in code',
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
        "the identifiers ResolveOverlapsInCluster and someVeryLongCamelCaseIdentifier1234",
    ],
)
def test_when_text_merely_looks_encoded_then_nothing_is_found(text: str) -> None:
    assert SCANNER.scan(text) == []


def test_when_random_bytes_are_base64_then_they_are_not_text() -> None:
    rng = random.Random(11)
    decoded = [base64_text(base64.b64encode(rng.randbytes(rng.randint(12, 200))).decode()) for _ in range(500)]
    assert decoded.count(None) == 500


def test_when_a_view_maps_back_then_copied_text_maps_exactly_and_pieces_map_whole() -> None:
    text = "ab %34%31 cd"
    view = DecodedView(text, 0, len(text), [Piece(3, 6, "4"), Piece(6, 9, "1")])
    assert view.text == "ab 41 cd"
    assert view.source_span(3, 5) == (3, 9)
    assert view.source_span(4, 8) == (6, 12)
    assert view.source_span(6, 8) is None  # copied, away from any piece: found in the text itself
    assert view.source_span(5, 8) == (9, 12)  # copied, but right after a piece: what the piece set apart


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(
        st.sampled_from(
            [
                "%41",
                "&#52;",
                "\\u0031",
                "\\xc3\\xa9",
                "+",
                "one ",
                "two-",
                "x",
                " ",
                "QUJD",
                "=",
                "&amp;",
                "https://h/",
                "?",
                "/",
                "data:text/plain;base64,",
            ]
        ),
        max_size=80,
    )
)
def test_when_views_are_built_then_they_hold_no_more_characters_than_the_text(parts: list[str]) -> None:
    text = "".join(parts)
    views = decoded_views(text, FAMILIES)
    assert sum(len(v.text) for v in views) <= len(text)


def test_when_encodings_nest_deeper_than_the_limit_then_scanning_stays_bounded() -> None:
    value = "card 4111111111111111"
    encoded = value
    for _ in range(MAX_DEPTH):
        encoded = base64.b64encode(encoded.encode()).decode()
    assert [f.type for f in SCANNER.scan(encoded)] == ["CREDIT_CARD"]
    deeper = base64.b64encode(encoded.encode()).decode()
    assert SCANNER.scan(deeper) == []  # one level too deep: not unwrapped (documented bound)


def test_when_pieces_overlap_then_the_first_and_longest_wins() -> None:
    text = "x=%41%42 QUJDREVGR0hJSktMTU5PUA"
    pieces = find_pieces(text, (PERCENT, BASE64))
    spans = [(p.start, p.end) for p in pieces]
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_when_a_decoder_is_given_then_its_trigger_matches_what_it_finds() -> None:
    import re2

    samples: dict[str, Callable[[str], str]] = {name: ENCODERS[name] for name in ENCODERS}
    for name, encode in samples.items():
        text = encode("card 4111111111111111")
        pieces = find_pieces(text, FAMILIES)
        assert pieces, name
        assert any(re2.search(trigger, text) for trigger in DECODER_TRIGGERS.values()), name


_RUN = re.compile(rb"[A-Za-z0-9+/_\-]+")


def _runs_by_regex(ascii: bytes, start: int) -> list[tuple[int, int]]:
    out = []
    for match in _RUN.finditer(ascii, start):
        run = match.group().decode()
        lower = [i for i, c in enumerate(run) if c.islower()]
        mixed = bool(lower) and any(c.isupper() for c in run[lower[0] :])
        end = match.end()
        while end < len(ascii) and end - match.end() < 2 and ascii[end : end + 1] == b"=":
            end += 1
        if mixed and end - match.start() >= 12:
            out.append((match.start(), end))
    return out


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(st.binary(max_size=120).map(lambda b: bytes(b"aB3+/_- =.xYz\n"[c % 14] for c in b)), st.integers(0, 120))
def test_when_runs_are_probed_then_they_are_the_runs_a_full_pass_finds(ascii: bytes, start: int) -> None:
    start = min(start, len(ascii))
    assert base64_runs(ascii, start) == _runs_by_regex(ascii, start)


# Disguises a model reads back: invisible tag characters, look-alike letters in a token, hex bytes, character codes.
_CARD = "4111111111111111"
_READ_BACK = {
    "unicode tags": "".join(chr(0xE0000 + ord(c)) for c in f"card {_CARD}"),
    "cyrillic A in an AWS key id": "\u0410KIAZ7QJ3M5X2R6T4W6Y",
    "greek E in an IBAN": "GB82W\u0395ST12345698765432",
    "hex 0x bytes": " ".join(f"0x{b:02x}" for b in _CARD.encode()),
    "hex bare": _CARD.encode().hex(),
    "hex colons": ":".join(f"{b:02x}" for b in _CARD.encode()),
    "decimal codes": ", ".join(str(b) for b in _CARD.encode()),
    "base64 over lines": "\n".join(["dGhlIHZhbHVlIGlz", "IDQxMTExMTExMTEx", "MTExMTE="]),
    "digit groups in html tags": "4111</b><b>1111</b><b>1111</b><b>1111",
    "digit words glued": "four" + "one" * 14 + "one",
    "digit words glued in groups": "fourOneOneOne-oneoneoneone oneoneoneone-oneoneoneone",
}


@pytest.mark.parametrize("disguise", _READ_BACK, ids=list(_READ_BACK))
def test_when_a_value_is_disguised_as_a_model_reads_it_then_the_disguise_is_found_whole(disguise: str) -> None:
    carrier = _READ_BACK[disguise]
    text = f"keep this: {carrier} thanks"
    findings = SCANNER.scan(text)
    assert len(findings) == 1
    assert (findings[0].start, findings[0].end) == (text.index(carrier), text.index(carrier) + len(carrier))


@pytest.mark.parametrize(
    "text",
    [
        "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430? 4111 \u0440\u0443\u0431.",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "ages 34 31 31 31 31 31 31 31 31 in the table",
        "<p>order <b>12</b> of <i>2024</i>, ref <code>4111</code></p>",
        "someone told everyone about the onetwo step",
        "tag-wrapped emoji \U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    ],
    ids=[
        "russian prose",
        "a hash",
        "a table of small numbers",
        "numbers in markup",
        "words holding digit words",
        "a flag emoji's tags",
    ],
)
def test_when_text_only_looks_like_a_disguise_then_nothing_is_found(text: str) -> None:
    assert SCANNER.scan(text) == []


_GH = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
_AWS = "AKIAZ7QJ3M5X2R6T4W6Y"


@pytest.mark.parametrize(
    ("broken", "kind"),
    [
        (" ".join(_GH[i : i + 4] for i in range(0, len(_GH), 4)), "GITHUB_TOKEN"),
        (" ".join(_AWS[i : i + 4] for i in range(0, len(_AWS), 4)), "AWS_ACCESS_KEY"),
        (_GH[:20] + "\n" + _GH[20:], "GITHUB_TOKEN"),
        (_AWS[:10] + "\r\n  " + _AWS[10:], "AWS_ACCESS_KEY"),
    ],
)
def test_a_vendor_token_broken_by_whitespace_is_found_whole(broken: str, kind: str) -> None:
    text = f"keep this: {broken} thanks"
    found = [f for f in SCANNER.scan(text) if f.type == kind]
    assert [(f.start, f.end) for f in found] == [(11, 11 + len(broken))]


@pytest.mark.parametrize(
    "prose",
    [
        "ghp_ tokens are the classic kind of thing",
        "see ghp_abcd efgh ijkl mnop",
        "AKIA keys start like this one here ok",
        "sk- then some words 1 2 3",
    ],
)
def test_prose_after_a_token_prefix_is_not_joined(prose: str) -> None:
    assert SCANNER.scan(prose) == []
