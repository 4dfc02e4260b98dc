"""PASSWORD and API_KEY: a credential that a word introduces in prose, without an assignment.

"here is the key for prod: …", "key: …", "use token …", "the secret for staging is …", "password for the db →
…", "Passwort: …", "das Kennwort lautet …", "mot de passe : …", "contraseña: …", "senha …", "wachtwoord …", and
``ENCRYPTION_KEY=…`` (a name ending in ``key``, which ``assignment`` does not read). The finding covers the value
only, typed ``PASSWORD`` after a password word and ``API_KEY`` after any other credential word.

The value is the first token after the word, or after a few filler words that end with a separator (``:``,
``=``, ``→``, ``is``, ``ist``, ``est``, ``lautet``…): "the key for prod: X", "the secret for staging is X". It is
judged, not just matched (``credential_values``): an API key must look generated, a password must not be a plain
word; placeholders, paths, URLs, e-mail addresses, UUIDs, versions, timestamps, numbers, ticket keys and named
hashes are not credentials. Words that say the value is something else stop the search ("token budget",
"password reset", "key id", "key fingerprint", "commit"), and so do words before the credential word that make it
a non-secret ("primary key", "public key", "GPG key", "page token").

Only the text right after a credential word is read: the words are found by one RE2 pass over the text's ASCII
view, and most hits end at the first check (the word is part of another word, or no value follows).
"""

from __future__ import annotations

from collections.abc import Iterator

import re2

from clearance.detect.base import Detector, Document
from clearance.detect.builtin.assignment import key_kind
from clearance.detect.credential_values import generated_key, other_shape, prose_password
from clearance.detect.exclusions import re2_options
from clearance.detect.placeholders import is_placeholder
from clearance.models import Finding

_PW_TYPE = "PASSWORD"
_KEY_TYPE = "API_KEY"
_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("password", "passwd", "pwd", "pw", "pass", "passphrase", "passcode", "passwort", "kennwort", "contraseña",
         "contrasena", "senha", "wachtwoord", "mdp", "clave"),
        _PW_TYPE,
    ),
    **dict.fromkeys(
        ("key", "apikey", "token", "secret", "credentials", "credential", "creds", "schlüssel", "schlussel",
         "schluessel", "clé", "clef", "jeton", "chave", "chiave", "sleutel"),
        _KEY_TYPE,
    ),
}  # fmt: skip
# Where a credential word may be: one RE2 pass over the text's ASCII view (a non-ASCII letter is "?" there:
# "schl?ssel", "cl?"), which a dozen and a half ``str.find`` loops cost three times as much as.
_STEMS = re2.compile(
    r"(?i)key|token|secret|pass|pw|cred|kennwort|schl(?:\?|u|ue)ssel|cl(?:\?|ef|ave)|jeton|contrase|senha|chave"
    r"|chiave|wachtwoord|sleutel|mdp",
    re2_options(),
)
# Words right before the credential word that make it something other than a secret.
_NOT_SECRET_BEFORE = frozenset(
    {"public", "publishable", "primary", "foreign", "unique", "composite", "sort", "partition", "cache", "caching",
     "idempotency", "hash", "object", "row", "gpg", "pgp", "ssh", "host", "page", "pagination", "continuation",
     "next", "sync", "cancellation", "csrf", "xsrf", "request", "trace", "correlation", "lookup", "dictionary",
     "dict", "map", "json", "translation", "i18n", "music", "musical", "piano", "door", "house", "car", "room",
     "boarding", "bus", "day", "season", "hall", "free", "no", "keyboard", "shortcut", "hot", "registry",
     "mapping", "item", "list", "index", "sorting", "join", "natural", "surrogate", "candidate", "compound"}
)  # fmt: skip
# Words after the credential word that say the value that follows is not the secret itself.
_STOP_AFTER = frozenset(
    {"id", "ids", "identifier", "fingerprint", "fingerprints", "hash", "hashes", "sha", "sha1", "sha256", "md5",
     "checksum", "digest", "name", "names", "label", "alias", "length", "size", "count", "limit", "limits",
     "budget", "budgets", "type", "types", "version", "file", "files", "path", "url", "uri", "link", "reset",
     "expiry", "expires", "expired", "expiration", "rotation", "rotated", "policy", "reference", "ref", "index",
     "ttl", "prefix", "suffix", "format", "usage", "usages", "manager", "vault", "store", "storage", "field",
     "column", "header", "parameter", "param", "variable", "var", "env", "requirement", "requirements",
     "strength", "hint", "hints", "commit", "point", "points", "takeaway", "takeaways", "factor", "factors",
     "issue", "issues", "ticket", "question", "questions", "idea", "ideas", "part", "role", "concept",
     "difference", "differences", "feature", "features", "change", "changes", "metric", "metrics", "date",
     "dates", "holder", "owner", "algorithm", "scope", "scopes", "endpoint", "signature", "pair", "ring",
     "id:", "ids:", "count:", "limit:", "protected", "protection", "encrypted", "based"}
)  # fmt: skip
# Last parts of a name that leave the credential word before them the credential (not ``_id``, ``_hash``, ``_file``).
_NEUTRAL_SUFFIXES = frozenset(
    {"base", "value", "string", "str", "data", "b64", "base64", "hex", "raw", "plain", "plaintext", "text",
     "material", "bytes", "prod", "dev", "staging", "test", "live", "new", "old", "current", "secondary"}
)  # fmt: skip
_SEPARATOR_WORDS = frozenset({"is", "are", "was", "be", "ist", "lautet", "est", "es", "é", "è", "era", "equals",
                              "is:", "→", "->", "=>", "=", ":", "-", "\u2013", "\u2014", "::", ":="})  # fmt: skip
_SEPARATOR_MARKS = ("=>", "->", ":=", "::", ":", "=", "→")
_WORD_CHARS_MAX = 48
_MAX_GAP = 4
_MAX_VALUE = 256
_MIN_PASSWORD = 6  # as ``credential_values.prose_password``
_MIN_KEY = 12  # as ``credential_values.generated_key``
_VALUE_END = frozenset(" \t\r\n\"'`<>,;)]}")
_TRAILING = ".,:?*_"


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class KeywordCredentialDetector(Detector):
    name = "keyword_credential"
    types = frozenset({_PW_TYPE, _KEY_TYPE})
    triggers: tuple[str, ...] = (
        r"(?i)(?:key|token|secret|pass|pwd|pw\b|cred|kennwort|schl(?:ü|u|ue)ssel|cl(?:é|ef)|jeton|contrase|senha"
        r"|chave|chiave|clave|wachtwoord|sleutel|mdp)",
    )
    api_key_score = 0.8

    def find(self, doc: Document) -> Iterator[Finding]:
        text, lower = doc.text, doc.lower
        n = len(text)
        done = 0
        for p in _stem_positions(doc):
            if p < done:
                continue
            start = p
            while start > 0 and p - start <= _WORD_CHARS_MAX and _is_word_char(lower[start - 1]):
                start -= 1
            end = p
            while end < n and end - p <= _WORD_CHARS_MAX and _is_word_char(lower[end]):
                end += 1
            done = end
            word = lower[start:end]
            kind, compound = _kind(word)
            if kind is None or p - start > _WORD_CHARS_MAX or end - p > _WORD_CHARS_MAX:
                continue
            if compound and word.rsplit("_", 2)[-2] in _NOT_SECRET_BEFORE:
                continue
            if not compound and not self._qualified(lower, start, word):
                continue
            finding = self._after(text, lower, end, kind, word, compound=compound)
            if finding is not None:
                done = finding.end
                yield finding

    @staticmethod
    def _qualified(lower: str, start: int, word: str) -> bool:
        """Whether the words before the credential word leave it a secret: not "primary key", "GPG key"; and
        ``passe`` only in "mot de passe" or "palavra-passe"."""
        before = _previous_word(lower, start)
        if word == "passe":
            return before in ("de", "palavra")
        return before not in _NOT_SECRET_BEFORE

    def _after(self, text: str, lower: str, pos: int, kind: str, word: str, *, compound: bool) -> Finding | None:
        """The credential introduced by the word ending at ``pos``, if a qualifying value follows it."""
        n = len(text)
        if pos < n and text[pos] in "\"'":
            pos += 1  # "key": "…"
        i = pos
        for gap in range(_MAX_GAP + 1):
            j = _skip(text, i, " \t*")
            sep = _separator_end(text, lower, j)
            if sep > j:
                if (
                    gap == 0
                    and not compound
                    and text[j] in ":="
                    and key_kind(word) is not None
                    and _skip(text, sep, " \t") < n
                    and text[_skip(text, sep, " \t")] not in "\r\n"
                ):
                    return None  # ``password: …``, ``token = …``: the assignment detector's (not across a line)
                if gap == 0 and compound and key_kind(word) is not None:
                    return None
                found = self._value(text, lower, sep, kind, allow_newline=True)
                if found is not None or not text[j].isalpha():
                    return found
                # a verb ("is", "ist") not followed by the value may be followed by more words: "is now: X"
                i = sep
                continue
            if compound or j >= n or text[j] in "\r\n":
                return None  # a name such as ENCRYPTION_KEY needs its assignment sign
            if j == i:
                return None  # glued to the word ("pass-through", "`PASSWORD` after", "pass|pwd|…"): not a value
            token_end = j
            while token_end < n and token_end - j < 64 and not text[token_end].isspace():
                token_end += 1
            if gap == 0:
                direct = self._value(text, lower, j, kind, allow_newline=False)
                if direct is not None:
                    return direct  # "use token X", "senha X"
            token = lower[j:token_end]
            if token.endswith(":") and _filler(token[:-1]):
                return self._value(text, lower, token_end, kind, allow_newline=True)  # "the key for prod: X"
            if not _filler(token):
                return None
            i = token_end
        return None

    def _score(self, value: str, kind: str) -> float:
        if kind == _PW_TYPE:
            return prose_password(value)
        return self.api_key_score if generated_key(value) else 0.0

    def _value(self, text: str, lower: str, pos: int, kind: str, *, allow_newline: bool) -> Finding | None:
        """The value starting at ``pos`` (after white space, markdown emphasis, and with ``allow_newline`` one line
        break), judged as a credential of ``kind``."""
        n = len(text)
        k = _skip(text, pos, " \t*")
        if allow_newline and k < n and text[k] in "\r\n":
            k = _skip(text, k, " \t\r\n*", limit=4)
        if k >= n:
            return None
        quote = text[k] if text[k] in "\"'`" else ""
        if quote:
            end = text.find(quote, k + 1, k + 1 + _MAX_VALUE)
            if end < 0 or "\n" in text[k + 1 : end]:
                return None
            start = k + 1
        else:
            if text[k] in "<[{(":
                return None  # a placeholder, markup or a structure: not a value written out
            start = end = k
            while end < n and end - start < _MAX_VALUE and text[end] not in _VALUE_END:
                end += 1
            while end > start and text[end - 1] in _TRAILING:
                end -= 1
        if end <= start or text[start].isspace() or text[end - 1].isspace():
            return None  # a quote around prose ("`PASSWORD` after a password word and `API_KEY`")
        if end - start < (_MIN_PASSWORD if kind == _PW_TYPE else _MIN_KEY):
            return None  # the common case, a word of prose: decided before the costlier tests
        value = text[start:end]
        # The value's own test first: most values after a credential word are prose and fail it, and it costs less
        # than the placeholder automaton and the shape patterns.
        score = self._score(value, kind)
        if score <= 0 or is_placeholder(value, quoted=bool(quote)) or other_shape(value):
            return None
        return Finding(start, end, kind, score, self.name)


def _stem_positions(doc: Document) -> list[int]:
    """Where each stem occurs in the text, in order."""
    return [match.start() for match in _STEMS.finditer(doc.ascii)]


def _kind(word: str) -> tuple[str | None, bool]:
    """The kind of credential a word names and whether it is a compound name (``encryption_key``)."""
    kind = _WORDS.get(word)
    if kind is not None:
        return kind, False
    if word == "passe":
        return _PW_TYPE, False
    if "_" in word:
        parts = word.strip("_").split("_")
        last = parts[-1]
        kind = _WORDS.get(last)
        if kind is not None and len(last) > 2:
            return kind, True
        # SECRET_KEY_BASE, API_TOKEN_VALUE: a credential word qualified by a word that leaves it the credential
        if len(parts) > 2 and last in _NEUTRAL_SUFFIXES:
            kind = _WORDS.get(parts[-2])
            if kind is not None and len(parts[-2]) > 2:
                return kind, True
    return None, False


def _previous_word(lower: str, start: int) -> str:
    """The word before ``start``, across spaces, hyphens and underscores (lower case; empty if none)."""
    i = start
    while i > 0 and start - i < 8 and lower[i - 1] in " \t-_":
        i -= 1
    end = i
    while i > 0 and end - i < 24 and lower[i - 1].isalnum():
        i -= 1
    return lower[i:end]


def _skip(text: str, pos: int, chars: str, limit: int = 64) -> int:
    end = min(len(text), pos + limit)
    while pos < end and text[pos] in chars:
        pos += 1
    return pos


def _separator_end(text: str, lower: str, pos: int) -> int:
    """The end of a separator at ``pos`` (``:``, ``=``, ``→``, ``->``, ``is``, ``lautet``…), or ``pos``."""
    for mark in _SEPARATOR_MARKS:
        if text.startswith(mark, pos):
            return pos + len(mark)
    end = pos
    while end < len(text) and end - pos < 8 and not text[end].isspace():
        end += 1
    token = lower[pos:end]
    if token in _SEPARATOR_WORDS:
        return end
    return pos


def _filler(token: str) -> bool:
    """A word that may sit between a credential word and its value: a short word of letters (or a name such as
    ``eu-west-1``), not a word that says the value is something else, not another credential word, and not the
    end of a clause."""
    if not token or len(token) > 24 or token[-1] in ".,;!?)" or token in _STOP_AFTER:
        return False
    if _kind(token.strip("'\"`*"))[0] is not None:
        return False
    core = token.strip("'\"`*(")
    return bool(core) and any(c.isalpha() for c in core) and all(c.isalnum() or c in "'\u2019-_." for c in core)
