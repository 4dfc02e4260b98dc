"""The masking benchmark's payloads: a 2 KB chat prompt and a model answer, each carrying a few sensitive values,
the answer cut into token-like stream pieces so values fall across events; and the strings that prove masking
worked (raw values that must never arrive, masked forms that must).

All values are made up but realistic: the cards pass the Luhn check, the SSNs follow the SSA's issuing rules, the
tokens have a vendor's prefix and a random body, so the gateway's detectors treat them as the real thing. No I/O here.
"""

from __future__ import annotations

import re

import orjson

from bench.expectations import Expectations
from bench.loadgen import MODEL, chat_skeleton, prompt_text

# In the prompt (what the caller sends): the gateway must mask the restricted ones before the upstream sees them.
PROMPT_CARD = "4539 1488 0343 6467"
PROMPT_SSN = "536-22-1847"
PROMPT_EMAIL = "jane.roe@northwind-mail.com"
PROMPT_TOKEN = "ghp_R7xK2mQ9vL4tW8nB3cZ6yH1jD5fS0gA2pE7u"

# In the answer (what the upstream double says): the gateway must mask the restricted ones before the caller does.
REPLY_CARD = "5425-2334-3010-9903"
REPLY_SSN = "412-67-3390"
REPLY_EMAIL = "billing@contoso-ledger.io"
REPLY_TOKEN = "gho_T4bN8kW2qZ6xM1vC9rJ3hL7yP5sF0dG2aE4w"

STREAM_EVENTS = 60

ANSWER = (
    f"The refund went to card {REPLY_CARD} (SSN {REPLY_SSN}); the receipt went to {REPLY_EMAIL}. "
    f"Rotate the token {REPLY_TOKEN} now."
)
"""The upstream double's answer (whole, or streamed in ``STREAM_EVENTS`` pieces)."""

_FILLER = " Let me know if there is anything else I can check for you."

# Roughly how a model's tokenizer cuts text: a word (or up to 8 letters and digits of a random string) with the
# space before it, up to four digits, one punctuation mark. Like a model's, the pieces start with their space.
_TOKEN = re.compile(r" ?[A-Za-z][A-Za-z0-9]{0,7}| ?\d{1,4}| ?[^\sA-Za-z\d]| +")


def token_pieces(text: str) -> list[str]:
    """``text`` cut the way a model streams it, one token-like piece per event (joined, they give ``text``)."""
    pieces = _TOKEN.findall(text)
    assert "".join(pieces) == text, "the tokenizer must not drop characters"
    return pieces


def stream_pieces(events: int = STREAM_EVENTS) -> list[str]:
    """The answer in exactly ``events`` pieces: the values split across events, then filler words to the count."""
    pieces = token_pieces(ANSWER)
    if len(pieces) > events:
        raise ValueError(f"the answer needs at least {len(pieces)} events; {events} asked for")
    filler = token_pieces(_FILLER)
    i = 0
    while len(pieces) < events:
        pieces.append(filler[i % len(filler)])
        i += 1
    return pieces


def masking_chat_body(stream: bool, prompt_bytes: int = 2048, model: str = MODEL) -> bytes:
    """A chat request of about ``prompt_bytes`` bytes whose user message carries a card, an SSN, an email and a
    GitHub token among ordinary prose (amounts, dates and invoice numbers included, so digits are not rare)."""
    system = "You are a careful assistant for the billing support team. Answer briefly and never repeat secrets."
    lead = (
        "Customer Jane Roe wrote on 2024-03-18 about invoice INV-20240318-0042 for $1,240.50. "
        f"She paid with card {PROMPT_CARD} and gave her SSN {PROMPT_SSN} for the identity check. "
    )
    middle = f" Her contact address is {PROMPT_EMAIL}; she prefers email over phone. "
    tail = f" Our deploy script printed the token {PROMPT_TOKEN} in the log, please advise. "
    skeleton = chat_skeleton(system, stream, model, max_tokens=256)
    room = max(0, prompt_bytes - len(orjson.dumps(skeleton)) - len(lead) - len(middle) - len(tail))
    half = room // 2
    user = lead + prompt_text(half) + middle + prompt_text(room - half) + tail
    skeleton["messages"][1]["content"] = user
    return orjson.dumps(skeleton)


def _never(value: str) -> tuple[str, ...]:
    """What must never show of a value: the value as written, its digits without separators, and (a token split
    across events could leak in halves) its first and last twelve characters."""
    bare = re.sub(r"[ \-]", "", value)
    return tuple(dict.fromkeys((value, bare, value[:12], value[-12:])))


RESTRICTED_IN_PROMPT = (PROMPT_CARD, PROMPT_SSN, PROMPT_TOKEN)
RESTRICTED_IN_ANSWER = (REPLY_CARD, REPLY_SSN, REPLY_TOKEN)


# The caller through the gateway (default policy): restricted data masked, the email left (it is confidential,
# not restricted, and an anonymous loopback caller is cleared for confidential data).
GATEWAY_ANSWER = Expectations(
    required=("XXXX-XXXX-XXXX-9903", "XXX-XX-3390", "[GITHUB_TOKEN]", REPLY_EMAIL),
    forbidden=tuple(v for value in RESTRICTED_IN_ANSWER for v in _never(value)),
)
# The upstream behind the gateway: the prompt's restricted values masked.
GATEWAY_UPSTREAM = Expectations(
    required=("XXXX XXXX XXXX 6467", "XXX-XX-1847", "[GITHUB_TOKEN]", PROMPT_EMAIL),
    forbidden=tuple(v for value in RESTRICTED_IN_PROMPT for v in _never(value)),
)
# Going direct or through the plain proxy nothing is masked: the raw values arrive (proof the checks can fail).
UNMASKED_ANSWER = Expectations(required=RESTRICTED_IN_ANSWER, forbidden=())
UNMASKED_UPSTREAM = Expectations(required=RESTRICTED_IN_PROMPT, forbidden=())
