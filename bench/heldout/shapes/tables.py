"""Tabular exports: CSV/TSV/semicolon files with headers, Markdown and psql/ASCII tables, JSON arrays, key=value
log lines. The header of a column is the only thing that says what its values are."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from bench.heldout.doc import DocBuilder, Piece
from bench.heldout.names import person
from bench.heldout.slots import SLOTS, Ctx
from bench.heldout.template import Template


@dataclass(frozen=True, slots=True)
class Column:
    headers: tuple[str, ...]
    """Spellings seen in the wild; one is drawn per document."""
    cell: Callable[[Ctx], Piece | str]


def slot(name: str) -> Callable[[Ctx], Piece | str]:
    return SLOTS[name]


def amount(ctx: Ctx) -> Piece:
    return Piece(f"{ctx.rng.randint(100, 9_999_999) / 100:.2f}", negative="price")


def ssn_cell(ctx: Ctx) -> Piece | str:
    return SLOTS["ssn_bare"](ctx) if ctx.rng.random() < 0.6 else SLOTS["ssn"](ctx)


def created(ctx: Ctx) -> Piece | str:
    return SLOTS[ctx.pick("epoch_ms", "epoch_ms", "epoch", "iso")](ctx)


def status(ctx: Ctx) -> str:
    return ctx.pick("active", "closed", "pending", "ACTIVE", "frozen", "open")


def phone_cell(ctx: Ctx) -> Piece | str:
    return SLOTS[ctx.pick("phone", "phone_national", "phone_us", "phone_e164")](ctx)


def given(ctx: Ctx) -> Piece:
    return Piece(person(ctx.rng).given, type="PERSON")


def family_name(ctx: Ctx) -> Piece:
    return Piece(person(ctx.rng).family, type="PERSON")


def reversed_name(ctx: Ctx) -> Piece:
    p = person(ctx.rng)
    return Piece(p.reversed if ctx.rng.random() < 0.3 else p.full, type="PERSON")


ACCOUNT = Column(("acct_no", "AccountNumber", "Account #", "bank_account", "account_number", "Acct Number",
                  "checking_acct", "DDA Account", "acct"), slot("bank"))  # fmt: skip
ROUTING = Column(("routing", "RoutingNumber", "ABA", "routing_no", "Routing #", "rtn", "aba_number"), slot("aba"))
SSN = Column(("SSN", "social_security_number", "ssn", "Social Security #", "SocSecNo", "ssn_tin", "SSN/TIN"), ssn_cell)
NAME = Column(("Customer Name", "full_name", "name", "Cardholder", "employee_name", "Contact", "account_holder",
               "CustomerName", "Name"), reversed_name)  # fmt: skip
FIRST = Column(("first_name", "FirstName", "given_name", "First"), given)
LAST = Column(("last_name", "LastName", "surname", "Last"), family_name)
PHONE = Column(("phone", "Phone Number", "mobile", "tel", "contact_phone", "Work Phone", "PhoneNumber"), phone_cell)
PHONE_EXT = Column(("phone", "Direct Line", "office_phone", "Desk"), slot("phone_ext"))
EMAIL = Column(("email", "Email Address", "e-mail", "contact_email", "EmailAddress"), slot("email"))
CARD = Column(("card_number", "CardNumber", "PAN", "cc", "Card #", "payment_card", "cc_number"), slot("card"))
CREATED = Column(("created_at", "CreatedAt", "timestamp", "event_ts", "created", "updated_at"), created)
ORDER = Column(("order_id", "OrderID", "Order #", "order_no", "invoice_no", "Invoice"), slot("order"))
AMOUNT = Column(("amount", "Amount", "total", "Total (USD)", "balance", "amount_usd"), amount)
IBAN = Column(("iban", "IBAN", "Bankverbindung (IBAN)", "account_iban"), slot("iban"))
IP = Column(("ip", "client_ip", "last_login_ip", "src_ip", "remote_addr"), slot("ip"))
ZIP = Column(("zip", "postal_code", "ZIP", "PLZ", "postcode"), slot("zip"))
CITY = Column(("city", "City", "branch"), slot("city"))
UUID = Column(("id", "uuid", "customer_id", "record_id"), slot("uuid"))
STATUS = Column(("status", "Status", "state"), status)
TRACKING = Column(("tracking", "tracking_no", "Shipment"), slot("tracking"))
TICKET = Column(("ticket", "Ticket", "case_id"), slot("ticket"))
COMPANY = Column(("company", "Company", "account_name", "employer"), slot("company"))
VERSION = Column(("app_version", "client_version", "agent_version"), slot("version"))


def csv_cell(piece: Piece | str, sep: str) -> tuple[str, Piece | str, str]:
    text = piece if isinstance(piece, str) else piece.text
    if sep in text or '"' in text or (sep != "\t" and "," in text):
        return '"', piece, '"'
    return "", piece, ""


def delimited(sep: str) -> Callable[[Ctx, DocBuilder, list[str], list[list[Piece | str]]], None]:
    def render(ctx: Ctx, d: DocBuilder, header: list[str], rows: list[list[Piece | str]]) -> None:
        d.text(sep.join(header) + "\n")
        for row in rows:
            for i, cell in enumerate(row):
                if i:
                    d.text(sep)
                before, piece, after = csv_cell(cell, sep)
                d.text(before)
                d.put(piece)
                d.text(after)
            d.text("\n")

    return render


def width(cell: Piece | str) -> int:
    return len(cell if isinstance(cell, str) else cell.text)


def markdown(ctx: Ctx, d: DocBuilder, header: list[str], rows: list[list[Piece | str]]) -> None:
    d.text("| " + " | ".join(header) + " |\n|" + "|".join("---" for _ in header) + "|\n")
    for row in rows:
        d.text("|")
        for cell in row:
            d.text(" ")
            d.put(cell)
            d.text(" |")
        d.text("\n")


def psql(ctx: Ctx, d: DocBuilder, header: list[str], rows: list[list[Piece | str]]) -> None:
    widths = [max([len(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(header)]
    d.text(" " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "\n")
    d.text("-" + "-+-".join("-" * w for w in widths) + "-\n")
    for row in rows:
        for i, cell in enumerate(row):
            d.text(" " if i == 0 else " | ")
            d.put(cell)
            d.text(" " * (widths[i] - width(cell)))
        d.text("\n")
    d.text(f"({len(rows)} rows)\n")


def ascii_box(ctx: Ctx, d: DocBuilder, header: list[str], rows: list[list[Piece | str]]) -> None:
    widths = [max([len(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(header)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"
    d.text(rule + "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |\n" + rule)
    for row in rows:
        d.text("|")
        for i, cell in enumerate(row):
            d.text(" ")
            d.put(cell)
            d.text(" " * (widths[i] - width(cell)) + " |")
        d.text("\n")
    d.text(rule)


def json_array(ctx: Ctx, d: DocBuilder, header: list[str], rows: list[list[Piece | str]]) -> None:
    d.text("[\n")
    for n, row in enumerate(rows):
        d.text("  {")
        for i, (key, cell) in enumerate(zip(header, row, strict=True)):
            d.text(", " if i else "")
            d.text(json.dumps(key) + ": ")
            text = cell if isinstance(cell, str) else cell.text
            quoted = json.dumps(text, ensure_ascii=False)
            if quoted == f'"{text}"':
                d.text('"')
                d.put(cell)
                d.text('"')
            else:
                d.text(quoted)  # a value JSON must escape is written whole and unlabelled: none of ours are
        d.text("}" + (",\n" if n < len(rows) - 1 else "\n"))
    d.text("]\n")


def key_value_log(ctx: Ctx, d: DocBuilder, header: list[str], rows: list[list[Piece | str]]) -> None:
    keys = [h.replace(" ", "_").replace("#", "no").lower() for h in header]
    for row in rows:
        d.put(SLOTS["iso"](ctx))
        d.text(f" {ctx.pick('INFO', 'INFO', 'DEBUG')}  export ")
        for i, (key, cell) in enumerate(zip(keys, row, strict=True)):
            d.text((" " if i else "") + key + "=")
            text = cell if isinstance(cell, str) else cell.text
            quote = '"' if " " in text else ""
            d.text(quote)
            d.put(cell)
            d.text(quote)
        d.text("\n")


Renderer = Callable[[Ctx, DocBuilder, list[str], list[list[Piece | str]]], None]


def table(name: str, render: Renderer, columns: tuple[Column, ...], intro: str = "") -> Template:
    def write(ctx: Ctx, d: DocBuilder) -> None:
        header = [ctx.rng.choice(c.headers) for c in columns]
        rows = [[c.cell(ctx) for c in columns] for _ in range(ctx.rng.randint(3, 9))]
        if intro:
            d.text(intro)
        render(ctx, d, header, rows)

    return Template("table", name, write)


TEMPLATES: tuple[Template, ...] = (
    table("csv-bank-export", delimited(","), (UUID, NAME, ACCOUNT, ROUTING, AMOUNT, CREATED)),
    table("tsv-payroll", delimited("\t"), (ORDER, FIRST, LAST, SSN, ACCOUNT, ROUTING, PHONE)),
    table("markdown-customers", markdown, (NAME, EMAIL, PHONE, CITY, ZIP),
          "Here are the customers from the export:\n\n"),
    table("psql-accounts", psql, (UUID, NAME, ACCOUNT, IBAN, CREATED), "app=> select * from accounts limit 8;\n"),
    table("json-customers", json_array, (UUID, NAME, EMAIL, PHONE, CARD, IP)),
    table("kv-payments", key_value_log, (ORDER, CARD, AMOUNT, IP, STATUS)),
    table("csv-orders-cards", delimited(","), (ORDER, NAME, CARD, AMOUNT, CREATED, TRACKING)),
    table("semicolon-iban", delimited(";"), (NAME, IBAN, PHONE, EMAIL, AMOUNT)),
    table("ascii-hr", ascii_box, (NAME, SSN, PHONE_EXT, CREATED)),
    table("csv-leads", delimited(","), (FIRST, LAST, EMAIL, PHONE, COMPANY, CITY)),
    table("json-accounts", json_array, (NAME, ACCOUNT, ROUTING, AMOUNT, STATUS)),
    table("markdown-incidents", markdown, (TICKET, NAME, IP, CREATED, VERSION),
          "### Incident log\n\n"),
    table("tsv-support", delimited("\t"), (TICKET, NAME, EMAIL, PHONE_EXT, CREATED)),
    table("kv-kyc", key_value_log, (UUID, NAME, SSN, ACCOUNT, IP)),
    table("psql-cards", psql, (ORDER, CARD, NAME, AMOUNT, ZIP)),
    table("csv-ssn-roster", delimited(","), (ORDER, NAME, SSN, EMAIL, ZIP)),
)  # fmt: skip
