from __future__ import annotations

import pytest

from clearance.detect.labels import identifier_words, key_before


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("AccountNumber", "account number"),
        ("accountNumber", "account number"),
        ("acct_no", "acct no"),
        ("Account #", "account #"),
        ("acct#", "acct #"),
        ("bank-account-number", "bank account number"),
        ("SOCIAL_SECURITY_NO", "social security no"),
        ("SSNNumber", "ssn number"),
        ("Account No.", "account no"),
        ("customer.phone", "customer phone"),
        ("Customer Name", "customer name"),
        ("ssn", "ssn"),
        ("address2", "address2"),
        ("phone2Mobile", "phone2 mobile"),
        ("a/c", "a/c"),
        ('"routing_no"', "routing no"),
        ("", ""),
    ],
)
def test_when_an_identifier_is_split_then_its_words_are_what_people_read(name: str, words: str) -> None:
    assert identifier_words(name) == words


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"accountNumber": "12345678"}', "accountNumber"),
        ('{"accountNumber":12345678}', "accountNumber"),
        ("acctNo=12345678 level=info", "acctNo"),
        ("bank_account = 12345678", "bank_account"),
        ("routingNo: 12345678", "routingNo"),
        ("  - ssnValue: '12345678'", "ssnValue"),
        ("Account Number:\n12345678", "Number"),  # unquoted: one identifier (the window reads the rest)
        ('"Account Number": 12345678', "Account Number"),
        ("'acct no' = '12345678'", "acct no"),
        ('"acct":\n    "12345678"', "acct"),
        ("I updated my acctNo: 12345678", "acctNo"),  # the words before a key are prose
        ("no key here 12345678", ""),
        ("key:\n\n12345678", ""),  # two line breaks: the value is not the key's
        ("(ssn) 12345678", ""),
        ("12345678", ""),
    ],
)
def test_when_a_value_follows_a_key_then_the_key_is_found(text: str, key: str) -> None:
    assert key_before(text, text.index("12345678")) == key
