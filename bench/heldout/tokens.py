"""Credentials in the shapes their issuers give them (shapes as gitleaks' default rules describe them).

``CATALOGUE_VENDORS`` are the vendors that have a type of their own in Clearance's catalogue; ``OTHER_VENDORS``
have none and are labelled ``API_KEY``. Each entry names the variable a developer would keep it in, so that
templates write ``TWILIO_API_KEY=SK…`` rather than a vendor's token under another vendor's name.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from bench.heldout.values import ALNUM, HEX, random_chars

B62 = string.digits + string.ascii_letters
URLSAFE = ALNUM + "_-"
BASE32 = string.ascii_uppercase + "234567"


@dataclass(frozen=True, slots=True)
class Vendor:
    name: str
    """How people write the vendor's name in prose."""
    variable: str
    """The environment variable it is usually kept in."""
    type: str
    make: Callable[[random.Random], str]


def github(rng: random.Random) -> str:
    if rng.random() < 0.25:
        return f"github_pat_{random_chars(rng, ALNUM, 22)}_{random_chars(rng, ALNUM, 59)}"
    body = random_chars(rng, ALNUM, 30)
    crc = zlib.crc32(body.encode())
    check = ""
    while crc:
        crc, digit = divmod(crc, 62)
        check = B62[digit] + check
    return f"{rng.choice(('ghp', 'gho', 'ghu', 'ghs', 'ghr'))}_{body}{check.rjust(6, '0')}"


def slack(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return f"xoxb-{rng.randint(10**10, 10**11)}-{rng.randint(10**12, 10**13)}-{random_chars(rng, ALNUM, 24)}"
    if kind == 1:
        return f"xoxp-{rng.randint(10**10, 10**11)}-{rng.randint(10**10, 10**11)}-{rng.randint(10**12, 10**13)}-" + (
            random_chars(rng, HEX, 32)
        )
    return f"xapp-1-A{random_chars(rng, string.ascii_uppercase + string.digits, 10)}-{rng.randint(10**12, 10**13)}-" + (
        random_chars(rng, HEX, 64)
    )


def stripe(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return f"sk_live_{random_chars(rng, ALNUM, rng.choice((24, 99)))}"
    if kind == 1:
        return f"rk_live_{random_chars(rng, ALNUM, rng.choice((24, 99)))}"
    return f"whsec_{random_chars(rng, ALNUM, 32)}"


def openai(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return f"sk-{random_chars(rng, ALNUM, 20)}T3BlbkFJ{random_chars(rng, ALNUM, 20)}"
    prefix = rng.choice(("proj", "proj", "svcacct", "admin"))
    return f"sk-{prefix}-{random_chars(rng, URLSAFE, 74)}T3BlbkFJ{random_chars(rng, URLSAFE, 74)}"


def jwt(rng: random.Random) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    alg = rng.choice(("HS256", "RS256", "ES256"))
    header: dict[str, str] = {"alg": alg, "typ": "JWT"}
    if alg != "HS256":
        header["kid"] = random_chars(rng, HEX, 16)
    issued = rng.randint(1_690_000_000, 1_760_000_000)
    payload = {"sub": str(rng.randint(10**5, 10**9)), "iat": issued, "exp": issued + rng.choice((900, 3600, 86400))}
    if rng.random() < 0.5:
        payload["scope"] = rng.choice(("read:orders", "admin", "openid profile"))
    signature = bytes(rng.getrandbits(8) for _ in range({"HS256": 32, "RS256": 256, "ES256": 64}[alg]))
    head = b64(json.dumps(header, separators=(",", ":")).encode())
    return f"{head}.{b64(json.dumps(payload, separators=(',', ':')).encode())}.{b64(signature)}"


# DER openings of real key encodings, so that the base64 body starts the way real keys do.
KEY_SHAPES = (
    ("RSA PRIVATE KEY", bytes.fromhex("308204a40201000282010100"), 1190),
    ("PRIVATE KEY", bytes.fromhex("308204be020100300d06092a864886f70d0101010500048204a8"), 1200),
    ("EC PRIVATE KEY", bytes.fromhex("30770201010420"), 114),
    ("OPENSSH PRIVATE KEY", b"openssh-key-v1\x00\x00\x00\x00\x04none\x00\x00\x00\x04none", 360),
)


def private_key(rng: random.Random) -> str:
    label, opening, size = rng.choice(KEY_SHAPES)
    body = base64.b64encode(opening + bytes(rng.getrandbits(8) for _ in range(size))).decode()
    width = 70 if label.startswith("OPENSSH") else 64
    lines = "\n".join(body[i : i + width] for i in range(0, len(body), width))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


def discord_bot(rng: random.Random) -> str:
    user = base64.b64encode(str(rng.randint(10**17, 10**19)).encode()).decode().rstrip("=")
    return f"{user}.{random_chars(rng, URLSAFE, 6)}.{random_chars(rng, URLSAFE, 38)}"


def vault(rng: random.Random) -> str:
    return "hvs." + "CAESI" + random_chars(rng, URLSAFE, rng.randint(90, 100))


CATALOGUE_VENDORS: tuple[Vendor, ...] = (
    Vendor("GitHub", "GITHUB_TOKEN", "GITHUB_TOKEN", github),
    Vendor("GitLab", "GITLAB_TOKEN", "GITLAB_TOKEN", lambda r: "glpat-" + random_chars(r, URLSAFE, 20)),
    Vendor("Slack", "SLACK_BOT_TOKEN", "SLACK_TOKEN", slack),
    Vendor("Stripe", "STRIPE_SECRET_KEY", "STRIPE_KEY", stripe),
    Vendor("OpenAI", "OPENAI_API_KEY", "OPENAI_API_KEY", openai),
    Vendor("Anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY",
           lambda r: f"sk-ant-api03-{random_chars(r, URLSAFE, 93)}AA"),
    Vendor("Google", "GOOGLE_MAPS_API_KEY", "GOOGLE_API_KEY", lambda r: "AIza" + random_chars(r, URLSAFE, 35)),
    Vendor("npm", "NPM_TOKEN", "NPM_TOKEN", lambda r: "npm_" + random_chars(r, ALNUM, 36)),
    Vendor("Hugging Face", "HF_TOKEN", "HUGGINGFACE_TOKEN",
           lambda r: "hf_" + random_chars(r, string.ascii_letters, 34)),
    Vendor("SendGrid", "SENDGRID_API_KEY", "SENDGRID_API_KEY",
           lambda r: f"SG.{random_chars(r, URLSAFE, 22)}.{random_chars(r, URLSAFE, 43)}"),
    Vendor("AWS", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY",
           lambda r: r.choice(("AKIA", "AKIA", "ASIA")) + random_chars(r, BASE32, 16)),
    Vendor("AWS", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", lambda r: random_chars(r, ALNUM + "+/", 40)),
    Vendor("JWT", "AUTH_TOKEN", "JWT", jwt),
)  # fmt: skip

OTHER_VENDORS: tuple[Vendor, ...] = (
    Vendor("Twilio", "TWILIO_API_KEY_SECRET", "API_KEY", lambda r: "SK" + random_chars(r, HEX, 32)),
    Vendor("Mailgun", "MAILGUN_API_KEY", "API_KEY", lambda r: "key-" + random_chars(r, HEX, 32)),
    Vendor("Shopify", "SHOPIFY_ACCESS_TOKEN", "API_KEY",
           lambda r: r.choice(("shpat_", "shpca_", "shppa_", "shpss_")) + random_chars(r, HEX, 32)),
    Vendor("PyPI", "PYPI_TOKEN", "API_KEY", lambda r: "pypi-AgEIcHlwaS5vcmc" + random_chars(r, URLSAFE, 70)),
    Vendor("Databricks", "DATABRICKS_TOKEN", "API_KEY",
           lambda r: "dapi" + random_chars(r, HEX, 32) + r.choice(("", "", "-2"))),
    Vendor("DigitalOcean", "DIGITALOCEAN_TOKEN", "API_KEY",
           lambda r: r.choice(("dop_v1_", "doo_v1_")) + random_chars(r, HEX, 64)),
    Vendor("Heroku", "HEROKU_API_KEY", "API_KEY", lambda r: "HRKU-AA" + random_chars(r, URLSAFE, 58)),
    Vendor("Square", "SQUARE_ACCESS_TOKEN", "API_KEY",
           lambda r: r.choice(("EAAA" + random_chars(r, URLSAFE, 60), "sq0atp-" + random_chars(r, URLSAFE, 22)))),
    Vendor("Discord", "DISCORD_BOT_TOKEN", "API_KEY", discord_bot),
    Vendor("Telegram", "TELEGRAM_BOT_TOKEN", "API_KEY",
           lambda r: f"{r.randint(10**8, 10**10 - 1)}:AA{random_chars(r, URLSAFE, 33)}"),
    Vendor("Atlassian", "JIRA_API_TOKEN", "API_KEY", lambda r: "ATATT3xFfGF0" + random_chars(r, URLSAFE, 180)),
    Vendor("Doppler", "DOPPLER_TOKEN", "API_KEY", lambda r: "dp.pt." + random_chars(r, ALNUM, 43)),
    Vendor("Linear", "LINEAR_API_KEY", "API_KEY", lambda r: "lin_api_" + random_chars(r, ALNUM, 40)),
    Vendor("Postman", "POSTMAN_API_KEY", "API_KEY",
           lambda r: f"PMAK-{random_chars(r, HEX, 24)}-{random_chars(r, HEX, 34)}"),
    Vendor("Pulumi", "PULUMI_ACCESS_TOKEN", "API_KEY", lambda r: "pul-" + random_chars(r, HEX, 40)),
    Vendor("Terraform Cloud", "TFE_TOKEN", "API_KEY",
           lambda r: f"{random_chars(r, string.ascii_lowercase + string.digits, 14)}.atlasv1."
           f"{random_chars(r, string.ascii_lowercase + string.digits + '-_', 67)}"),
    Vendor("Vault", "VAULT_TOKEN", "API_KEY", vault),
    Vendor("Grafana", "GRAFANA_SA_TOKEN", "API_KEY",
           lambda r: f"glsa_{random_chars(r, ALNUM, 32)}_{random_chars(r, HEX, 8)}"),
    Vendor("New Relic", "NEW_RELIC_API_KEY", "API_KEY",
           lambda r: "NRAK-" + random_chars(r, string.ascii_uppercase + string.digits, 27)),
    Vendor("Sentry", "SENTRY_AUTH_TOKEN", "API_KEY", lambda r: "sntryu_" + random_chars(r, HEX, 64)),
    Vendor("Docker Hub", "DOCKERHUB_TOKEN", "API_KEY", lambda r: "dckr_pat_" + random_chars(r, URLSAFE, 27)),
)  # fmt: skip


SELF_EVIDENT_CATALOGUE_VENDORS = tuple(v for v in CATALOGUE_VENDORS if v.type != "AWS_SECRET_KEY")
"""The catalogue's vendors whose tokens say what they are. An AWS secret key is 40 base64 characters: only the
words around it say it is AWS's, so templates write it where they say so (``«aws_secret»``, ``«catalogue_var»``)."""


def vendor(rng: random.Random) -> Vendor:
    """A vendor credential whose shape says what it is: about half from the catalogue's types, half others."""
    return rng.choice(SELF_EVIDENT_CATALOGUE_VENDORS if rng.random() < 0.55 else OTHER_VENDORS)
