from __future__ import annotations

import pytest

from clearance.detect.scanner import Scanner
from clearance.detect.sql_labels import insert_column


def _label(text: str, value: str) -> str:
    lower = text.lower()
    start = lower.index(value.lower())
    return insert_column(text, lower, start, start + len(value))


SINGLE = (
    "INSERT INTO accounts (id, card_number, routing_number, account_number) VALUES "
    "('7129fade-4307-48d7-bfae-31319866e81e', '6585000473351807675', '011976408', '83160433160483915');"
)
MULTI = (
    "insert into `billing`.`payees` (`payee_name`, `AcctNo`, `aba`) values\n"
    "  ('Smith, J. (Jr)', '4576812205', '327378677'),\n"
    "  ('O''Brien', 9896719732619, '078606782');\n"
)


@pytest.mark.parametrize(
    ("text", "value", "label"),
    [
        (SINGLE, "011976408", "routing number"),
        (SINGLE, "83160433160483915", "account number"),
        (SINGLE, "6585000473351807675", "card number"),
        (MULTI, "4576812205", "acct no"),
        (MULTI, "327378677", "aba"),
        (MULTI, "9896719732619", "acct no"),  # second row, unquoted, after a doubled quote
        (MULTI, "078606782", "aba"),
        ("INSERT INTO [dbo].[People] ([SSN], [Name]) VALUES (N'123456789', NULL)", "123456789", "ssn"),
        ("INSERT IGNORE INTO t (a, inserted_at, ssn) VALUES (1, NOW(), '078051120')", "078051120", "ssn"),
    ],
)
def test_when_a_value_is_in_an_insert_tuple_then_its_column_is_its_label(text: str, value: str, label: str) -> None:
    assert _label(text, value) == label


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("INSERT INTO t VALUES ('011976408', 'x')", "011976408"),  # no column list
        ("SELECT * FROM t WHERE values_id IN ('011976408')", "011976408"),
        ("the values (routing 011976408) look fine", "011976408"),
        ("INSERT INTO t (a, b) VALUES (1, 2); then 011976408 in prose", "011976408"),
        ("INSERT INTO t (a) VALUES ('x', '011976408')", "011976408"),  # more values than columns
    ],
)
def test_when_a_value_is_not_in_an_insert_tuple_then_it_has_no_sql_label(text: str, value: str) -> None:
    assert _label(text, value) == ""


def test_when_an_insert_names_its_columns_then_the_scanner_reads_them_as_context() -> None:
    found = {(f.type, SINGLE[f.start : f.end]) for f in Scanner().scan(SINGLE)}
    assert ("ABA_ROUTING_NUMBER", "011976408") in found
    assert ("US_BANK_NUMBER", "83160433160483915") in found
