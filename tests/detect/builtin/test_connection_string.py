from __future__ import annotations

import pytest

from clearance.detect.builtin.connection_string import ConnectionStringDetector
from tests.detect.helpers import found, values

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://deploy:Zx9kq2Wm7p@git.corp.net/grp/app.git", "deploy:Zx9kq2Wm7p"),
        ("git clone https://oauth2:glpat-aB3dE5fG7hJ9kL1mN3pQ@gitlab.com/x.git", "oauth2:glpat-aB3dE5fG7hJ9kL1mN3pQ"),
        ("wss://bot:S3cr3tT0k3nValue@chat.corp.net/socket", "bot:S3cr3tT0k3nValue"),
    ],
)
def test_when_a_web_url_carries_credentials_then_only_the_user_information_is_found(text: str, expected: str) -> None:
    assert values(DETECTOR, text) == [expected]


@pytest.mark.parametrize(
    "token",
    ["aB3dE5fG7hJ9kL1mN3pQ5rS7tU9v", "x7Kq2mPz9LwR4tYb8NcV6dHs", "4f9a1c7e2b8d3f6a0e5c9b7d1a3f8e2c"],
)
def test_when_a_url_holds_a_token_as_its_user_then_it_is_an_api_key(token: str) -> None:
    found_ = found(DETECTOR, f"remote https://{token}@bitbucket.org/team/repo.git")
    assert [(f.type, f.end - f.start) for f in found_] == [("API_KEY", len(token))]


@pytest.mark.parametrize(
    "text",
    ["https://john.smith@corp.net/profile", "ssh://git@github.com/org/repo", "https://deploy-bot-account@ci.io/x"],
)
def test_when_a_url_user_is_a_name_then_it_is_not_a_credential(text: str) -> None:
    assert values(DETECTOR, text) == []
