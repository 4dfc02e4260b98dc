"""A labelled detection corpus, generated reproducibly with Faker from a fixed seed.

Records are prompts, logs, e-mails, CSV, JSON and code of 1-4 KB (a pasted document, a log excerpt, a small
file: about what a gateway scans per request), in a traffic mix where prompts dominate (``Generator.MIX``),
mostly ordinary content, each with the exact spans of the
sensitive values in it (``entities``) and of hard negatives that look like them (``negatives``: UUIDs, git SHAs,
timestamps, order numbers, version strings, non-Luhn 16-digit numbers, invalid SSNs, example-domain addresses,
placeholder credentials). Values are generated valid by construction (Luhn, mod 97, SSA rules, ABA checksum,
numbers that ``phonenumbers`` accepts), so a detector is scored on what it should find.

    python bench/corpus.py --records 360 > corpus.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import phonenumbers
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from faker import Faker

SEED = 20261129
PATTERN_TYPES = (
    "CREDIT_CARD", "US_SSN", "EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "IP_ADDRESS", "US_BANK_NUMBER",
    "ABA_ROUTING_NUMBER",
)  # fmt: skip
SECRET_TYPES = (
    "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_TOKEN", "STRIPE_KEY",
    "OPENAI_API_KEY", "JWT", "PRIVATE_KEY", "CONNECTION_STRING", "PASSWORD", "API_KEY",
)  # fmt: skip


@dataclass
class Builder:
    parts: list[str] = field(default_factory=list)
    length: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)
    negatives: list[dict[str, Any]] = field(default_factory=list)

    def text(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def entity(self, type_: str, value: str) -> None:
        if type_ == "CONNECTION_STRING":
            # What is reported of a connection string is its password, as PASSWORD (docs/detection.md); the
            # generated strings are scheme://user:password@host…, drawn as before so the corpus does not change.
            user_end = value.index(":", value.index("://") + 3) + 1
            at = value.rindex("@")
            self.text(value[:user_end])
            self.entity("PASSWORD", value[user_end:at])
            self.text(value[at:])
            return
        self.entities.append({"start": self.length, "end": self.length + len(value), "type": type_})
        self.text(value)

    def negative(self, kind: str, value: str) -> None:
        self.negatives.append({"start": self.length, "end": self.length + len(value), "kind": kind})
        self.text(value)

    def record(self, rid: int, kind: str) -> dict[str, Any]:
        return {"id": rid, "kind": kind, "text": "".join(self.parts), "entities": self.entities,
                "negatives": self.negatives}  # fmt: skip


def luhn_complete(body: str) -> str:
    for d in "0123456789":
        total, double = 0, False
        for ch in reversed(body + d):
            n = int(ch) * (2 if double else 1)
            total += n - 9 if n > 9 else n
            double = not double
        if total % 10 == 0:
            return body + d
    raise AssertionError


class Values:
    """Valid sensitive values and hard negatives, all drawn from one seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        Faker.seed(seed)
        self.fake = Faker(["en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT"])
        self.us = self.fake["en_US"]
        key = ec.generate_private_key(ec.SECP256R1())
        self.pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode()

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(n))

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    # ---- positives
    def card(self) -> str:
        kind = self.rng.choice(["visa16", "visa13", "visa19", "mastercard", "amex", "discover", "diners", "jcb16",
                                "mc2", "mc2", "unionpay19"])  # fmt: skip
        if kind == "mc2":
            number = luhn_complete(str(self.rng.randint(2221, 2720)) + self.digits(11))
        elif kind == "unionpay19":
            number = luhn_complete("62" + self.digits(16))
        else:
            number = self.us.credit_card_number(kind)
        style = self.rng.choice(["compact", "space", "dash", "space"])
        if style == "compact":
            return number
        sep = " " if style == "space" else "-"
        if len(number) in (14, 15):
            groups = [number[:4], number[4:10], number[10:]]
        else:
            groups = [number[i : i + 4] for i in range(0, len(number), 4)]
        return sep.join(groups)

    def ssn(self) -> str:
        while True:
            area = self.rng.randint(1, 899)
            if area != 666:
                break
        number = f"{area:03d}-{self.rng.randint(1, 99):02d}-{self.rng.randint(1, 9999):04d}"
        return number if self.rng.random() < 0.8 else number.replace("-", " ")

    def email(self) -> str:
        return self.rng.choice([self.fake.free_email, self.fake.company_email])()

    def phone(self) -> str:
        while True:
            locale = self.rng.choice(["en_US", "en_US", "en_US", "en_GB", "de_DE", "fr_FR"])
            region = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR"}[locale]
            raw = self.fake[locale].phone_number()
            try:
                number = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                continue
            if not phonenumbers.is_valid_number(number) or number.extension:
                continue
            if region == "US":
                national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
                digits = "".join(c for c in national if c.isdigit())
                a, b, c = digits[:3], digits[3:6], digits[6:]
                return self.rng.choice([national, f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a}-{b}-{c}"])
            fmt = self.rng.choice([phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164])
            return phonenumbers.format_number(number, fmt)

    def iban(self) -> str:
        locale = self.rng.choice(["de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES", "it_IT"])
        value = self.fake[locale].iban()
        if self.rng.random() < 0.5:
            value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
        return value

    def ip(self) -> str:
        return self.rng.choice([self.fake.ipv4_public, self.fake.ipv4_private, self.fake.ipv4_public, self.fake.ipv6])()

    def bank_account(self) -> str:
        return str(self.rng.randint(1, 9)) + self.digits(self.rng.randint(7, 16))

    def aba(self) -> str:
        while True:
            prefix = self.rng.choice(["0", "1", "2", "3", "6", "7"]) + self.digits(1)
            p = int(prefix)
            if not (p <= 12 or 21 <= p <= 32 or 61 <= p <= 72):
                continue
            body = prefix + self.digits(6)
            for d in "0123456789":
                n = [int(c) for c in body + d]
                if (3 * (n[0] + n[3] + n[6]) + 7 * (n[1] + n[4] + n[7]) + (n[2] + n[5] + n[8])) % 10 == 0:
                    return body + d

    def secret(self, type_: str) -> str:
        alnum = string.ascii_letters + string.digits
        if type_ == "AWS_ACCESS_KEY":
            return "AKIA" + self.chars(string.ascii_uppercase + "234567", 16)
        if type_ == "AWS_SECRET_KEY":
            return self.chars(alnum + "/+", 40)
        if type_ == "GITHUB_TOKEN":
            return self.rng.choice(["ghp_", "gho_", "ghs_"]) + self.chars(alnum, 36)
        if type_ == "GITLAB_TOKEN":
            return "glpat-" + self.chars(alnum + "_-", 20)
        if type_ == "SLACK_TOKEN":
            return f"xoxb-{self.digits(11)}-{self.digits(12)}-{self.chars(alnum, 24)}"
        if type_ == "STRIPE_KEY":
            return self.rng.choice(["sk_live_", "rk_live_", "sk_test_"]) + self.chars(alnum, 24)
        if type_ == "OPENAI_API_KEY":
            return "sk-proj-" + self.chars(alnum + "_-", 48)
        if type_ == "JWT":
            claims = {"sub": str(self.rng.randint(1, 10**6)), "name": self.fake.name(), "iat": 1700000000}
            return jwt.encode(claims, self.chars(alnum, 32), algorithm="HS256")
        if type_ == "PRIVATE_KEY":
            return self.pem.strip()
        if type_ == "PASSWORD":
            return self.chars(alnum + "!#%^*-_", self.rng.randint(10, 18))
        if type_ == "API_KEY":
            return self.rng.choice([self.chars("0123456789abcdef", 32), self.chars(alnum, 40)])
        raise ValueError(type_)

    def connection_string(self) -> str:
        scheme = self.rng.choice(["postgresql", "mysql", "mongodb+srv", "redis", "amqp"])
        host = self.rng.choice(["db.internal", "10.0.3.7", "cache-1.prod.local", "mq.corp.net"])
        return f"{scheme}://{self.fake.user_name()}:{self.secret('PASSWORD').replace('#', 'x')}@{host}:5432/app"

    # ---- hard negatives
    def negative(self) -> tuple[str, str]:
        kind = self.rng.choice([
            "uuid", "git_sha", "short_sha", "timestamp", "epoch", "order_number", "order_dashed", "version",
            "version4", "non_luhn_16", "invalid_ssn", "example_email", "placeholder_password",
            "placeholder_key", "price", "mac", "semver", "decimal", "zip",
        ])  # fmt: skip
        r = self.rng
        if kind == "uuid":
            return kind, self.fake.uuid4()
        if kind == "git_sha":
            return kind, self.fake.sha1()
        if kind == "short_sha":
            return kind, self.fake.sha1()[:7]
        if kind == "timestamp":
            return kind, self.fake.date_time().isoformat(sep=r.choice(["T", " "]))
        if kind == "epoch":
            return kind, str(r.randint(1_500_000_000, 1_800_000_000) * r.choice([1, 1000]))
        if kind == "order_number":
            return kind, "#" + str(r.randint(10**7, 10**10))
        if kind == "order_dashed":
            return kind, f"{r.randint(100, 999)}-{self.digits(7)}-{self.digits(7)}"
        if kind == "version":
            return kind, f"v{r.randint(0, 9)}.{r.randint(0, 20)}.{r.randint(0, 99)}.{r.randint(0, 9)}"
        if kind == "version4":
            return kind, f"{r.randint(1, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}"
        if kind == "non_luhn_16":
            while True:
                body = "4" + self.digits(15)
                if luhn_complete(body[:-1]) != body:
                    return kind, body
        if kind == "invalid_ssn":
            area = r.choice(["000", "666", f"9{self.digits(2)}"])
            return kind, f"{area}-{r.randint(10, 99)}-{r.randint(1000, 9999)}"
        if kind == "example_email":
            return kind, self.fake.safe_email()
        if kind == "placeholder_password":
            return kind, r.choice(["password=changeme-later", "password: ${DB_PASSWORD}", "password = None",
                                   'PASSWORD="<your password>"', "passwd: ********"])  # fmt: skip
        if kind == "placeholder_key":
            return kind, r.choice(["api_key=None", 'api_key = os.environ["API_KEY"]', "token: {{ vault_token }}",
                                   "secret_key=YOUR_SECRET_KEY_HERE", "apiKey: process.env.API_KEY"])  # fmt: skip
        if kind == "price":
            return kind, f"${r.randint(1, 99)},{r.randint(100, 999)}.{r.randint(10, 99)}"
        if kind == "mac":
            return kind, ":".join(self.chars("0123456789abcdef", 2) for _ in range(6))
        if kind == "semver":
            return kind, f"{r.randint(0, 30)}.{r.randint(0, 30)}.{r.randint(0, 30)}"
        if kind == "decimal":
            return kind, f"{r.randint(0, 999)}.{self.digits(r.randint(4, 9))}"
        return kind, self.fake["en_US"].zipcode_plus4()


LABELS = {
    "CREDIT_CARD": ["card number", "credit card", "card", "Visa"],
    "US_SSN": ["SSN", "social security number", "SSN#"],
    "EMAIL_ADDRESS": ["email", "e-mail", "contact", "reply to"],
    "PHONE_NUMBER": ["phone", "call me at", "mobile", "tel"],
    "IBAN_CODE": ["IBAN", "bank account (IBAN)", "pay to"],
    "IP_ADDRESS": ["client ip", "from host", "server", "ip"],
    "US_BANK_NUMBER": ["account number", "acct no", "checking account"],
    "ABA_ROUTING_NUMBER": ["routing number", "ABA", "routing"],
}
KEYS = {
    "CREDIT_CARD": "card_number", "US_SSN": "ssn", "EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone",
    "IBAN_CODE": "iban", "IP_ADDRESS": "client_ip", "US_BANK_NUMBER": "account_number",
    "ABA_ROUTING_NUMBER": "routing_number", "AWS_ACCESS_KEY": "aws_access_key_id",
    "AWS_SECRET_KEY": "aws_secret_access_key", "GITHUB_TOKEN": "GITHUB_TOKEN", "GITLAB_TOKEN": "GITLAB_TOKEN",
    "SLACK_TOKEN": "SLACK_BOT_TOKEN", "STRIPE_KEY": "STRIPE_SECRET_KEY", "OPENAI_API_KEY": "OPENAI_API_KEY",
    "JWT": "id_token", "CONNECTION_STRING": "DATABASE_URL", "PASSWORD": "db_password", "API_KEY": "api_key",
}  # fmt: skip


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.v = Values(seed)
        self.rng = self.v.rng
        self.kinds: dict[str, Callable[[Builder], None]] = {
            "prompt": self._prompt, "log": self._log, "email": self._email, "csv": self._csv,
            "json": self._json, "code": self._code,
        }  # fmt: skip

    def value(self, type_: str) -> str:
        v = self.v
        table: dict[str, Callable[[], str]] = {
            "CREDIT_CARD": v.card, "US_SSN": v.ssn, "EMAIL_ADDRESS": v.email, "PHONE_NUMBER": v.phone,
            "IBAN_CODE": v.iban, "IP_ADDRESS": v.ip, "US_BANK_NUMBER": v.bank_account, "ABA_ROUTING_NUMBER": v.aba,
            "CONNECTION_STRING": v.connection_string,
        }  # fmt: skip
        return table[type_]() if type_ in table else v.secret(type_)

    def pick_types(self, n: int, secrets: bool) -> list[str]:
        pool = list(PATTERN_TYPES) + (list(SECRET_TYPES) if secrets else [])
        return [self.rng.choice(pool) for _ in range(n)]

    def sentence(self) -> str:
        return self.v.fake["en_US"].sentence(nb_words=self.rng.randint(6, 14))

    def paragraph(self) -> str:
        return self.v.fake["en_US"].paragraph(nb_sentences=self.rng.randint(3, 7))

    def negative(self, b: Builder) -> None:
        kind, value = self.v.negative()
        b.text(self.rng.choice([" ref ", " see ", " id ", " at ", " ", " build "]))
        b.negative(kind, value)
        b.text(self.rng.choice([". ", " ", ", ", "; "]))

    def _prompt(self, b: Builder) -> None:
        b.text(self.rng.choice(["Can you help me with this? ", "Please summarise the following. ",
                                "Rewrite this message politely: ", "Draft a reply: "]))  # fmt: skip
        for type_ in self.pick_types(self.rng.randint(1, 4), secrets=self.rng.random() < 0.3):
            for _ in range(self.rng.randint(1, 3)):
                b.text(self.paragraph() + "\n\n")
            b.text(self.sentence() + " ")
            b.text(f"My {self.rng.choice(LABELS.get(type_, [KEYS.get(type_, 'key')]))} is ")
            b.entity(type_, self.value(type_))
            b.text(". ")
            if self.rng.random() < 0.4:
                self.negative(b)
        b.text(self.sentence())

    def _log(self, b: Builder) -> None:
        for _ in range(self.rng.randint(20, 50)):
            ts = self.v.fake.date_time().isoformat()
            b.negative("timestamp", ts)
            b.text(f" {self.rng.choice(['INFO', 'WARN', 'DEBUG'])} req=")
            b.negative("uuid", self.v.fake.uuid4())
            method, status = self.rng.choice(["GET", "POST", "PUT"]), self.rng.choice([200, 201, 204, 404, 500])
            b.text(f" {method} /api/v1/{self.v.fake.uri_path()} {status}")
            if self.rng.random() < 0.15:
                type_ = self.pick_types(1, secrets=self.rng.random() < 0.2)[0]
                b.text(f" {KEYS.get(type_, 'value')}=")
                b.entity(type_, self.value(type_))
            b.text(f" took={self.rng.randint(1, 999)}ms")
            if self.rng.random() < 0.2:
                self.negative(b)
            b.text("\n")

    def _email(self, b: Builder) -> None:
        b.text("From: ")
        b.entity("EMAIL_ADDRESS", self.v.email())
        b.text(f"\nSubject: {self.sentence()}\n\nHi {self.v.fake.first_name()},\n\n{self.paragraph()}\n\n")
        for type_ in self.pick_types(self.rng.randint(1, 3), secrets=False):
            b.text(f"{self.paragraph()}\n\n{self.paragraph()}\n\n")
            b.text(f"{self.sentence()} The {self.rng.choice(LABELS[type_])}: ")
            b.entity(type_, self.value(type_))
            b.text(".\n")
        self.negative(b)
        b.text(f"\nThanks,\n{self.v.fake.name()}\n")

    def _csv(self, b: Builder) -> None:
        # Context-only types (bank and routing numbers) are left out: in a CSV file their context is the header,
        # which a text scanner's window cannot see from the rows (clearance classify --field passes it instead).
        types = self.rng.sample([t for t in PATTERN_TYPES if t not in ("US_BANK_NUMBER", "ABA_ROUTING_NUMBER")], 2)
        b.text(f"name,{KEYS[types[0]]},{KEYS[types[1]]},updated,city,job\n")
        for _ in range(self.rng.randint(12, 30)):
            b.text(self.v.fake.name().replace(",", " ") + ",")
            b.entity(types[0], self.value(types[0]))
            b.text(",")
            b.entity(types[1], self.value(types[1]))
            b.text(",")
            b.negative("timestamp", self.v.fake.date_time().isoformat())
            b.text("," + self.v.fake.city().replace(",", " ") + "," + self.v.fake.job().replace(",", " ") + "\n")

    def _json(self, b: Builder) -> None:
        b.text("[")
        for n in range(self.rng.randint(3, 7)):
            b.text(",\n " if n else "")
            self._json_object(b)
        b.text("]")

    def _json_object(self, b: Builder) -> None:
        b.text('{"id": "')
        b.negative("uuid", self.v.fake.uuid4())
        b.text('", "user": {"name": "' + self.v.fake.name() + '"')
        for type_ in self.pick_types(self.rng.randint(0, 2), secrets=self.rng.random() < 0.3):
            b.text(f', "{KEYS.get(type_, "value")}": "')
            b.entity(type_, self.value(type_).replace("\n", "\\n"))
            b.text('"')
        b.text('}, "version": "')
        b.negative("semver", f"{self.rng.randint(0, 9)}.{self.rng.randint(0, 9)}.{self.rng.randint(0, 30)}")
        b.text('", "note": "' + self.paragraph() + '"}')

    def _code(self, b: Builder) -> None:
        b.text("import os\nimport logging\n\nlog = logging.getLogger(__name__)\n\n")
        for type_ in [self.rng.choice(SECRET_TYPES) for _ in range(self.rng.randint(2, 4))]:
            key = KEYS.get(type_, "VALUE")
            if type_ == "PRIVATE_KEY":
                b.text('KEY = """')
                b.entity(type_, self.value(type_))
                b.text('"""\n')
                continue
            b.text(f'{key} = "')
            b.entity(type_, self.value(type_))
            b.text('"\n')
        kind, value = self.v.negative()
        b.text("# ")
        b.negative(kind, value)
        for _ in range(self.rng.randint(5, 10)):
            name = self.v.fake.word() + "_" + self.v.fake.word()
            b.text(f'\n\ndef {name}(items, limit=10):\n    """{self.sentence()}"""\n')
            b.text(f"    result = [x for x in items if x.get('{self.v.fake.word()}')][:limit]\n")
            b.text(f"    log.info('%s done in %d ms', '{name}', len(result))\n    return result\n")

    # A traffic mix: mostly prompts, then pasted e-mails and code, some JSON, logs and CSV exports.
    MIX = ("prompt", "email", "prompt", "code", "json", "prompt", "email", "log", "prompt", "code", "csv")

    def records(self, n: int) -> list[dict[str, Any]]:
        return [self._one(i, self.MIX[i % len(self.MIX)]) for i in range(n)]

    def _one(self, rid: int, kind: str) -> dict[str, Any]:
        b = Builder()
        self.kinds[kind](b)
        return b.record(rid, kind)


def generate(n: int, seed: int = SEED) -> list[dict[str, Any]]:
    return Generator(seed).records(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=360)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    for record in generate(args.records, args.seed):
        sys.stdout.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
