"""Hard negatives: values that look like sensitive data and are not (ids, timestamps, hashes, placeholders…).

Each function returns ``(text, kind)``; the kind names the class in the benchmark's report. Numbers that pass
Luhn are kept off every card issuer's range and length, and nine-digit ones are order numbers by their context,
so that no negative is a real card, SSN or phone number in disguise.
"""

from __future__ import annotations

import random
import string
import uuid
from datetime import UTC, datetime, timedelta

from bench.heldout.values import HEX, luhn_complete, luhn_ok, random_chars

EPOCH_LOW, EPOCH_HIGH = 1_420_070_400, 1_790_000_000  # 2015 .. 2026


def moment(rng: random.Random) -> datetime:
    return datetime.fromtimestamp(rng.randint(EPOCH_LOW, EPOCH_HIGH), UTC)


def epoch_seconds(rng: random.Random) -> str:
    return str(rng.randint(EPOCH_LOW, EPOCH_HIGH))


def epoch_millis(rng: random.Random) -> str:
    return str(rng.randint(EPOCH_LOW * 1000, EPOCH_HIGH * 1000))


def iso_timestamp(rng: random.Random) -> str:
    t = moment(rng)
    style = rng.randrange(5)
    if style == 0:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == 1:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(1000):03d}Z"
    if style == 2:
        offset = rng.choice(("+02:00", "-05:00", "+05:30", "+09:00"))
        return t.strftime("%Y-%m-%dT%H:%M:%S") + offset
    if style == 3:
        return t.strftime("%Y-%m-%d %H:%M:%S")
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(10**6):06d}+00:00"


def date(rng: random.Random) -> str:
    t = moment(rng)
    return rng.choice((t.strftime("%Y-%m-%d"), t.strftime("%d/%m/%Y"), t.strftime("%m/%d/%Y"), t.strftime("%Y%m%d")))


def order_number(rng: random.Random) -> str:
    """Order, invoice and ticket numbers as shops and ERPs print them (some pass Luhn, some start with zeros)."""
    style = rng.randrange(8)
    if style == 0:
        return f"{rng.randint(10**8, 10**9 - 1)}"  # nine digits
    if style == 1:
        return f"{rng.randint(0, 10**11):012d}"  # leading zeros
    if style == 2:
        length = rng.randint(10, 11)  # too short for any card
        return luhn_complete(rng, str(rng.randint(1, 9)), length)
    if style == 3:
        # Luhn-valid and card-length, but opening with 0: no issuer's range starts there.
        return luhn_complete(rng, "0", rng.randint(13, 16))
    if style == 4:
        return f"ORD-{rng.randint(2019, 2026)}-{rng.randint(10**5, 10**6 - 1)}"
    if style == 5:
        value = f"{rng.randint(10**9, 10**13 - 1)}"
        return value if len(value) < 12 or not luhn_ok(value) else value[:-1] + str((int(value[-1]) + 1) % 10)
    if style == 6:
        return f"{rng.choice(('SO', 'PO', 'INV', 'RMA'))}{rng.randint(10**6, 10**8)}"
    return f"{rng.randint(2020, 2026)}{rng.randint(1, 12):02d}{rng.randint(10**5, 10**6 - 1)}"


def ticket(rng: random.Random) -> str:
    return rng.choice((
        f"#{rng.randint(10000, 9999999)}", f"ZD-{rng.randint(10**5, 10**7)}", f"INC{rng.randint(10**6, 10**7):07d}",
        f"CS-{rng.randint(2020, 2026)}-{rng.randint(1, 99999):05d}", f"{rng.randint(10**5, 10**7)}",
    ))  # fmt: skip


def uuid4(rng: random.Random) -> str:
    value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return value.upper() if rng.random() < 0.1 else value


def git_sha(rng: random.Random) -> str:
    return random_chars(rng, HEX, rng.choice((7, 8, 12, 40)))


def digest(rng: random.Random) -> str:
    return random_chars(rng, HEX, rng.choice((32, 40, 64)))


def version(rng: random.Random) -> str:
    a, b, c = rng.randint(0, 24), rng.randint(0, 40), rng.randint(0, 300)
    return rng.choice((
        f"v{a}.{b}.{c}", f"{a}.{b}.{c}", f"{a}.{b}.{c}-rc.{rng.randint(1, 5)}", f"{a}.{b}.{c}.{rng.randint(100, 9999)}",
        f"{rng.randint(100, 130)}.0.{rng.randint(5000, 6999)}.{rng.randint(10, 250)}", f"{a}.{b}",
        f"{rng.randint(2019, 2026)}.{rng.randint(1, 12)}.{rng.randint(0, 9)}",
    ))  # fmt: skip


def price(rng: random.Random) -> str:
    amount = rng.randint(1, 2_500_000) / 100
    return rng.choice((
        f"${amount:,.2f}", f"{amount:.2f} USD", f"€{amount:,.2f}".replace(",", " "), f"£{amount:.2f}",
        f"R$ {amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", "."), f"{amount:.2f}",
        f"¥{int(amount * 100):,}", f"{amount:,.2f} EUR",
    ))  # fmt: skip


def postal_code(rng: random.Random) -> str:
    letters = string.ascii_uppercase
    return rng.choice((
        f"{rng.randint(1001, 99950):05d}", f"{rng.randint(1001, 99950):05d}-{rng.randint(1, 9999):04d}",
        f"{rng.choice(('SW1A', 'EC2V', 'M1', 'B33', 'LS6', 'G12'))} {rng.randint(1, 9)}{rng.choice(letters)}"
        f"{rng.choice(letters)}", f"{rng.randint(10115, 99998)}", f"{rng.randint(1000, 9999)} {rng.choice(letters)}"
        f"{rng.choice(letters)}", f"{rng.randint(1000, 99999):05d}-{rng.randint(0, 999):03d}",
        f"{rng.randint(110001, 855999)}",
    ))  # fmt: skip


def tracking_number(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        shipper = random_chars(rng, string.ascii_uppercase + string.digits, 6)
        return "1Z" + shipper + random_chars(rng, string.digits, 10)
    if style == 1:
        return "7" + random_chars(rng, string.digits, 11)  # FedEx Express: no card issuer's range starts with 7
    if style == 2:
        digits = "9400" + random_chars(rng, string.digits, 18)  # USPS, 22 digits, printed in fours
        return " ".join(digits[i : i + 4] for i in range(0, 22, 4))
    return f"JD{random_chars(rng, string.digits, 16)}"


def request_id(rng: random.Random) -> str:
    return rng.choice((
        f"req_{random_chars(rng, string.ascii_letters + string.digits, 14)}", random_chars(rng, HEX, 32),
        "01" + random_chars(rng, "0123456789ABCDEFGHJKMNPQRSTVWXYZ", 24), uuid4(rng),
        f"{random_chars(rng, HEX, 16)}:{random_chars(rng, HEX, 16)}:0:1",
    ))  # fmt: skip


def build_number(rng: random.Random) -> str:
    t = moment(rng)
    plain = str(rng.randint(1000, 99999))
    return rng.choice((f"{t:%Y%m%d}.{rng.randint(1, 30)}", f"#{rng.randint(100, 99999)}", plain))


def mac_address(rng: random.Random) -> str:
    parts = [f"{rng.randrange(256):02x}" for _ in range(6)]
    cisco = ".".join("".join(parts[i : i + 2]) for i in (0, 2, 4))
    return rng.choice((":".join(parts), "-".join(parts).upper(), cisco))


PLACEHOLDERS = (
    "changeme", "<your-api-key>", "${API_TOKEN}", "xxxxxxxxxxxxxxxx", "YOUR_TOKEN_HERE", "********", "<password>",
    "{{ .Values.db.password }}", "%(db_password)s", "REPLACE_ME", "dummy", "${{ secrets.DEPLOY_KEY }}",
    "<insert key>", "TODO", "os.environ['DB_PASS']", "$DATABASE_PASSWORD", "sk-...", "example", "redacted",
    "<REDACTED>", "[hidden]", "none", "null", "process.env.API_KEY",
)  # fmt: skip


def placeholder(rng: random.Random) -> str:
    return rng.choice(PLACEHOLDERS)


def example_email(rng: random.Random) -> str:
    local = rng.choice(("jane.doe", "john.smith", "user", "noreply", "test", "someone", "admin", "you"))
    return f"{local}@{rng.choice(('example.com', 'example.org', 'example.net', 'mail.example.com', 'test.example'))}"


NON_NAMES = {
    "product": ("Salesforce", "Kubernetes", "Power BI", "Snowflake", "Grafana", "Postgres", "Tableau", "Zendesk",
                "Jenkins", "Terraform", "Airflow", "Looker", "SharePoint", "Confluence", "QuickBooks"),
    "city": ("Lisbon", "Denver", "Osaka", "Rotterdam", "Nairobi", "Bengaluru", "Guadalajara", "Kraków", "Leeds",
             "Montréal", "Porto Alegre", "Hamburg", "Seville", "Auckland", "Pittsburgh"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "month": ("January", "February", "March", "April", "August", "September", "October", "November", "December"),
    "company": ("Northwind Traders", "Globex Corporation", "Initech", "Umbrella Freight", "Contoso Ltd",
                "Wayne Logistics", "Hooli", "Vandelay Industries", "Tyrell Systems", "Soylent Foods"),
    "team": ("Team", "Support", "The Billing Team", "Customer Care", "IT Service Desk", "Platform Team",
             "Accounts Receivable", "Payroll Department"),
}  # fmt: skip


def non_name(rng: random.Random, kind: str | None = None) -> tuple[str, str]:
    kind = kind or rng.choice(sorted(NON_NAMES))
    return rng.choice(NON_NAMES[kind]), kind


def not_luhn_card_like(rng: random.Random) -> str:
    """A 16-digit reference in groups of four that fails Luhn: looks like a card and is not one."""
    while True:
        digits = str(rng.choice((4, 5))) + random_chars(rng, string.digits, 15)
        if not luhn_ok(digits):
            return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


def invalid_ssn(rng: random.Random) -> str:
    """SSN-shaped but outside the SSA's rules (area 000 or 666, group 00, serial 0000)."""
    area = rng.choice(("000", "666", f"{rng.randint(1, 899):03d}"))
    group = "00" if area not in ("000", "666") and rng.random() < 0.5 else f"{rng.randint(1, 99):02d}"
    serial = "0000" if area not in ("000", "666") and group != "00" else f"{rng.randint(1, 9999):04d}"
    return f"{area}-{group}-{serial}"


def later(rng: random.Random, start: datetime) -> datetime:
    return start + timedelta(seconds=rng.randint(1, 7200))
