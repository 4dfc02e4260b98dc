"""The built-in PERSON detector: names where a cue says one is there, and nothing where none does."""

from __future__ import annotations

import pytest

from clearance.config import parse_config
from clearance.detect.builtin.person import PersonDetector
from clearance.detect.scanner import Scanner
from tests.detect.helpers import found

DETECTOR = PersonDetector()
SCANNER = Scanner()


def names(text: str) -> list[str]:
    """The PERSON values the default scanner reports (threshold, context rules and all)."""
    return [text[f.start : f.end] for f in SCANNER.scan(text) if f.type == "PERSON"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # greetings and titles
        ("Hi Priya,\nthe report is late.", ["Priya"]),
        ("Dear Dr. Okafor, please find attached", ["Okafor"]),
        ("Hello Mr. van der Berg, welcome", ["van der Berg"]),
        ("Hey Wei! is prod frozen?", ["Wei"]),
        ("Hi Priya and Raj!", ["Priya", "Raj"]),
        ("Good morning Siobhán,", ["Siobhán"]),
        ("Sehr geehrte Frau Müller,", ["Müller"]),
        ("Bonjour Mme Lefèvre, votre commande", ["Lefèvre"]),
        ("Estimada Sra. García:", ["García"]),
        ("Olá Conceição,", ["Conceição"]),  # letters outside ASCII in the cue word and the name
        ("Chère Amélie, merci", ["Amélie"]),
        ("Dear Ólafur Ragnar Grímsson,", ["Ólafur Ragnar Grímsson"]),
        ("Hi PRIYA,", ["PRIYA"]),
        # sign-offs
        ("Thanks, Wei", ["Wei"]),
        ("Best regards,\nMaría José Ortega-López", ["María José Ortega-López"]),
        ("Cheers,\n\u2014 Sam", ["Sam"]),
        ("Kind regards,\n\nAmina Yusuf\nClinic reception", ["Amina Yusuf"]),
        ("Mit freundlichen Grüßen\nJürgen Weiß", ["Jürgen Weiß"]),
        # mail headers and quoted replies
        ("From: Jane Doe <jane@acme.io>", ["Jane Doe"]),
        ('To: "Doe, Jane" <jd@acme.io>, Bob Li <bob@acme.io>', ["Doe, Jane", "Bob Li"]),
        ("Cc: Lena Fischer", ["Lena Fischer"]),
        ("Reply-To: Chinedu Okonkwo (c.okonkwo@mailhost.net)", ["Chinedu Okonkwo"]),
        ("Reviewed-by: Jane Doe <jane@x.org>", ["Jane Doe"]),
        ("FROM: JANE DOE", ["JANE DOE"]),
        ("On Mon, 3 Jun 2024 at 10:02, Sean O'Brien <sean@obrien.ie> wrote:\n> hi", ["Sean O'Brien"]),
        ("Kenji Watanabe wrote:\n> green again", ["Kenji Watanabe"]),
        # transcripts
        (
            "[10:02] alice.smith: deploy?\n[10:03] bob: yes\n[10:04] alice.smith: thx",
            ["alice.smith", "bob", "alice.smith"],
        ),
        ("Priya Patel: charged twice\nAgent: checking\nPriya Patel: ok", ["Priya Patel", "Priya Patel"]),
        # prose
        ("hi, my name is Kwame Mensah and I need help", ["Kwame Mensah"]),
        ("This is Ingrid from billing", ["Ingrid"]),
        ("I'm Diego, the new on-call engineer", ["Diego"]),
        ("I spoke with Siobhán Ní Bhriain yesterday", ["Siobhán Ní Bhriain"]),
        ("ticket assigned to J. R. Smith", ["J. R. Smith"]),
        ("Signed by Élodie Dubois", ["Élodie Dubois"]),
        ("patient Mohammed Rahman, admitted", ["Mohammed Rahman"]),
        ("the customer Wei Zhang called twice", ["Wei Zhang"]),
        ("customer: Wei Zhang", ["Wei Zhang"]),
        # fields
        ('{"full_name": "Fatima al-Hassan", "email": "f@mail.org"}', ["Fatima al-Hassan"]),
        ('{"firstName": "Ana", "lastName": "Silva"}', ["Ana", "Silva"]),
        ('{"customer": "Lee Min-jun", "order_id": "ORD-9"}', ["Lee Min-jun"]),
        ("assignee: Olga Ivanova\nstatus: open", ["Olga Ivanova"]),
        ('level=info user_display_name="Carlos Mendes" ip=x', ["Carlos Mendes"]),
        ("name=Jane Doe level=info", ["Jane Doe"]),
        ('{"customer": {"id": 4, "name": "Jane"}}', ["Jane"]),
        ("Vorname: Jürgen\nNachname: Weiß", ["Jürgen", "Weiß"]),
        ('{"full_name": "王伟"}', ["王伟"]),  # scripts without capitals: short words after a strong cue
        ('{"customer": "محمد عبد الله"}', ["محمد عبد الله"]),
        ('{"contact": "Wei Zhang', ["Wei Zhang"]),  # a streamed answer released up to here
        # cells under a header that says name
        ("customer_name,email\nZanele Dlamini,z@mail.org", ["Zanele Dlamini"]),
        ("| Name | Amount |\n|---|---|\n| Ana Silva | 12 |", ["Ana Silva"]),
    ],
)
def test_when_a_cue_says_a_name_is_there_then_the_name_is_found(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hi there,\nthanks for reaching out.",
        "Dear Customer, your order 100234 has shipped.",
        "Dear Valued Member,",
        "Regards,\nThe Acme Team",
        "Thanks, Support Team",
        "Hello World example in Python 3.12",
        "Hello Kubernetes Fans!",
        "Best Practices for Kubernetes",
        "Good morning team, standup in 5",
        "Thanks everyone for joining on Monday.",
        "To: All Staff <staff@acme.io>",
        "From: GitHub <noreply@github.com>",
        "From: noreply@alerts.example.net",
        "This is Spotify.",
        "I am Running late",
        # ids, numbers, versions, hosts, files and logins are never a name's shape
        '{"name": "payments-api", "version": "3.2.1"}',
        '{"product": {"name": "Widget Pro", "sku": "WP-100"}}',
        '{"name": "Widget"}',
        "hostname: Build Server\nfilename: Annual Report\nusername: Jane Doe",
        "owner: Platform Team",
        "Note: restart\nWarning: disk low\nNote: done",
        "[12:01:03] Worker: started\n[12:01:04] Worker: stopped",
        "Name: Jane\nEmail: x",  # distinct keys, no transcript; a single word under a bare name key
        "city,country\nLisbon,Portugal\nNairobi,Kenya",
        "Lisbon, Portugal",
        "order_id,sku,price\n100234,WX-11,19.99",
        "uuid 3f2b1c9e-8a7d-4e6f-9b0a-1c2d3e4f5a6b at 1717243200123",
        "Hi {{first_name}},",
        "Dear <NAME>,",
        "customer ID: 12345",  # an acronym
        "Customer Portal login",  # a title: the role word is capitalised too
        "the Employee Handbook",
        "escalated to Tier 2",  # a label of a number
        "Sunset Dr Suite 200",
        "客户王伟说他的订单还没有到\uff0c请帮忙查一下",  # a sentence of a script without capitals is no name
    ],
)
def test_when_no_name_is_there_then_nothing_is_reported(text: str) -> None:
    assert names(text) == []


def test_when_a_column_header_holds_a_person_word_then_its_name_shaped_cells_are_names() -> None:
    table = 'id,who,city\n7,Wei Zhang,Lisbon\n8,"Okafor, Folake",Lagos\n9,wei@x.org,Oslo'
    assert [(table[f.start : f.end], f.score) for f in found(DETECTOR, table)] == [
        ("Wei Zhang", DETECTOR.cell_score),
        ("Okafor, Folake", DETECTOR.cell_score),
    ]
    assert names("| Account holder | Balance |\n|---|---|\n| 1 | 2 |\n| Declan MacLeod | 3 |") == ["Declan MacLeod"]
    assert names("id,company,city\n7,Wei Zhang,Lisbon") == []  # no person column


def test_when_a_bare_name_field_follows_a_word_of_a_thing_then_it_is_not_reported() -> None:
    assert names('{"id": 4, "name": "Jane Doe"}') == ["Jane Doe"]
    assert names('{"service": {"name": "Jane Doe"}}') == []


def test_when_a_name_crosses_lines_then_only_its_line_is_read() -> None:
    assert names("Hi Priya\nPatel said hi") == ["Priya"]


@pytest.mark.parametrize(
    "text",
    [
        "Hi Priya,",
        "Regards,\nSam",
        "From: Jane Doe <jane@acme.io>",
        '{"full_name": "Jane Doe"}',
        "[10:02] alice.smith: a\n[10:03] alice.smith: b",
    ],
)
def test_when_person_is_disabled_then_no_name_is_reported(text: str) -> None:
    scanner = Scanner.from_config(parse_config({"detection": {"disabled": ["person"]}}))
    assert names(text)
    assert [f for f in scanner.scan(text) if f.type == "PERSON"] == []


def test_when_a_text_has_no_cue_then_the_detector_is_not_run() -> None:
    assert DETECTOR not in Scanner([DETECTOR])._triggers.select("plain words only 12345 here")
    assert SCANNER.scan("plain words only, 12345 here") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[09:15] <Eleanor> who has the creds?\n[09:16] <Pavel> I do", ["Eleanor", "Pavel"]),
        ("Walid Jaber  10:51 AM\nrerunning the build now", ["Walid Jaber"]),
        ("thanks Harish! rerunning build #43295 now", ["Harish"]),
        ("Bitte nicht weitergeben. Gruß, Agnieszka\n", ["Agnieszka"]),
        ("// scripts/check-env.js (run by Harish)", ["Harish"]),
        ("Your agent Rajesh Nair promised a refund", ["Rajesh Nair"]),
        ("[2018-12-19 19:55:57] Visitor: hi\n[2018-12-19 19:56:01] Visitor: hello?", []),
    ],
)
def test_when_a_chat_or_a_note_names_its_people_then_they_are_found(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def _scanned_names(text: str) -> list[str]:
    return [text[f.start : f.end] for f in Scanner().scan(text) if f.type == "PERSON"]


@pytest.mark.parametrize(
    "text",
    [
        # "app" is a word of a thing (a negative context word); the login beside the name outweighs it
        '{"data":{"viewer":{"login":"app","name":"Dmitri Kovačević","email":"y.haddad@example.org"}}}',
        '{"team": "core", "members": [{"username": "mjovanovic", "name": "Marek Jovanović"}]}',
        "service: billing\nowner:\n  dob: 1990-04-02\n  name: Ana Silva\n",
        '{"app": "crm", "user": {"name": "Wei Zhang", "avatar_url": "https://cdn.example.org/a/41.png"}}',
        '{"project": "x", "lead": {"job_title": "Nurse", "name": "Folake Okafor"}}',
    ],
)
def test_when_a_bare_name_field_has_keys_of_a_person_beside_it_then_it_is_a_name(text: str) -> None:
    assert len(_scanned_names(text)) == 1


@pytest.mark.parametrize(
    "text",
    [
        '{"product": {"name": "Widget Pro", "sku": "A-1", "login_required": true}}',
        # a person's key in another object does not describe this one
        '{"owner": {"login": "app"}, "repo": {"project name": "Northwind Portal", "stars": 12}}',
        '{"owner": {"login": "octo"}, "service": {"name": "Northwind Portal", "port": 8080}}',
    ],
)
def test_when_a_bare_name_field_has_no_person_key_in_its_object_then_it_is_not_a_name(text: str) -> None:
    assert _scanned_names(text) == []
