"""The placeholder vault: consistent within a request, restores only what it issued."""

from __future__ import annotations

import pytest

from clearance.mask.vault import PlaceholderVault


def test_same_value_same_placeholder_and_numbering_per_type() -> None:
    vault = PlaceholderVault()
    a = vault.placeholder("a@example.com", "EMAIL_ADDRESS")
    b = vault.placeholder("b@example.com", "EMAIL_ADDRESS")
    assert (a, b) == ("<EMAIL_ADDRESS_1>", "<EMAIL_ADDRESS_2>")
    assert vault.placeholder("a@example.com", "EMAIL_ADDRESS") == a
    assert vault.placeholder("+1 415 555 0100", "PHONE_NUMBER") == "<PHONE_NUMBER_1>"


@pytest.mark.parametrize(
    "written",
    [
        "<EMAIL_ADDRESS_1>",
        "[EMAIL_ADDRESS_1]",
        "EMAIL_ADDRESS_1",
        "<email_address_1>",
        "<EMAIL ADDRESS 1>",
        "<Email-Address 1>",
    ],
)
def test_when_model_reformats_placeholder_then_still_restored(written: str) -> None:
    vault = PlaceholderVault()
    vault.placeholder("a@example.com", "EMAIL_ADDRESS")
    assert vault.restore(f"Write to {written} today.") == "Write to a@example.com today."


@pytest.mark.parametrize(
    "text",
    ["<EMAIL_ADDRESS_2>", "<PHONE_NUMBER_1>", "<EMAIL_ADDRESS_10>", "XEMAIL_ADDRESS_1", "<CREDIT_CARD_1>"],
)
def test_unknown_placeholders_are_never_invented(text: str) -> None:
    vault = PlaceholderVault()
    vault.placeholder("a@example.com", "EMAIL_ADDRESS")
    assert vault.restore(text) == text


def test_empty_vault_restores_nothing() -> None:
    assert PlaceholderVault().restore("<EMAIL_ADDRESS_1>") == "<EMAIL_ADDRESS_1>"
