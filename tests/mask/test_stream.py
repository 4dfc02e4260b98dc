"""The hold-back: release as soon as nothing can still be forming; hold only the shortest risky tail."""

from __future__ import annotations

import re

import pytest

from clearance.mask import stream
from clearance.mask.stream import HoldExceeded, StreamMasker, safe_cut


@pytest.mark.parametrize(
    ("pending", "released"),
    [
        ("hello world ", "hello world "),
        ("hello wor", "hello "),
        ("card 4111 1111 11", "card "),
        ("card 4111 1111 1111 1111 ", "card "),  # more digit groups may follow
        ("card 4111 1111 1111 1111 thanks", "card 4111 1111 1111 1111 "),
        ("my password = ", "my "),
        ("api_key: ", ""),
        ("see <EMAIL ADD", "see "),
        ("x -----BEGIN RSA PRIVATE KEY-----\nabc\n", "x "),
        (
            "x -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- ok",
            "x -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- ",
        ),
        ("IBAN DE89 3704 00", "IBAN "),
        ("phone (555) 123-", "phone "),
        ("see ghp_abc1 ", "see "),  # a digit run never starts inside a token
        ("", ""),
    ],
)
def test_when_pending_then_release_only_what_is_safe(pending: str, released: str) -> None:
    assert pending[: safe_cut(pending)] == released


def test_held_text_is_released_at_flush_and_through_the_transform() -> None:
    calls: list[tuple[str, str]] = []

    def transform(context: str, segment: str) -> str:
        calls.append((context, segment))
        return segment.upper()

    stream = StreamMasker(transform)
    assert stream.feed("account number ") == "ACCOUNT NUMBER "
    assert stream.feed("12345") == ""
    assert stream.held == 5
    assert stream.flush() == "12345"
    assert calls[-1] == ("account number ", "12345")  # the detector sees the words before the number


@pytest.mark.parametrize("tail", ["x" * 50, "4111 " * 10, "12 | 34 | " * 5])
def test_when_a_held_tail_outgrows_the_window_then_the_stream_fails_instead_of_releasing_it(tail: str) -> None:
    released: list[str] = []

    def record(_context: str, segment: str) -> str:
        released.append(segment)
        return segment

    stream = StreamMasker(record, max_hold=64)
    assert stream.feed("ok " + tail) == "ok "
    with pytest.raises(HoldExceeded) as raised:
        stream.feed(tail)
    assert released == ["ok "]  # nothing of the held run went out
    assert "4111" not in raised.value.message and "x" * 10 not in raised.value.message


@pytest.mark.parametrize(
    "pending",
    [
        "card 4111 1111 1111 1111.",
        "card **4111 1111 1111 1111**",
        "card <b>4111 1111 1111 1111</b>",
        'card "4111 1111 1111 1111"',
        "card (4111 1111 1111 1111)",
        "card 4111 1111 1111 1111** ",
        "card 4111\n1111\n1111\n1111",
        "card 4111 - 1111 - 1111 - 1111",
        "card 4111, 1111, 1111, 1111,",
        "iban gb82 west 1234 5698 7654 32",
        "iban GB82-WEST-1234-5698-7654-32",
    ],
)
@pytest.mark.parametrize("hold_words", [True, False])
def test_when_a_value_ends_in_punctuation_or_markup_then_no_group_of_it_is_released(
    pending: str, hold_words: bool
) -> None:
    assert pending[: safe_cut(pending, hold_words=hold_words)] in ("card ", "iban ")


@pytest.mark.parametrize(
    ("pending", "released"),
    [
        ("The", "The"),
        ("Hello, world", "Hello, world"),
        ("key gh", "key gh"),  # a public prefix at most: the rest is held as its continuation
        ("key ghp_4hT9", "key "),
        ("mail jane.doe", "mail "),
        ("pay GB82 WEST 12", "pay "),
        ("-----BEGIN RSA PRIV", ""),
        ("x -----", "x "),
        ("password: hunter", ""),
    ],
)
def test_when_only_structured_types_are_masked_then_plain_words_go_at_once(pending: str, released: str) -> None:
    assert pending[: safe_cut(pending, hold_words=False)] == released


def test_a_token_continuing_a_released_word_is_held_until_it_ends() -> None:
    seen: list[tuple[str, str]] = []

    def transform(context: str, segment: str) -> str:
        seen.append((context, segment))
        return segment

    stream = StreamMasker(transform, hold_words=False)
    assert stream.feed("see gh") == "see gh"
    assert stream.feed("p_4hT9") == ""  # continues "gh": not released on its own
    assert stream.feed("kLm2 done") == "p_4hT9kLm2 "
    assert seen[-1] == ("see gh", "p_4hT9kLm2 ")  # scanned with the released start as context
    assert stream.flush() == "done"


@pytest.mark.parametrize("before", ["key", "the token for prod:", "Passwort", "mot de passe :", "senha"])
def test_after_a_credential_word_no_word_goes_out_before_its_end(before: str) -> None:
    stream = StreamMasker(lambda _c, s: s, hold_words=False)
    assert stream.feed(f"{before} gh") == f"{before} "  # "gh" may start the value the word introduces
    assert stream.feed("p_4hT9kLm2 ok") == "ghp_4hT9kLm2 "


def test_only_the_first_piece_of_a_word_goes_out_early() -> None:
    stream = StreamMasker(lambda _c, s: s, hold_words=False)
    assert stream.feed("say hel") == "say hel"
    assert stream.feed("lo") == ""  # letters, but they continue a word: they wait for its end
    assert stream.feed("7x") == ""
    assert stream.feed(" ok") == "lo7x "


@pytest.mark.parametrize("word", ["AKIA", "GB", "SG", "eyJ", "AIza"])
def test_a_first_piece_not_cased_like_prose_waits_as_it_may_start_a_value(word: str) -> None:
    stream = StreamMasker(lambda _c, s: s, hold_words=False)
    assert stream.feed(f"id {word}") == "id "
    assert stream.feed("IOSFODNN7EXAMPLE ok") == f"{word}IOSFODNN7EXAMPLE ok"


@pytest.mark.parametrize("tail", ["DE" + "8" * 3000 + ".", "gb82 " + "ab12" * 2000 + "!", "AB12" + "-x" * 3000 + "!"])
def test_a_long_tail_shaped_like_an_iban_is_judged_in_linear_time(tail: str) -> None:
    # no timing: a pattern that backtracked over every way to group the run would not finish at all
    assert safe_cut("ok " + tail) == 3


@pytest.mark.parametrize("hold_words", [True, False])
@pytest.mark.parametrize(
    "words",
    [
        "four one one one one one one one one one one one one one one one",
        "vier eins eins eins eins eins eins eins eins eins eins eins eins eins eins eins",
        "four-one-one-one one-one-one-one one one one one one one one one",
        "4111 one one one one one one one one one one one one",
    ],
)
def test_a_run_of_spelled_out_digits_is_held_whole_like_a_run_of_digits(words: str, hold_words: bool) -> None:
    segments: list[str] = []

    def transform(_context: str, segment: str) -> str:
        segments.append(segment)
        return segment

    stream = StreamMasker(transform, hold_words=hold_words)
    released = [stream.feed(w) for w in ("card ", *(w + " " for w in words.split()), "thanks")]
    released.append(stream.flush())
    assert "".join(released) == f"card {words} thanks"
    # the run goes out as one segment, so detection reads it whole
    assert any(words in segment for segment in segments)


def test_a_lone_digit_word_in_prose_goes_out_with_the_next_word() -> None:
    stream = StreamMasker(lambda _c, s: s, hold_words=False)
    assert stream.feed("take one") == "take "
    assert stream.feed(" step") == "one step"


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("Sure, here is the key for prod: x7Kq2mPz9LwR4tYb8NcV6dHs and that is all.", "x7Kq2mPz9LwR4tYb8NcV6dHs"),
        ("Das Kennwort lautet Blau-Wal-77, bitte nicht teilen.", "Blau-Wal-77"),
        ("Use DATABASE_URL=postgres://app:S3cr3t!x@db:5432/app in the env file.", "S3cr3t!x"),
    ],
)
@pytest.mark.parametrize("chunk", [1, 3, 7, 16])
def test_when_a_credential_a_word_introduces_is_streamed_then_it_is_masked_whatever_the_chunks(
    answer: str, value: str, chunk: int
) -> None:
    from clearance.detect.scanner import Scanner
    from clearance.mask.masker import Masker
    from clearance.models import MaskPlan

    masker = Masker(MaskPlan({"PASSWORD": "redact", "API_KEY": "redact"}), Scanner().scan, b"k")
    stream = StreamMasker(lambda context, segment: masker.outgoing(segment, context), hold_words=False)
    out = "".join(stream.feed(answer[i : i + chunk]) for i in range(0, len(answer), chunk)) + stream.flush()
    assert value not in out
    assert out.replace("[PASSWORD]", value).replace("[API_KEY]", value) == answer


def test_when_credential_words_are_searched_then_the_start_test_admits_every_character_a_word_can_start_with() -> None:
    """The keyword search lets the alternation try only where a word's first letter is: under (?i) a letter matches
    more than its two cases (KELVIN SIGN is a k, LONG S an s), so every character of the BMP is held to it (outside
    it, no character folds to an ASCII letter)."""
    starts = {word[0] for word in stream._KEYWORD_WORDS}
    assert stream._KEYWORD.pattern.startswith(f"(?i)(?=[{stream._KEYWORD_STARTS}])")
    quick = re.compile(f"(?i)[{stream._KEYWORD_STARTS}]")
    letters = [re.compile(f"(?i){letter}") for letter in sorted(starts)]
    for code in range(0x10000):
        char = chr(code)
        assert (quick.fullmatch(char) is not None) == any(p.fullmatch(char) for p in letters), hex(code)


@pytest.mark.parametrize(
    "text",
    [
        "The quarterly figures look consistent with last year's. ",
        "my Password is",
        "the \u212aEY for prod",  # KELVIN SIGN K
        "\u017fecret handshake",  # LONG S
        "SCHLÜSSEL und Schluessel",
        "la clé, la CLEF, la clave",
        "a pw here",
        "a pwx here",
        "jeton senha chave chiave wachtwoord sleutel mdp contrase cred token",
        "nothing to see, just prose about revenue and margins",
    ],
)
def test_when_a_text_is_searched_for_a_credential_word_then_it_is_found_where_the_plain_alternation_finds_it(
    text: str,
) -> None:
    plain = re.compile("(?i)" + "|".join(stream._KEYWORD_WORDS))
    for pos in range(len(text) + 1):
        found, expected = stream._KEYWORD.search(text, pos), plain.search(text, pos)
        assert (found and found.span()) == (expected and expected.span())
