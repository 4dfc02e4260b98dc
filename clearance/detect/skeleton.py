"""Byte views of a text for fast scanning: one byte per character, so byte offsets are character offsets.

Python's regular-expression engine tests a character class at every position of the text, a few nanoseconds a
character; a pattern that starts with a literal is found with a fast literal search instead. Scanning a
*skeleton*, in which every ASCII digit is ``0`` and every ASCII letter ``A`` or ``a``, turns a pattern over
character classes (``[0-9]``, ``[A-Z][A-Z][0-9]{2}``) into one that starts with a literal (``0``, ``AA00``):
the same spans, found several times faster. RE2 reads bytes without re-encoding the text on every call.

Characters outside ASCII become ``?`` in both views: a pattern made of ASCII classes and literals matches the
same spans in the view as in the text (never a ``?``, as it never matched the character it stands for), but a
case-insensitive pattern may not (Unicode case folding maps a few non-ASCII letters to ASCII ones), and a
lookaround that reads the character beside a match must read the text itself.
"""

from __future__ import annotations

_CLASSES = bytes.maketrans(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    b"0" * 10 + b"A" * 26 + b"a" * 26,
)


def ascii_view(text: str) -> bytes:
    """``text`` with every non-ASCII character replaced by ``?``, as bytes."""
    return text.encode("ascii", "replace")


def skeleton(ascii: bytes) -> bytes:
    """The character classes of an ``ascii_view``: digits as ``0``, upper- and lower-case letters as ``A`` and
    ``a``, every other byte as itself."""
    return ascii.translate(_CLASSES)
