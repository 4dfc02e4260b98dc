"""The named fields templates write (``«card»``, ``«order»``…): what each draws and how it is labelled.

A ``Ctx`` holds one record's random generator and the people of the document (the sender and the recipient of
an e-mail, the participants of a chat), so that a greeting, a header and a signature name the same people.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.heldout import negatives as neg
from bench.heldout import phones, tokens, values
from bench.heldout.doc import Piece
from bench.heldout.names import Person, person


@dataclass
class Ctx:
    rng: random.Random
    sender: Person = field(init=False)
    recipient: Person = field(init=False)
    domain: str = field(init=False)
    vendor: tokens.Vendor = field(init=False)
    """The vendor last named by ``«vendor_var»``/``«vendor_name»``, whose token ``«vendor_value»`` writes."""

    def __post_init__(self) -> None:
        self.sender = person(self.rng)
        self.recipient = person(self.rng)
        self.domain = self.rng.choice(values.DOMAINS[:12])
        self.vendor = tokens.vendor(self.rng)

    def next_vendor(self, catalogue_only: bool = False) -> tokens.Vendor:
        self.vendor = self.rng.choice(tokens.CATALOGUE_VENDORS) if catalogue_only else tokens.vendor(self.rng)
        return self.vendor

    def pick(self, *options: str) -> str:
        return self.rng.choice(options)


def _vendor(ctx: Ctx) -> Piece:
    v = tokens.vendor(ctx.rng)
    return Piece(v.make(ctx.rng), type=v.type)


def _secret(ctx: Ctx) -> Piece:
    """Any credential: a vendor token, a generic key, a password, a JWT or a private key."""
    roll = ctx.rng.random()
    if roll < 0.55:
        return _vendor(ctx)
    if roll < 0.75:
        return Piece(values.generic_key(ctx.rng), type="API_KEY")
    return Piece(values.password(ctx.rng), type="PASSWORD")


def _non_name(ctx: Ctx) -> Piece:
    text, kind = neg.non_name(ctx.rng)
    return Piece(text, negative=kind)


def _entity(type_: str, make: Callable[[random.Random], str]) -> Callable[[Ctx], Piece]:
    return lambda ctx: Piece(make(ctx.rng), type=type_)


def _negative(kind: str, make: Callable[[random.Random], str]) -> Callable[[Ctx], Piece]:
    return lambda ctx: Piece(make(ctx.rng), negative=kind)


SLOTS: dict[str, Callable[[Ctx], Piece | str]] = {
    # people
    "person": lambda ctx: Piece(person(ctx.rng).full, type="PERSON"),
    "given": lambda ctx: Piece(person(ctx.rng).given, type="PERSON"),
    "sender": lambda ctx: Piece(ctx.sender.full, type="PERSON"),
    "sender_given": lambda ctx: Piece(ctx.sender.given, type="PERSON"),
    "recipient": lambda ctx: Piece(ctx.recipient.full, type="PERSON"),
    "recipient_given": lambda ctx: Piece(ctx.recipient.given, type="PERSON"),
    "sender_email": lambda ctx: Piece(values.email(ctx.rng, ctx.sender, ctx.domain), type="EMAIL_ADDRESS"),
    "recipient_email": lambda ctx: Piece(values.email(ctx.rng, ctx.recipient), type="EMAIL_ADDRESS"),
    "email": lambda ctx: Piece(values.email(ctx.rng, person(ctx.rng)), type="EMAIL_ADDRESS"),
    "role_email": lambda ctx: Piece(values.email(ctx.rng, None, ctx.domain), type="EMAIL_ADDRESS"),
    # financial
    "card": _entity("CREDIT_CARD", values.card),
    "card_bare": _entity("CREDIT_CARD", lambda r: values.card(r, "bare")),
    "ssn": _entity("US_SSN", values.ssn),
    "ssn_bare": _entity("US_SSN", values.ssn_digits),
    "bank": _entity("US_BANK_NUMBER", values.bank_account),
    "aba": _entity("ABA_ROUTING_NUMBER", values.aba),
    "iban": _entity("IBAN_CODE", values.iban),
    # contact and network
    "phone": _entity("PHONE_NUMBER", phones.any_phone),
    "phone_us": _entity("PHONE_NUMBER", phones.us),
    "phone_ext": _entity("PHONE_NUMBER", lambda r: phones.us(r, with_extension=True)),
    "phone_intl": _entity("PHONE_NUMBER", lambda r: phones.foreign(r, compact=False)),
    "phone_national": _entity("PHONE_NUMBER", lambda r: phones.foreign(r, compact=True)),
    "phone_e164": _entity("PHONE_NUMBER", phones.e164),
    "ipv4": _entity("IP_ADDRESS", values.ipv4),
    "ipv6": _entity("IP_ADDRESS", values.ipv6),
    "ip": _entity("IP_ADDRESS", lambda r: values.ipv4(r) if r.random() < 0.75 else values.ipv6(r)),
    # credentials
    "password": _entity("PASSWORD", values.password),
    "url_password": _entity("PASSWORD", lambda r: values.password(r, url_safe=True)),
    "api_key": _entity("API_KEY", values.generic_key),
    "vendor": _vendor,
    "vendor_var": lambda ctx: ctx.next_vendor().variable,
    "catalogue_var": lambda ctx: ctx.next_vendor(catalogue_only=True).variable,
    "vendor_key": lambda ctx: ctx.next_vendor().variable.lower(),
    "vendor_name": lambda ctx: ctx.next_vendor().name,
    "vendor_value": lambda ctx: Piece(ctx.vendor.make(ctx.rng), type=ctx.vendor.type),
    "secret": _secret,
    "jwt": _entity("JWT", tokens.jwt),
    "private_key": _entity("PRIVATE_KEY", tokens.private_key),
    "aws_id": _entity("AWS_ACCESS_KEY", tokens.CATALOGUE_VENDORS[10].make),
    "aws_secret": _entity("AWS_SECRET_KEY", tokens.CATALOGUE_VENDORS[11].make),
    # hard negatives
    "order": _negative("order_number", neg.order_number),
    "ticket": _negative("ticket_number", neg.ticket),
    "epoch": _negative("epoch_seconds", neg.epoch_seconds),
    "epoch_ms": _negative("epoch_millis", neg.epoch_millis),
    "iso": _negative("iso_timestamp", neg.iso_timestamp),
    "date": _negative("date", neg.date),
    "uuid": _negative("uuid", neg.uuid4),
    "sha": _negative("git_sha", neg.git_sha),
    "digest": _negative("hash", neg.digest),
    "version": _negative("version", neg.version),
    "price": _negative("price", neg.price),
    "zip": _negative("postal_code", neg.postal_code),
    "tracking": _negative("tracking_number", neg.tracking_number),
    "request_id": _negative("request_id", neg.request_id),
    "build": _negative("build_number", neg.build_number),
    "mac": _negative("mac_address", neg.mac_address),
    "placeholder": _negative("placeholder", neg.placeholder),
    "example_email": _negative("example_email", neg.example_email),
    "non_luhn": _negative("card_like_reference", neg.not_luhn_card_like),
    "invalid_ssn": _negative("invalid_ssn", neg.invalid_ssn),
    "non_name": _non_name,
    "city": lambda ctx: Piece(neg.non_name(ctx.rng, "city")[0], negative="city"),
    "weekday": lambda ctx: Piece(neg.non_name(ctx.rng, "weekday")[0], negative="weekday"),
    "product": lambda ctx: Piece(neg.non_name(ctx.rng, "product")[0], negative="product"),
    "company": lambda ctx: Piece(neg.non_name(ctx.rng, "company")[0], negative="company"),
    "team": lambda ctx: Piece(neg.non_name(ctx.rng, "team")[0], negative="team"),
    # unlabelled filler
    "host": lambda ctx: ctx.pick(
        "db-primary.internal",
        "pg-prod-2",
        "10-0-4-17.svc",
        "mysql.payments.svc",
        "cache01",
        "rabbit.ops.local",
        "db.lan",
        "warehouse-ro",
    ),
    "dbname": lambda ctx: ctx.pick("app", "billing", "orders_prod", "crm", "analytics", "ledger"),
    "user": lambda ctx: ctx.pick("app", "svc_billing", "deploy", "etl_reader", "admin", "postgres", "root"),
    "int": lambda ctx: str(ctx.rng.randint(1, 99)),
    "count": lambda ctx: str(ctx.rng.randint(2, 400)),
    "ms": lambda ctx: str(ctx.rng.randint(3, 2400)),
    "status": lambda ctx: ctx.pick("200", "201", "204", "301", "400", "401", "403", "404", "500", "502"),
    "env": lambda ctx: ctx.pick("prod", "production", "staging", "stage", "dev", "qa", "sandbox"),
}
"""Each slot's generator; entity slots carry their type, negative slots their kind, filler neither."""
