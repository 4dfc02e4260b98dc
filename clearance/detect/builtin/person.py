"""PERSON: people's names where the text says a name is there.

No dictionary of names and no statistical model (that is the NER plug-in, ``clearance.detect.ner``): a *cue* says
a name follows or precedes, and the name's *shape* (``clearance.detect.names``) says where it ends. The cues:

- greetings (``Hi Priya,``, ``Dear Dr. Okafor``, ``Hello Mr. van der Berg``; the name must end the greeting) and
  titles (``Mr``, ``Mrs``, ``Ms``, ``Mx``, ``Dr``, ``Prof``, ``Sir``, ``Herr``, ``Frau``, ``Sr.``, ``Sra.``,
  ``M.``, ``Mme``);
- sign-offs, the name ending the line or on the next (``Thanks, Wei``, ``Best regards,\\nMaría José
  Ortega-López``, ``Cheers,\\n— Sam``);
- mail headers (``From: Jane Doe <jane@x.com>``, ``To:``, ``Cc:``, ``Reply-To:``, ``"Doe, Jane" <…>``) and
  quoted replies (``On Mon, … Jane Doe <jane@x.com> wrote:``);
- speaker labels at the start of the lines of a transcript (``Priya Patel: …``, ``[10:02] alice.smith: …``): a
  label counts when a speaker speaks twice, so a list of ``Key: value`` lines is no transcript;
- prose (``my name is``, ``I'm … from``, ``spoke with``, ``assigned to``, ``signed by``, ``patient``,
  ``customer``);
- fields whose key says name (JSON, YAML, ``key=value``: ``name``, ``full_name``, ``firstName``, ``customer``,
  ``assignee``…) but not ``hostname``, ``filename`` or other ``…name`` keys of things, nor logins (``username``,
  ``login``: an account, not a name); a bare ``name`` scores lower, so that a negative word before it
  (``product``, ``company``, ``file``: context rules) puts it under the threshold;
- table cells and delimited fields holding only a name's shape: weak candidates that a header or a word before
  them (``customer``, ``name``: context rules) must confirm.

Every cue is found in one RE2 pass; the shape is read in Python at each cue only, so a text without cues pays for
the trigger pass and nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import re2

from clearance.detect.base import Detector, Document
from clearance.detect.exclusions import re2_options
from clearance.detect.names import is_name, name_before, read_name
from clearance.models import Finding

_TITLES = r"(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Herr|Frau|Sr|Sra|Srta|Mme|Mlle|Dott|Dra)\.?|M\."
_GREETINGS = (
    r"hi|hello|hey|hiya|howdy|dear|greetings|good (?:morning|afternoon|evening|day)|bonjour|hola|hallo|ciao|"
    r"ol[a?]|salut|hej|moin|servus|buongiorno|liebe[rs]?|cher|ch[e?]re|querid[oa]|estimad[oa]|"
    r"thanks|thank you|thx|cheers"
)
_SIGNOFFS = (
    r"thanks(?: again| so much| a lot)?|thank you(?: so much)?|many thanks|thx|cheers|best|all the best|"
    r"best wishes|(?:best|kind|warm|warmest) regards|regards|sincerely|yours sincerely|sincerely yours|yours truly|"
    r"respectfully|talk soon|take care|br|rgds|cordialement|bien [a?] vous|saludos|un saludo|atentamente|"
    r"(?:mit freundlichen|viele|liebe|beste) gr[u?](?:\?|ss)en?|gr[u?](?:\?|ss)e|gru(?:\?|ss)|mfg|groeten|"
    r"met vriendelijke groet|saluti|cordiali saluti|atenciosamente|abra[?z]os"
)
_PROSE = (
    r"my name is|my name's|i am|i'm|i\?m|this is|spoke (?:with|to)|speaking (?:with|to)|talked (?:to|with)|"
    r"talking to|(?:re)?assigned to|signed(?: off)? by|approved by|reported by|requested by|submitted by|"
    r"escalated to|(?:run|created|written|maintained|owned|authored|modified|updated|edited|sent|filed|opened|"
    r"closed|raised|logged|entered|prepared|led|handled) by|patient|customer|client|employee|tenant|applicant|"
    r"cardholder|agent|colleague|representative|rep|technician|supervisor|coordinator|recruiter|landlord|"
    r"courier|driver|nurse|doctor|advisor|adviser"
)
# The cues are found in ``Document.ascii`` (one byte per character, every other character a ``?``): RE2 reads bytes
# without decoding them and its offsets are the text's, so a ``?`` stands for any letter outside ASCII (Python then
# reads the name in the text itself). One alternative per cue kind, each one capturing group (its index is the
# kind); leftmost-first, so at one position a header wins over a speaker label.
_GREETING, _TITLE, _SIGNOFF, _HEADER, _WROTE, _SPEAKER, _PROSE_CUE, _NICK, _SLACK = range(1, 10)
_CUES = "|".join(
    (
        rf"(?i:\b({_GREETINGS})[ \t]+)",
        rf"\b((?:{_TITLES})[ \t]+)[A-Za-z?]",
        rf"(?im:(?:^|[.!?][ \t]+)([ \t>]*(?:{_SIGNOFFS})[ \t]*[,.!]?[ \t]*(?:\r?\n[ \t>]*){{0,2}}"
        r"(?:[-?~]+[ \t]*)?))[A-Z?]",
        r"(?im:^([ \t>*]*(?:from|to|cc|bcc|reply-to|sender|attendees|organi[sz]er|author|committer|"
        r"(?:reviewed|signed-off|co-authored|acked|tested|reported|suggested)-by)[ \t]*:[ \t]*))",
        r"(?i:(wrote|writes|schrieb|escribi\?|a \?crit|escreveu|scrisse)[ \t]*:)",
        r"(?m:^([ \t]*(?:\[[^\]\n]{0,30}\d:\d\d[^\]\n]{0,30}\][ \t]*|\d{1,2}:\d\d(?::\d\d)?[ \t]+)?)"
        r"[A-Za-z?][A-Za-z?'.\-]*(?: [A-Za-z?'.\-]+){0,3}:[ \t])",
        rf"(?i:\b({_PROSE}))[ \t]*:?[ \t]+[A-Z?]",
        # IRC: "[09:16] <Pavel> text"; a chat export: "Walid Jaber  10:51 AM" alone on its line
        r"(?m:^[ \t]*(?:\[[^\]\n]{0,40}\][ \t]*|\d{1,2}:\d\d(?::\d\d)?[ \t]+)?<([A-Za-z?][A-Za-z?'. \-]{0,40})>)",
        r"(?m:^([A-Z?][A-Za-z?'.\-]*(?: [A-Za-z?'.\-]+){0,3})[ \t]{1,4}\d{1,2}:\d\d(?:[ \t]?[AaPp][Mm])?[ \t]*\r?$)",
    )
).encode()
_FIELD_KEY = re2.compile(
    rb"(name|customer|contact|owner|assignee|author|sender|recipient|employee|patient|reporter|requester|holder|"
    rb"client|member|manager|surname|nom|nombre|apellidos?)[\"']?[ \t]*(?:[:=]|=>)",
    re2_options(),
)
"""Over the lower-cased ``Document.ascii``: the word a key that says name ends with (``…name`` also covers
``first_name``, ``Vorname``, ``display_name``), then an assignment."""
_PERSON_PREFIXES = frozenset(
    {"", "full", "first", "last", "given", "family", "middle", "sur", "fore", "legal", "real", "preferred", "maiden",
     "display", "userdisplay", "person", "vor", "nach", "christian", "birth", "contact", "customer", "client",
     "employee", "patient", "owner", "author", "sender", "recipient", "holder", "cardholder", "accountholder",
     "member", "applicant", "tenant", "guest", "passenger", "driver", "beneficiary", "manager", "agent", "signer",
     "emergencycontact", "parent", "guardian", "spouse", "doctor", "physician", "teacher", "student", "reporter",
     "assignee", "requester", "reviewer", "approver"}
)  # fmt: skip
"""What may come before ``name`` in a key (``first_name``, ``customer_name``): other ``…name`` keys name things."""
_ROLE_NOUNS = frozenset(
    {"patient", "customer", "client", "employee", "tenant", "applicant", "cardholder", "agent", "colleague",
     "representative", "rep", "technician", "supervisor", "coordinator", "recruiter", "landlord", "courier",
     "driver", "nurse", "doctor", "advisor", "adviser"}
)  # fmt: skip
"""Prose cues that are nouns: they count only written in lower case ("the customer Wei Zhang")."""
_LOGINS = frozenset({"username", "login", "loginname", "userid", "handle", "nickname", "screenname", "accountname"})
_DELIMITERS = ",|\t;"
_PERSON_HEADER_WORDS = (
    "name", "customer", "contact", "employee", "patient", "person", "owner", "author", "client", "member", "user",
    "assignee", "sender", "recipient", "attendee", "passenger", "applicant", "holder", "manager", "agent", "staff",
    "student", "guest", "who",
)  # fmt: skip
"""Words of a column's header that make its name-shaped cells worth proposing (as substrings: ``customer_name``)."""
_STACKED = r"[,|\t;][^\n]*\n[^\n]*[,|\t;]"
"""A delimited line under another: there may be a table."""
_STACKED_ROWS = re2.compile(_STACKED.encode(), re2_options())
_HEADER_WORD = re.compile("|".join(_PERSON_HEADER_WORDS))
"""Any person word of a header, as a substring (as ``_person_columns`` reads them)."""
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_HANDLE = re.compile(r"[a-z]{2,20}(?:[._][a-z]{2,20})?", re.ASCII)


def _cues() -> Any:
    return re2.compile(_CUES, re2_options())


class PersonDetector(Detector):
    name = "person"
    types = frozenset({"PERSON"})
    # Cheap supersets of what ``find`` reads (literal words, no Unicode classes: those cost the shared trigger pass
    # more than the rest of the detectors together): a cue word, a ``:`` or ``=`` that may end a header, a speaker
    # label or a key, a delimited line under another (a table's row).
    triggers: tuple[str, ...] = (
        # the cue words, a ``?`` of the byte patterns (a letter outside ASCII) as any character
        "(?i)\\b(?:" + f"{_GREETINGS}|{_PROSE}".replace("[a?]", ".").replace("[e?]", ".").replace("\\?", ".") + ")",
        r"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Herr|Frau|Sr|Sra|Srta|Mme|Mlle|Dott|Dra|M)\.?[ \t]",
        # (?i) only on ASCII: folding ü and ß makes the shared automaton larger; "gr" with ü or u is a superset
        r"(?i:thank|thx|cheers|best|regards|sincerely|yours|respectfully|talk soon|take care|br|rgds|cordialement|"
        r"bien|saludo|atentamente|mfg|groet|saluti|atenciosamente|abra|gru)|(?i:gr)[\x{fc}\x{dc}]",
        r"(?i)(?:wrote|writes|schrieb|escribió|a écrit|escreveu|scrisse)[ \t]*:",
        r"[:=]",
        _STACKED,
        r"<[^<>\n]{1,41}>",
        r"\d:\d\d",
    )
    greeting_score = 0.8
    title_score = 0.85
    signoff_score = 0.8
    header_score = 0.85
    bare_header_score = 0.7
    wrote_score = 0.8
    speaker_score = 0.75
    prose_score = 0.7
    field_score = 0.85
    bare_name_field_score = 0.3
    """A bare ``name`` key names things too: with the ``name`` context word (0.25) a value still passes, a word of
    a thing before it (``product``: -0.4) puts it under; a single word needs a person word near it."""
    bare_single_name_score = 0.2
    cell_score = 0.6
    """A cell in a column whose header holds a person word: the header is the cue, as a key is a field's."""

    def __init__(self) -> None:
        self._cues = _cues()

    def find(self, doc: Document) -> Iterator[Finding]:
        found: dict[tuple[int, int], float] = {}
        text = doc.text
        speakers: list[tuple[int, int, str, bool]] = []
        data = doc.ascii
        for match in self._cues.finditer(data):
            self._cue(text, match, found, speakers)
        if speakers:
            self._speakers(speakers, found)
        self._fields(text, data.lower(), doc.lower, found)
        if "," in text or "|" in text or "\t" in text or ";" in text:
            self._cells(text, data, found)
        for (start, end), score in sorted(found.items()):
            yield Finding(start, end, "PERSON", score, self.name)

    @staticmethod
    def _add(found: dict[tuple[int, int], float], span: tuple[int, int], score: float) -> None:
        if span[1] > span[0] and found.get(span, 0.0) < score:
            found[span] = score

    def _cue(
        self, text: str, match: Any, found: dict[tuple[int, int], float], speakers: list[tuple[int, int, str, bool]]
    ) -> None:
        kind: int = match.lastindex
        end: int = match.end(kind)
        if kind == _GREETING:
            self._greeting(text, match.end(), found)
        elif kind == _TITLE:
            self._add(found, read_name(text, end), self.title_score)
        elif kind == _SIGNOFF:
            self._signoff(text, text[match.start(kind) : end], end, found)
        elif kind == _HEADER:
            self._header(text, end, found)
        elif kind == _WROTE:
            self._add(found, name_before(text, _before_address(text, match.start(kind))), self.wrote_score)
        elif kind == _SPEAKER:
            label_start = end
            label_end = text.index(":", label_start)
            label = text[label_start:label_end].rstrip(" \t")
            stamped = any(c.isdigit() for c in text[match.start(kind) : end])
            speakers.append((label_start, label_start + len(label), label, stamped))
        elif kind == _PROSE_CUE:
            self._prose(text, text[match.start(kind) : end], match.end() - 1, found)
        else:  # an IRC nick or a chat export's speaker line: a speaker, whatever else the text holds
            start = match.start(kind)
            label = text[start:end]
            if is_name(label) or _HANDLE.fullmatch(label) is not None:
                self._add(found, (start, end), self.speaker_score)

    def _greeting(self, text: str, pos: int, found: dict[tuple[int, int], float]) -> None:
        """``Hi Priya,``; ``Hello Mr. van der Berg``; ``Hi Priya and Raj!``: each name must end the greeting."""
        spans: list[tuple[int, int]] = []
        while True:
            span = read_name(text, pos)
            if span[1] == span[0]:
                return
            spans.append(span)
            after = span[1]
            while after < len(text) and text[after] in " \t":
                after += 1
            for joiner in ("and ", "& ", "und ", "et ", "y "):
                if text.startswith(joiner, after):
                    pos = after + len(joiner)
                    break
            else:
                if after == len(text) or text[after] in ",!.:;\r\n(-\u2014\u2013":
                    for s in spans:
                        self._add(found, s, self.greeting_score)
                return

    def _signoff(self, text: str, cue: str, pos: int, found: dict[tuple[int, int], float]) -> None:
        """``Best regards,\\nMaría``, ``Thanks, Wei``: the name ends its line. Without punctuation or a line break
        after the sign-off (``Best Practices``), only a thanks followed by a name that ends there counts."""
        span = read_name(text, pos)
        if span[1] == span[0] or not _ends_line(text, span[1]):
            return
        if not any(c in cue for c in ",.!\n-\u2014\u2013~"):
            word = cue.strip(" \t>").lower()
            if not word.startswith(("thank", "cheers", "thx")):
                return
        self._add(found, span, self.signoff_score)

    def _header(self, text: str, pos: int, found: dict[tuple[int, int], float]) -> None:
        """The names of a header's addresses: ``Jane Doe <jane@x.com>, "Doe, Jane" <…>``, or names alone."""
        line_end = text.find("\n", pos)
        if line_end < 0:
            line_end = len(text)
        while pos < line_end:
            while pos < line_end and text[pos] in " \t":
                pos += 1
            if pos < line_end and text[pos] in "\"'":
                close = text.find(text[pos], pos + 1, line_end)
                if close < 0:
                    return
                inner = text[pos + 1 : close]
                if _is_listed_name(inner) and not _role_address(text, close + 1, line_end):
                    self._add(found, (pos + 1, close), self.header_score)
                pos = close + 1
            else:
                span = read_name(text, pos)
                after = span[1]
                while after < line_end and text[after] in " \t":
                    after += 1
                if span[1] > span[0]:
                    if after < line_end and text[after] in "<([":
                        if not _role_address(text, after + 1, line_end):
                            self._add(found, span, self.header_score)
                    elif after == line_end or text[after] in ",;\r":
                        self._add(found, span, self.bare_header_score)
                    pos = after
                else:  # an address alone, or no name: on to the next entry
                    comma = text.find(",", pos, line_end)
                    pos = comma if comma >= 0 else line_end
            next_entry = _next_entry(text, pos, line_end)
            if next_entry < 0:
                return
            pos = next_entry

    def _prose(self, text: str, written: str, pos: int, found: dict[tuple[int, int], float]) -> None:
        cue = written.lower()
        if cue in _ROLE_NOUNS and cue != written:
            return  # "Customer Portal", "Employee Handbook": a title, where the role word is capitalised too
        span = read_name(text, pos)
        if span[1] == span[0]:
            return
        if cue in ("i am", "i'm", "i\u2019m", "this is"):
            # weak cues: the name must be followed by what introduces a speaker ("this is Wei from support",
            # "I'm Diego, the new..."); "This is Spotify." is not one
            rest = text[span[1] : span[1] + 12].lower()
            if not (rest[:1] in (",", "!", ";") or rest.startswith((" from ", " at ", " with ", " here"))):
                return
        score = self.field_score if cue.startswith("my name") else self.prose_score
        self._add(found, span, score)

    def _speakers(self, speakers: list[tuple[int, int, str, bool]], found: dict[tuple[int, int], float]) -> None:
        """Speaker labels of a transcript: a label counts when some speaker speaks twice (a chat), never in a
        list of distinct ``Key: value`` lines; a lower-case handle only after a timestamp."""
        counts: dict[str, int] = {}
        for _, _, label, _ in speakers:
            counts[label] = counts.get(label, 0) + 1
        if len(speakers) < 2 or max(counts.values()) < 2:
            return
        for start, end, label, stamped in speakers:
            if is_name(label) or (stamped and _HANDLE.fullmatch(label) is not None):
                self._add(found, (start, end), self.speaker_score)

    def _fields(self, text: str, data: bytes, lower: str, found: dict[tuple[int, int], float]) -> None:
        """Values of keys that say name: ``"full_name": "Jane Doe"``, ``customer=Wei Zhang``, ``name: Ana Silva``."""
        for match in _FIELD_KEY.finditer(data):
            key_end: int = match.end(1)
            sep = _after_separator(text, key_end)
            if sep < 0:
                continue
            start: int = match.start(1)
            while start > 0 and lower[start - 1] in _KEY_CHARS:
                start -= 1
            score = self._key_score(lower[start:key_end])
            if score > 0:
                span = _field_value(text, sep)
                if score == self.bare_name_field_score:
                    if " " not in text[span[0] : span[1]]:
                        score = self.bare_single_name_score
                    elif _person_siblings(lower, start, span[1]):
                        score = self.field_score
                self._add(found, span, score)

    def _key_score(self, key: str) -> float:
        compact = key.replace("_", "").replace("-", "").replace(".", "")
        if compact in _LOGINS:
            return 0.0
        if compact.endswith("name"):
            prefix = compact[:-4]
            if prefix not in _PERSON_PREFIXES:
                return 0.0
            if prefix == "":
                return self.bare_name_field_score
            return self.field_score
        return self.field_score

    def _cells(self, text: str, data: bytes, found: dict[tuple[int, int], float]) -> None:
        """Cells holding only a name's shape, in the columns of a table whose header holds a person word (``name``,
        ``customer``, ``contact``…): weak candidates, which the column's header decides through context rules. A
        table is lines split by a comma, pipe, tab or semicolon as many times as the line above (prose lines
        seldom agree); its first line is the header."""
        if _STACKED_ROWS.search(data) is None:
            return
        offset = 0
        above = (0, 0, 0, 0)
        header = ""
        columns: tuple[frozenset[int], ...] | None = ()
        for line in text.split("\n"):
            if line and not line.strip(_BORDER):
                offset += len(line) + 1
                continue  # an ASCII table's border (+-----+): the table goes on under it
            commas = line.count(",") if '"' not in line else len(_split(line, ",")) - 1
            counts = (commas, line.count("|"), line.count("\t"), line.count(";"))
            in_table = False
            for i in range(4):
                if counts[i] and counts[i] == above[i]:
                    in_table = True
                    if columns is None:  # the header's columns, read once a row under it says it is one
                        columns = _header_columns(header, above)
                    if columns and columns[i]:
                        self._row(line, offset, _DELIMITERS[i], columns[i], found)
            if not in_table:  # this line may be the header of a table below
                header = line
                columns = None
            above = counts
            offset += len(line) + 1

    def _row(
        self, line: str, offset: int, delimiter: str, columns: frozenset[int], found: dict[tuple[int, int], float]
    ) -> None:
        for index, (at, cell) in enumerate(_split(line, delimiter)):
            if index in columns:
                value = cell.strip(' \t"\r')
                # most cells are numbers, ids, addresses or words in lower case: rejected before the shape is read
                if value[:1].isalpha() and _letters(value.replace(",", "")) and _is_listed_name(value):
                    start = offset + at + cell.index(value)
                    self._add(found, (start, start + len(value)), self.cell_score)


_ROLE_ADDRESSES = (
    "noreply", "no-reply", "donotreply", "do-not-reply", "notifications", "notification", "alerts", "info",
    "support", "hello", "team", "admin", "billing", "sales", "help", "news", "newsletter", "eng", "dev", "ops",
    "security", "hr", "jobs", "careers", "contact", "service", "mailer-daemon", "postmaster", "marketing",
)  # fmt: skip


def _header_columns(header: str, counts: tuple[int, int, int, int]) -> tuple[frozenset[int], ...]:
    """For each delimiter (``_DELIMITERS``) the person columns of ``header``, whose delimiter counts are
    ``counts``; none where the header holds no person word or not that delimiter."""
    lower = header.lower()
    if _HEADER_WORD.search(lower) is None:
        return ()
    return tuple(_person_columns(lower, d) if n else frozenset() for n, d in zip(counts, _DELIMITERS, strict=True))


def _person_columns(header: str, delimiter: str) -> frozenset[int]:
    """The indices of a (lower-cased) header's cells that hold a person word."""
    cells = _split(header, delimiter)
    return frozenset(i for i, (_, cell) in enumerate(cells) if any(w in cell for w in _PERSON_HEADER_WORDS))


_BORDER = "+-=:| \t\r"
"""The characters of a table's border lines (``+----+----+``, ``|---|:--|``, ``====``)."""
_QUOTED_FIELD = re.compile(r'(?:"[^"]*"|[^,"])*')


# Keys that only a record of a person has (a user account, a profile, a patient): next to one, a bare "name" is
# a person's. Not "email" or "phone" alone: a company or a team record has those too ({"name": "Pinnacle
# Orthodontics", "email": "info@…"}). Matched as keys only (followed by ":" or "="), in the lower-cased text.
_PERSON_SIBLING = re2.compile(
    r"(?:^|[^a-z0-9_])[\"']?(?:login|user[-_]?name|first[-_]?name|last[-_]?name|given[-_]?name|family[-_]?name|"
    r"date[-_]?of[-_]?birth|dob|birth[-_]?date|avatar[-_]?url|gender|pronouns|job[-_]?title)[\"']?\s*[:=]",
    re2_options(),
)
_SIBLING_REACH = 160


def _person_siblings(lower: str, key_start: int, value_end: int) -> bool:
    """Whether the object or record around a ``name`` field (up to its braces, within ``_SIBLING_REACH``
    characters either side) has a key that describes a person: ``{"login": …, "name": …, "email": …}``."""
    lo = max(0, key_start - _SIBLING_REACH)
    hi = min(len(lower), value_end + _SIBLING_REACH)
    opening = lower.rfind("{", lo, key_start)
    closing = lower.find("}", value_end, hi)
    window = lower[opening + 1 if opening >= 0 else lo : closing if closing >= 0 else hi]
    return _PERSON_SIBLING.search(window) is not None


def _split(line: str, delimiter: str) -> list[tuple[int, str]]:
    """The cells of a row with where each starts; a CSV field in double quotes may hold commas (``"Doe, Jane"``)."""
    cells: list[tuple[int, str]] = []
    at = 0
    if delimiter != "," or '"' not in line:
        for cell in line.split(delimiter):
            cells.append((at, cell))
            at += len(cell) + 1
        return cells
    while at <= len(line):
        match = _QUOTED_FIELD.match(line, at)
        end = match.end() if match is not None else at
        cells.append((at, line[at:end]))
        at = end + 1
    return cells


def _letters(value: str) -> bool:
    """Only letters, spaces and the marks inside names (``'``, ``-``, ``.``): a quick test before ``is_name``."""
    return value.replace(" ", "").replace("-", "").replace("'", "").replace(".", "").isalpha()


def _role_address(text: str, pos: int, line_end: int) -> bool:
    """Whether the address at ``pos`` (after ``<``) is a role's (``noreply@``, ``support@``): its display name is
    a sender's, not a person's."""
    at = text.find("@", pos, line_end)
    return at > pos and text[pos:at].lower().startswith(_ROLE_ADDRESSES)


def _ends_line(text: str, pos: int) -> bool:
    """Only spaces, a comma or a full stop between ``pos`` and the end of its line (or a ``|``/``(`` aside)."""
    n = len(text)
    while pos < n and text[pos] in " \t,.":
        pos += 1
    return pos == n or text[pos] in "\r\n|(<"


def _before_address(text: str, pos: int) -> int:
    """Where the name of ``Jane Doe <jane@x.com> wrote:`` ends, given where ``wrote`` starts."""
    while pos > 0 and text[pos - 1] in " \t,":
        pos -= 1
    if pos > 0 and text[pos - 1] in ">)]":
        opener = "<(["[">)]".index(text[pos - 1])]
        line = text.rfind("\n", 0, pos) + 1
        at = text.rfind(opener, line, pos)
        if at >= 0:
            pos = at
            while pos > 0 and text[pos - 1] in " \t":
                pos -= 1
    return pos


def _next_entry(text: str, pos: int, line_end: int) -> int:
    """The start of a header's next address after ``pos`` (past a ``<…>`` part), or -1."""
    while pos < line_end and text[pos] in " \t":
        pos += 1
    if pos < line_end and text[pos] in "<([":
        close = text.find(">)]"["<([".index(text[pos])], pos, line_end)
        if close < 0:
            return -1
        pos = close + 1
    while pos < line_end and text[pos] in " \t":
        pos += 1
    if pos < line_end and text[pos] in ",;":
        return pos + 1
    return -1


def _is_listed_name(value: str) -> bool:
    """A name, or a name written family name first: ``Doe, Jane``."""
    family, comma, given = value.partition(",")
    if comma:
        return is_name(family) and is_name(given)
    return is_name(value)


def _after_separator(text: str, pos: int) -> int:
    """Where the value starts after a key ending at ``pos`` (``": "``, ``=``, ``=>``, ``: ``), or -1."""
    n = len(text)
    if pos < n and text[pos] in "\"'":
        pos += 1
    while pos < n and text[pos] in " \t":
        pos += 1
    if text.startswith("=>", pos) or text.startswith(":=", pos):
        pos += 2
    elif pos < n and text[pos] in ":=":
        pos += 1
    else:
        return -1
    while pos < n and text[pos] in " \t":
        pos += 1
    return pos


def _field_value(text: str, pos: int) -> tuple[int, int]:
    """The span of a field's value when it is a name (quoted: the whole of it), else ``(pos, pos)``."""
    n = len(text)
    if pos < n and text[pos] in "\"'":
        close = text.find(text[pos], pos + 1, pos + 120)
        if close < 0 and n - pos < 120:
            # the text ends inside the value (a streamed answer released so far): what there is of it counts
            span = read_name(text, pos + 1)
            return span if span[1] > span[0] and not text[span[1] :].strip() else (pos, pos)
        if close < 0 or "\n" in text[pos + 1 : close]:
            return (pos, pos)
        return (pos + 1, close) if _is_listed_name(text[pos + 1 : close]) else (pos, pos)
    span = read_name(text, pos)
    after = span[1]
    while after < n and text[after] in " \t":
        after += 1
    if after == n or text[after] in ",;&|}]<>\"'\r\n" or (after > span[1] and _key_follows(text, after)):
        return span
    return (pos, pos)


def _key_follows(text: str, pos: int) -> bool:
    """A ``key=`` of a log line starts at ``pos`` (``name=Jane Doe level=info``)."""
    end = pos
    while end < len(text) and (text[end].isalnum() or text[end] in "_.-"):
        end += 1
    return end > pos and end < len(text) and text[end] in "=:"
