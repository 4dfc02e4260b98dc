from __future__ import annotations

import pytest

from clearance.detect.builtin.connection_string import ConnectionStringDetector
from clearance.detect.config import DetectionConfig
from clearance.detect.scanner import Scanner
from clearance.mask.masker import Masker
from clearance.mask.operators import redact
from clearance.models import MaskPlan
from tests.detect.helpers import found, values

DETECTOR = ConnectionStringDetector()
WHOLE = ConnectionStringDetector(whole_urls=True)


def _reported(detector: ConnectionStringDetector, text: str) -> list[tuple[str, str]]:
    return [(f.type, text[f.start : f.end]) for f in found(detector, text)]


@pytest.mark.parametrize(
    ("text", "password"),
    [
        ("DATABASE_URL=postgres://app:s3cr3tPw@db.internal:5432/prod", "s3cr3tPw"),
        ("postgres://app:S3cr3t!x@db:5432/app", "S3cr3t!x"),
        ("postgresql://svc_ro:Qw3rty%21zz@10.0.3.7/app?sslmode=require", "Qw3rty%21zz"),
        ("mongodb+srv://ops:Xk9%40pq@cluster0.mongo.net/test", "Xk9%40pq"),
        ("redis://:hunter2Z@cache:6379", "hunter2Z"),
        ("rediss://default:AVNS_x8Jk2mQ9@redis-1.cloud.io:25061", "AVNS_x8Jk2mQ9"),
        ("amqp://guest2:Rabb1tMq-Pw@mq.corp.net:5672/vhost", "Rabb1tMq-Pw"),
        ("mysql://root:My5ql!Root@127.0.0.1:3306/shop", "My5ql!Root"),
        ("https://deploy:Zx9kq2Wm7p@git.corp.net/grp/app.git", "Zx9kq2Wm7p"),
        ("wss://bot:S3cr3tT0k3nValue@chat.corp.net/socket", "S3cr3tT0k3nValue"),
        ("jdbc:postgresql://db.corp:5432/app?user=app&password=Pa55w0rd!&ssl=true", "Pa55w0rd!"),
        ("jdbc:sqlserver://sql01:1433;databaseName=erp;user=sa;password=Sq1Serv3r#;", "Sq1Serv3r#"),
        ("jdbc:oracle:thin:scott/T1ger2024@//ora.corp:1521/ORCL", "T1ger2024"),
        ("Server=db1;Database=x;User Id=app;Password=Zx9!kq2;", "Zx9!kq2"),
        ("Data Source=tcp:sql.corp,1433;Initial Catalog=erp;User ID=svc;Pwd=Erp#2024x;", "Erp#2024x"),
        ("User ID=svc;Password=Adm1n!2024;Host=pg.corp;Port=5432;Database=app;", "Adm1n!2024"),
        ("curl -fsS -u deploy:willow-tundra-cobalt-70 https://ci.corp.net/api", "willow-tundra-cobalt-70"),
        ("curl --user=admin:Thistle~396 https://ci.corp.net", "Thistle~396"),
        ("wget --user app --password x -u 'svc:p^dOyiISq~1' https://x.corp", "p^dOyiISq~1"),
    ],
)
def test_when_a_connection_string_carries_a_password_then_the_password_alone_is_found(text: str, password: str) -> None:
    assert _reported(DETECTOR, text) == [("PASSWORD", password)]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgres://app:S3cr3t!x@db:5432/app", "postgres://app:[PASSWORD]@db:5432/app"),
        ("jdbc:mysql://db/app?user=u&password=Pa55w0rd!x", "jdbc:mysql://db/app?user=u&password=[PASSWORD]"),
        ("Server=db1;User Id=app;Password=Zx9!kq2;", "Server=db1;User Id=app;Password=[PASSWORD];"),
    ],
)
def test_when_the_password_is_masked_then_the_url_keeps_its_shape(text: str, masked: str) -> None:
    scanner = Scanner()
    masker = Masker(MaskPlan({"PASSWORD": "redact"}), scanner.scan, b"k")
    assert masker.mask(text) == masked.replace("[PASSWORD]", redact("PASSWORD"))


@pytest.mark.parametrize(
    "text",
    [
        "postgres://user:password@localhost/db",
        "postgres://app:${DB_PASSWORD}@db/prod",
        "https://example.org/path?x=1",
        "mysql://root@localhost/db",
        "Server=db1;Password=<your password>;",
        "jdbc:postgresql://db/app?user=app&password=${PGPASSWORD}",
        "jdbc:oracle:thin:scott/changeme@//ora:1521/ORCL",
        "User ID=svc;Password=********;Host=pg.corp;",
        "see https://docs.corp.net/db?section=password-rotation",
        "postgres://app:[PASSWORD]@db:5432/app",  # masked in an earlier turn
        "Server=db1;User Id=app;Password=<password>;",
        "jdbc:mysql://db/app?user=u&password={pw}",
        "docker run -u 1000:1000 alpine",
        "git push -u origin main",
        "curl -u admin:${ADMIN_PASSWORD} https://ci.corp.net",
    ],
)
def test_when_the_password_is_a_placeholder_or_absent_then_nothing_is_found(text: str) -> None:
    assert values(DETECTOR, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DATABASE_URL=postgres://app:s3cr3tPw@db.internal:5432/prod", "postgres://app:s3cr3tPw@db.internal:5432"),
        ("mongodb+srv://ops:Xk9%40pq@cluster0.mongo.net/test", "mongodb+srv://ops:Xk9%40pq@cluster0.mongo.net"),
        ("redis://:hunter2Z@cache:6379", "redis://:hunter2Z@cache:6379"),
        ("Server=db1;Database=x;User Id=app;Password=Zx9!kq2;", "Server=db1;Database=x;User Id=app;Password=Zx9!kq2"),
        ("https://deploy:Zx9kq2Wm7p@git.corp.net/grp/app.git", "deploy:Zx9kq2Wm7p"),
        ("jdbc:oracle:thin:scott/T1ger2024@//ora.corp:1521/ORCL", "jdbc:oracle:thin:scott/T1ger2024"),
    ],
)
def test_when_whole_strings_are_configured_then_the_former_connection_string_finding_is_made(
    text: str, expected: str
) -> None:
    assert _reported(WHOLE, text) == [("CONNECTION_STRING", expected)]


def test_when_the_configuration_asks_for_whole_strings_then_the_scanner_reports_connection_string() -> None:
    text = "DATABASE_URL=postgres://app:s3cr3tPw@db.internal:5432/prod"
    whole = Scanner.from_config(DetectionConfig(connection_strings="whole"))
    assert [f.type for f in whole.scan(text)] == ["CONNECTION_STRING"]
    assert [f.type for f in Scanner.from_config(DetectionConfig()).scan(text)] == ["PASSWORD"]


@pytest.mark.parametrize(
    "text",
    [
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u"
        "b3BxcnN0dXZ3eHl6QUJDREVGR0g=;EndpointSuffix=core.windows.net",
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=K3yV4lu3Zq9xW8mN7pL6oR5t"
        "U4sV3wX2yZ1aB0cD=",
    ],
)
def test_when_an_azure_connection_string_holds_a_key_then_the_key_is_an_api_key(text: str) -> None:
    assert [t for t, _ in _reported(DETECTOR, text)] == ["API_KEY"]


def test_when_a_vendor_token_is_the_password_then_its_own_type_wins() -> None:
    text = "git clone https://oauth2:glpat-aB3dE5fG7hJ9kL1mN3pQ@gitlab.com/x.git"
    assert [(f.type, text[f.start : f.end]) for f in Scanner().scan(text)] == [
        ("GITLAB_TOKEN", "glpat-aB3dE5fG7hJ9kL1mN3pQ")
    ]


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
