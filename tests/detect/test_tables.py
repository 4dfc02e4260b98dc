from __future__ import annotations

import pytest

from clearance import Scanner
from clearance.detect.tables import Tables

VALUE = "12345678"
ROWS = "".join(f"{i},Name {i},{10 + i}.50\n" for i in range(400))


def _label(text: str, value: str = VALUE) -> str:
    start = text.index(value)
    return Tables(text).label(start, start + len(value))


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # delimited tables, with and without quotes
        ("id,acct_no,amount\n1,12345678,10.00\n", "acct no"),
        ("id\tAccount Number\tamount\n1\t12345678\t10.00\n", "account number"),
        ("id;AccountNumber;amount\n1;12345678;10,00\n", "account number"),
        ("id|bank-account-number|amount\n1|12345678|10.00\n", "bank account number"),
        ('name,"Account, Number",city\n"Smith, John","12345678",NY\n', "account number"),
        ('note,acct\n"first line\nsecond, line",12345678\n', "acct"),
        ('note,"say ""acct""",x\n"a ""quoted"", cell",12345678,y\n', "say acct"),
        ("id,acct_no\r\n1,12345678\r\n", "acct no"),
        # Markdown, ASCII (MySQL) and psql tables
        ("| Name | Account # |\n|------|:---------:|\n| Bob  | 12345678  |\n", "account #"),
        ("+----+------------+\n| id | SSN        |\n+----+------------+\n| 1  | 12345678   |\n+----+------------+\n",
         "ssn"),
        (" id | routing_no \n----+------------\n  1 | 12345678\n(1 row)\n", "routing no"),
        # the header hundreds of rows above
        (f"id,name,acct\n{ROWS}9,Bob,12345678\n", "acct"),
        # ragged rows: fewer cells, a trailing delimiter
        ("acct,name,city\n12345678,Bob\n1,Al,NY\n", "acct"),
        ("name,acct\nBob,12345678,\nAl,1\n", "acct"),
        # a second table in the same block, of another width, with its own header
        ("a,b\n1,2\nname,ssn,city\nBob,12345678,NY\nAl,1,LA\n", "ssn"),
    ],
)  # fmt: skip
def test_when_a_value_is_in_a_labelled_column_then_its_header_is_its_label(text: str, label: str) -> None:
    assert _label(text) == label


@pytest.mark.parametrize(
    "text",
    [
        "12345678,Bob,NY\n87654321,Al,LA\n",  # the first row is data: no header
        "acct,name\n1,Bob,x\n12345678,Al\n",  # the row after the header is not of its width
        "name,acct\nBob,Smith,12345678\nAl,1\n",  # more cells than the header, not empty: shifted
        "acct_no,name\n1,Bob\n\n12345678,Al\n2,Cy\n",  # a blank line ends the table
        "my acct, as said, is 12345678\n",  # prose, one line
        "Please pay acct 12345678 today.\n",  # no delimiter at all
        "acct,name\n" + "1," + "x" * 5000 + "12345678\n",  # a line too long to be a row
        "acct,name\n1,12345678" + "x" * 5000,
        "total: 12345678 acct,name\n",
    ],
)
def test_when_a_value_is_not_in_a_labelled_column_then_it_has_no_label(text: str) -> None:
    assert _label(text) == ""


def test_when_a_value_spans_cells_then_it_has_no_label() -> None:
    assert _label("name,acct\nBob,1234,5678\nAl,1\n", "1234,5678") == ""


def test_when_two_tables_are_in_one_text_then_each_uses_its_own_header() -> None:
    text = "name,ssn\nBob,111111111\n\nSome prose.\n\nname,acct\nAl,12345678\n"
    assert _label(text, "111111111") == "ssn" and _label(text) == "acct"


@pytest.mark.parametrize(
    ("header", "label"),
    [("order_id", "order id"), ("created_at", "created at"), ("Invoice #", "invoice #"), ("customer", "customer")],
)
def test_every_header_spelling_is_read_in_words(header: str, label: str) -> None:
    assert _label(f"{header},other\n12345678,x\n") == label


SCANNER = Scanner()


def _found(text: str) -> list[tuple[str, str]]:
    """What the scanner reports, names aside: the tables here have name columns, whose cells the person detector
    reports (``test_a_person_column_lifts_its_cells`` checks that through this mechanism)."""
    return [(text[f.start : f.end], f.type) for f in SCANNER.scan(text) if f.type != "PERSON"]


@pytest.mark.parametrize(
    ("header", "found"),
    [("Customer Name", True), ("contact", True), ("Product", False), ("city", False)],
)
def test_a_person_column_lifts_its_cells(header: str, found: bool) -> None:
    text = f"id,{header},amount\n1,Wei Zhang,10.00\n2,Ana Souza,11.00\n"
    names = [text[f.start : f.end] for f in SCANNER.scan(text) if f.type == "PERSON"]
    assert names == (["Wei Zhang", "Ana Souza"] if found else [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,acct_no,amount\n1,12345678,10.00\n2,87654321,11.00\n",
         [("12345678", "US_BANK_NUMBER"), ("87654321", "US_BANK_NUMBER")]),
        ("name\tSOCIAL_SECURITY_NO\tcity\nBob\t123456789\tNY\n", [("123456789", "US_SSN")]),
        ("name;phoneNumber\nBob;4155552671\n", [("4155552671", "PHONE_NUMBER")]),
        ("| Customer | Account # |\n|---|---|\n| Bob | 12345678901 |\n", [("12345678901", "US_BANK_NUMBER")]),
        (" id | routing_no \n----+------------\n  1 | 021000021\n(1 row)\n", [("021000021", "ABA_ROUTING_NUMBER")]),
        (f"id,name,ssn\n{ROWS}9,Bob,123456789\n", [("123456789", "US_SSN")]),
        ('[{"accountNumber": 12345678901}, {"accountNumber": "98765432101"}]',
         [("12345678901", "US_BANK_NUMBER"), ("98765432101", "US_BANK_NUMBER")]),
        ('{"rows": [\n  {"name": "Bob",\n   "socialSecurityNo": "123456789"}\n]}', [("123456789", "US_SSN")]),
        ("ts=2024-01-01T00:00:00Z level=info accountNo=12345678 msg=ok", [("12345678", "US_BANK_NUMBER")]),
        ("Account Number:\n12345678901\n", [("12345678901", "US_BANK_NUMBER")]),
        # words that a header or a key says a number is not, in prose, are prose
        ("I updated my account number: 12345678901 today.", [("12345678901", "US_BANK_NUMBER")]),
        ("We had no time. My ABA is 021000021.", [("021000021", "ABA_ROUTING_NUMBER")]),
    ],
)  # fmt: skip
def test_when_a_column_or_key_names_a_value_then_the_scanner_reports_it(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order_id,created_at,invoice\n123456789,1700000000,12345678\n223456789,1700000123456,22345678\n",
        "account_created_at,account_updated_ts\n1700000000,1700000000123\n",
        "12345678,Bob,123456789\n87654321,Al,223456789\n",  # no header: no context
        "id,name,amount\n123456789,Bob,4155552671\n",
        '{"orderId": 123456789, "createdAt": 1700000000123}',
    ],
)
def test_when_a_column_or_key_names_something_else_then_weak_candidates_stay_unreported(text: str) -> None:
    assert _found(text) == []


def test_a_column_header_counts_in_a_normalised_text() -> None:
    # A zero-width space and full-width digits: offsets index the normalised text, the finding the original.
    text = "name,acct\u200b_no\nBob,\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\n"
    assert _found(text) == [("\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", "US_BANK_NUMBER")]
