from __future__ import annotations

import pytest

from clearance.detect.builtin.connection_string import ConnectionStringDetector
from tests.detect.helpers import values

DETECTOR = ConnectionStringDetector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DATABASE_URL=postgres://app:s3cr3tPw@db.internal:5432/prod", "postgres://app:s3cr3tPw@db.internal:5432"),
        ("mongodb+srv://ops:Xk9%40pq@cluster0.mongo.net/test", "mongodb+srv://ops:Xk9%40pq@cluster0.mongo.net"),
        ("redis://:hunter2Z@cache:6379", "redis://:hunter2Z@cache:6379"),
        ("Server=db1;Database=x;User Id=app;Password=Zx9!kq2;", "Server=db1;Database=x;User Id=app;Password=Zx9!kq2"),
    ],
)
def test_when_a_connection_string_carries_a_password_then_it_is_found(text: str, expected: str) -> None:
    assert values(DETECTOR, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "postgres://user:password@localhost/db",
        "postgres://app:${DB_PASSWORD}@db/prod",
        "https://example.org/path?x=1",
        "mysql://root@localhost/db",
        "Server=db1;Password=<your password>;",
    ],
)
def test_when_the_password_is_a_placeholder_or_absent_then_nothing_is_found(text: str) -> None:
    assert values(DETECTOR, text) == []
