"""Held-out evasion recall: valid values disguised at random, scanned with ``clearance.scan``.

    .venv/bin/python -m bench.evasion [--count 3000] [--seed 10]

Not a test and not tuned on: the tables and properties in ``tests/detect`` were written from the separator,
form and invisible-character lists there; this draws separators from every Unicode punctuation, symbol and space
character, digit forms from every character whose compatibility form or digit value is a digit, and invisible
characters from every Cf, Mn, Me and Cc character, then reports, per class and per disguise, the share of values
found with a span covering the whole disguised value. The "not claimed" row disguises values in a way the engine
does not claim to undo (a different separator at random places) and shows what that costs. Values: Luhn-valid
cards of several brands, SSA-valid SSNs, mod-97-valid IBANs of several countries (either case) and labelled
account numbers.
"""

from __future__ import annotations

import argparse
import random
import unicodedata
from collections import defaultdict
from collections.abc import Callable

from clearance import scan
from clearance.detect.checksums import luhn_check_digit
from clearance.detect.normalize import Normalizer

_ALL = [chr(cp) for cp in range(0x20000) if not 0xD800 <= cp < 0xE000]
_SEPARATORS = [c for c in _ALL if unicodedata.category(c)[0] in "PSZ" and c not in "\\"]
_INVISIBLE = [c for c in _ALL if unicodedata.category(c) in ("Cf", "Mn", "Me", "Cc") and c not in "\t\n\r\x85\x0b\x0c"]
_DIGIT_FORMS: dict[int, list[str]] = defaultdict(list)
for _c in _ALL:
    _folded = unicodedata.normalize("NFKC", _c)
    if _c not in "0123456789" and len(_folded) == 1 and _folded.isdigit() and _folded.isascii():
        _DIGIT_FORMS[int(_folded)].append(_c)
_NORMALIZER = Normalizer()


def _card(r: random.Random) -> tuple[str, tuple[int, ...]]:
    brands = [("4", 16, (4, 4, 4, 4)), ("51", 16, (4, 4, 4, 4)), ("37", 15, (4, 6, 5)), ("6011", 16, (4, 4, 4, 4)),
              ("35", 16, (4, 4, 4, 4)), ("4", 13, (4, 4, 5))]  # fmt: skip
    prefix, length, sizes = r.choice(brands)
    body = prefix + "".join(r.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn_check_digit(body), sizes


def _ssn(r: random.Random) -> tuple[str, tuple[int, ...]]:
    area = r.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}{r.randint(1, 99):02d}{r.randint(1, 9999):04d}", (3, 2, 4)


def _iban(r: random.Random) -> tuple[str, tuple[int, ...]]:
    country, length = r.choice([("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18), ("ES", 24), ("IT", 27)])
    bban = "".join(r.choice("0123456789" if country != "GB" or i >= 4 else "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                   for i in range(length - 4))  # fmt: skip
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}", (4,) * 8


def _account(r: random.Random) -> tuple[str, tuple[int, ...]]:
    return "".join(r.choice("0123456789") for _ in range(12)), (4, 4, 4)


def _group(value: str, sizes: tuple[int, ...], sep: str) -> str:
    groups, at = [], 0
    for size in sizes:
        if at < len(value):
            groups.append(value[at : at + size])
        at += size
    if at < len(value):
        groups.append(value[at:])
    return sep.join(groups)


def _separator(r: random.Random) -> str:
    # One to three characters, none of them a letter or digit once folded (a separator that folds to a digit
    # would change the value).
    while True:
        sep = "".join(r.choice(_SEPARATORS) for _ in range(r.randint(1, 3)))
        if not any(c.isalnum() for c in _NORMALIZER.normalize(sep)[0]):
            return sep


def _in_forms(r: random.Random, value: str) -> str:
    return "".join(r.choice(_DIGIT_FORMS[int(c)]) if c.isdigit() else c for c in value)


def _hidden_between(r: random.Random, text: str) -> str:
    return "".join(c + r.choice(_INVISIBLE) for c in text)[:-1]


def _long_separator(r: random.Random) -> str:
    return "".join(_separator(r) for _ in range(3))[: r.randint(4, 8)]


_DISGUISES: dict[str, Callable[[random.Random, str, tuple[int, ...]], str]] = {
    "separator": lambda r, v, s: _group(v, s, _separator(r)),
    "separator every character": lambda r, v, s: _separator(r).join(v),
    "long separator (4-8 characters)": lambda r, v, s: _group(v, s, _long_separator(r)),
    "digit form": lambda r, v, s: _group(_in_forms(r, v), s, " "),
    "invisible between characters": lambda r, v, s: _hidden_between(r, _group(v, s, r.choice(["", " ", "-"]))),
    "all three": lambda r, v, s: _hidden_between(r, _group(_in_forms(r, v), s, _separator(r))),
    "mixed separators (not claimed)": lambda r, v, s: "".join(c + _separator(r) * (r.random() < 0.2) for c in v),
}


_CLASSES = {
    "CREDIT_CARD": (_card, "paid with {} today"),
    "US_SSN": (_ssn, "SSN: {} on file"),
    "IBAN_CODE": (_iban, "transfer to {} please"),
    "US_BANK_NUMBER": (_account, "account number: {}"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000, help="values per class")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    r = random.Random(args.seed)
    print(f"{'class':16s} {'disguise':30s} {'found':>7s}")
    for entity, (make, template) in _CLASSES.items():
        totals = [0, 0]
        for name, disguise in _DISGUISES.items():
            found = 0
            for _ in range(args.count // len(_DISGUISES)):
                value, sizes = make(r)
                if entity == "IBAN_CODE" and r.random() < 0.5:
                    value = value.lower()
                disguised = disguise(r, value, sizes)
                text = template.format(disguised)
                start = text.index(disguised)
                end = start + len(disguised)
                found += any(f.type == entity and f.start <= start and end <= f.end for f in scan(text))
            tried = args.count // len(_DISGUISES)
            totals[0] += found
            totals[1] += tried
            print(f"{entity:16s} {name:30s} {found / tried:7.1%}")
        print(f"{entity:16s} {'all':30s} {totals[0] / totals[1]:7.1%}")


if __name__ == "__main__":
    main()
