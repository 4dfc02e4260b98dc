"""Generators of sensitive values that really are what their label says (checksums, issuer ranges, SSA rules).

Every function takes the record's ``random.Random`` and returns a string; nothing here depends on Python's hash
seed or on any module-level state.
"""

from __future__ import annotations

import ipaddress
import random
import string

from bench.heldout.names import Person

# Issuer ranges (IIN prefixes, as ranges of the leading digits) and the lengths each network issues.
CARD_NETWORKS: tuple[tuple[str, tuple[tuple[int, int], ...], tuple[int, ...]], ...] = (
    ("visa", ((4, 4),), (13, 16, 19)),
    ("visa-electron", ((4026, 4026), (417500, 417500), (4508, 4508), (4844, 4844), (4913, 4913)), (16,)),
    ("mastercard", ((51, 55), (2221, 2720)), (16,)),
    ("amex", ((34, 34), (37, 37)), (15,)),
    ("discover", ((6011, 6011), (644, 649), (65, 65)), (16, 17, 18, 19)),
    ("jcb", ((3528, 3589),), (16, 17, 18, 19)),
    ("diners", ((36, 36),), (14, 15, 16, 17, 18, 19)),
    ("diners-carte-blanche", ((300, 305),), (14, 16, 17, 18, 19)),
    ("diners-us", ((38, 39),), (16, 17, 18, 19)),
    ("unionpay", ((62, 62),), (16, 17, 18, 19)),
    (
        "maestro",
        ((5018, 5018), (5020, 5020), (5038, 5038), (5893, 5893), (6304, 6304), (6759, 6759), (6761, 6763)),
        tuple(range(12, 20)),
    ),
    ("mir", ((2200, 2204),), (16, 17, 18, 19)),
    ("rupay", ((60, 60), (81, 82), (508, 508)), (16,)),
    ("verve", ((506099, 506198), (650002, 650027)), (16, 18, 19)),
    ("troy", ((9792, 9792),), (16,)),
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    """``prefix`` followed by random digits and the Luhn check digit, ``length`` digits in all."""
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always completes a Luhn number")


def card_digits(rng: random.Random, network: str | None = None) -> str:
    _, ranges, lengths = next(n for n in CARD_NETWORKS if n[0] == network) if network else rng.choice(CARD_NETWORKS)
    low, high = rng.choice(ranges)
    return luhn_complete(rng, str(rng.randint(low, high)), rng.choice(lengths))


def group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    out, pos = [], 0
    for size in sizes:
        out.append(digits[pos : pos + size])
        pos += size
    if pos < len(digits):
        out.append(digits[pos:])
    return sep.join(p for p in out if p)


def card_groups(length: int) -> tuple[int, ...]:
    """How a card of this length is printed: Amex 4-6-5, Diners 4-6-4, otherwise fours."""
    if length == 15:
        return (4, 6, 5)
    if length == 14:
        return (4, 6, 4)
    return (4,) * (length // 4)


def card(rng: random.Random, style: str | None = None) -> str:
    digits = card_digits(rng)
    style = style or rng.choice(("bare", "space", "space", "dash"))
    if style == "bare":
        return digits
    return group(digits, card_groups(len(digits)), " " if style == "space" else "-")


VOID_SSNS = frozenset({"078051120", "219099999", "457555462", "123456789"})


def ssn_digits(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area == 666:
            continue
        value = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        if value not in VOID_SSNS:
            return value


def ssn(rng: random.Random, sep: str | None = None) -> str:
    digits = ssn_digits(rng)
    sep = rng.choice(("-", "-", "-", " ")) if sep is None else sep
    return f"{digits[:3]}{sep}{digits[3:5]}{sep}{digits[5:]}"


ABA_PREFIXES = tuple(range(1, 13)) + tuple(range(21, 33)) + tuple(range(61, 73)) + (80,)


def aba_ok(digits: str) -> bool:
    d = [int(c) for c in digits]
    return len(d) == 9 and (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


def aba(rng: random.Random) -> str:
    body = f"{rng.choice(ABA_PREFIXES):02d}" + "".join(rng.choice(string.digits) for _ in range(6))
    for check in string.digits:
        if aba_ok(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always completes a routing number")


def bank_account(rng: random.Random) -> str:
    """8-17 digits, as US banks print them; never one that is also a valid routing number or a Luhn card number."""
    while True:
        length = rng.choice((8, 9, 10, 10, 11, 12, 12, 13, 14, 15, 16, 17))
        first = rng.choice("0123456789" if rng.random() < 0.2 else "123456789")
        value = first + "".join(rng.choice(string.digits) for _ in range(length - 1))
        if (length == 9 and aba_ok(value)) or (length >= 12 and luhn_ok(value)):
            continue
        return value


# Country: BBAN layout as (kind, count) with kind n (digits), a (upper letters), c (letters or digits).
IBAN_LAYOUTS: dict[str, tuple[tuple[str, int], ...]] = {
    "DE": (("n", 18),), "GB": (("a", 4), ("n", 14)), "FR": (("n", 10), ("c", 11), ("n", 2)),
    "ES": (("n", 20),), "IT": (("a", 1), ("n", 10), ("c", 12)), "NL": (("a", 4), ("n", 10)),
    "BE": (("n", 12),), "CH": (("n", 5), ("c", 12)), "AT": (("n", 16),), "PL": (("n", 24),),
    "SE": (("n", 20),), "NO": (("n", 11),), "DK": (("n", 14),), "IE": (("a", 4), ("n", 14)),
    "PT": (("n", 21),), "BR": (("n", 23), ("a", 1), ("c", 1)), "SA": (("n", 2), ("c", 18)),
    "AE": (("n", 19),), "FI": (("n", 14),), "LU": (("n", 3), ("c", 13)),
}  # fmt: skip


def iban_compact(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_LAYOUTS))
    alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}
    bban = "".join(rng.choice(alphabet[k]) for k, n in IBAN_LAYOUTS[country] for _ in range(n))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def iban(rng: random.Random) -> str:
    value = iban_compact(rng)
    return value if rng.random() < 0.45 else " ".join(value[i : i + 4] for i in range(0, len(value), 4))


DOMAINS = (
    "northwind-logistics.com", "brightlane.io", "kestrel-health.org", "orbis-pay.com", "tallgrass.coop",
    "meridianbank.co.uk", "fjordline-data.no", "solenne.fr", "haldenwerk.de", "verdantia.com.br",
    "cascadia-freight.ca", "pinnacle-ortho.com", "gmail.com", "outlook.com", "yahoo.co.jp", "proton.me",
    "hotmail.de", "icloud.com", "uni-freiburg.de", "tcs-mail.in", "redline-studio.es", "bluefern.com.au",
)  # fmt: skip
ROLES = ("support", "billing", "ops-oncall", "payroll", "hr", "accounts.payable", "security", "noc")


def email(rng: random.Random, who: Person | None = None, domain: str | None = None) -> str:
    domain = domain or rng.choice(DOMAINS)
    if who is None:
        return f"{rng.choice(ROLES)}@{domain}"
    return f"{who.email_local(rng)}@{domain}"


def ipv4(rng: random.Random) -> str:
    while True:
        kind = rng.random()
        if kind < 0.25:
            addr = ipaddress.IPv4Address(f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        elif kind < 0.4:
            addr = ipaddress.IPv4Address(f"192.168.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        elif kind < 0.5:
            addr = ipaddress.IPv4Address(f"172.{rng.randint(16, 31)}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        else:
            addr = ipaddress.IPv4Address(rng.getrandbits(32))
            if not addr.is_global or addr.is_multicast:
                continue
        return str(addr)


def ipv6(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return str(ipaddress.IPv6Address((0xFE80 << 112) | rng.getrandbits(64)))
    groups = [rng.choice((0x2001, 0x2600, 0x2A02, 0x2A00, 0x2404, 0x2806)), rng.getrandbits(16)]
    groups += [rng.getrandbits(16) if rng.random() < 0.7 else 0 for _ in range(6)]
    addr = ipaddress.IPv6Address(int("".join(f"{g:04x}" for g in groups), 16))
    if addr in ipaddress.IPv6Network("2001:db8::/32"):
        return ipv6(rng)
    return str(addr) if rng.random() < 0.8 else addr.exploded


WORDS = (
    "harbor", "maple", "orbit", "lantern", "copper", "falcon", "meadow", "quartz", "ember", "tundra",
    "violet", "saffron", "glacier", "pebble", "thistle", "cobalt", "juniper", "raven", "marble", "willow",
)  # fmt: skip
SYMBOLS = "!*&^~+=_.-"


def password(rng: random.Random, url_safe: bool = False) -> str:
    """Passwords as people and password managers make them; ``url_safe`` ones can sit in a URL's user info."""
    style = rng.randrange(5)
    symbols = "!*_.-~" if url_safe else SYMBOLS
    if style == 0:
        word = rng.choice(WORDS).capitalize()
        return f"{word}{rng.choice(symbols)}{rng.randint(10, 9999)}"
    if style == 1:
        alphabet = string.ascii_letters + string.digits + symbols
        while True:
            value = "".join(rng.choice(alphabet) for _ in range(rng.randint(12, 22)))
            if value[0].isalnum() and any(c.isdigit() for c in value) and any(c.isupper() for c in value):
                return value
    if style == 2:
        words = rng.sample(WORDS, 3)
        return "-".join(words) + f"-{rng.randint(2, 99)}"
    if style == 3:
        leet = str.maketrans({"a": "4", "e": "3", "o": "0", "i": "1", "s": "$" if not url_safe else "5"})
        word = rng.choice(WORDS) + rng.choice(WORDS)
        return word.capitalize().translate(leet) + rng.choice(symbols)
    return f"{rng.choice(WORDS)}{rng.choice(WORDS).upper()}{rng.randint(100, 999)}{rng.choice(symbols)}"


def random_chars(rng: random.Random, alphabet: str, count: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def generic_key(rng: random.Random) -> str:
    """A key some in-house or unnamed service issued: high-entropy, with no vendor prefix."""
    style = rng.randrange(4)
    if style == 0:
        return random_chars(rng, ALNUM, rng.choice((32, 40, 48)))
    if style == 1:
        return random_chars(rng, HEX, rng.choice((32, 64)))
    if style == 2:
        # Starts and ends with a letter or digit, as issuers do: a leading "_" would blur where the key begins.
        return (
            random_chars(rng, ALNUM, 1)
            + random_chars(rng, ALNUM + "_-", rng.randint(26, 42))
            + random_chars(rng, ALNUM, 1)
        )
    return random_chars(rng, ALNUM + "+/", 39) + "="
