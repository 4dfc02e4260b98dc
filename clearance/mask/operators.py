"""Masking operators: each turns one sensitive value into what the model (or the caller) sees instead.

=============  ===========================================  ================================================
operator       example (CREDIT_CARD 4111-1111-1111-1234)     use
=============  ===========================================  ================================================
``redact``     ``[CREDIT_CARD]``                            nothing of the value is needed
``partial``    ``XXXX-XXXX-XXXX-1234``                      a tail helps humans (support: "the card ending…")
``hash``       ``[CREDIT_CARD:5c0f2a7e91b3]``               equal values must stay linkable, not readable
``placeholder`` ``<CREDIT_CARD_1>``                         the model reasons about it; may be restored
=============  ===========================================  ================================================

Operators are pure functions of (value, type) plus, for ``hash``, a key and, for ``placeholder``, the request's
vault. None of them ever returns the value itself.
"""

from __future__ import annotations

import hashlib
import hmac

PARTIAL_KEEP = 4


def redact(entity_type: str) -> str:
    return f"[{entity_type}]"


def partial(value: str, entity_type: str, keep: int = PARTIAL_KEEP) -> str:
    """Keep the last ``keep`` letters or digits and the value's own separators; X out the rest.

    An email keeps its domain and the first character of its local part (``j***@example.com``). A value too short
    to keep anything safely is redacted whole.
    """
    if entity_type == "EMAIL_ADDRESS" and "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}"
    alnum = sum(ch.isalnum() for ch in value)
    if alnum <= keep * 2:
        return redact(entity_type)
    to_hide = alnum - keep
    out = []
    for ch in value:
        if ch.isalnum() and to_hide > 0:
            out.append("X")
            to_hide -= 1
        else:
            out.append(ch)
    return "".join(out)


def keyed_hash(value: str, entity_type: str, key: bytes, length: int = 12) -> str:
    digest = hmac.new(key, f"{entity_type}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"[{entity_type}:{digest[:length]}]"
