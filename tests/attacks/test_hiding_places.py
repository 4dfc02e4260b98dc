"""Where values hide: URL userinfo, paths, queries and fragments; e-mail local parts and plus-tags; strings that
merely start like a data URL.

A token in ``https://TOKEN@host/repo.git`` is a token, and a card used as an e-mail local part is a card (not an
e-mail address the default policy lets through). Only real, decodable images of the declared type are skipped.
"""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from tests.attacks.conftest import ATTACK_LOOP, OPENAI_MODEL, Attack
from tests.attacks.harness import AWS_KEY_ID, GITHUB_TOKEN, IBAN_GB, SSN, VISA, Secret, expect
from tests.attacks.shapes import SHAPES

pytestmark = ATTACK_LOOP

TOKEN = GITHUB_TOKEN.raw
DOMAIN = "acme-corp.io"  # not an RFC 2606 documentation domain: those are excluded by design

URLS: dict[str, tuple[str, Secret]] = {
    "userinfo_token": (f"https://{TOKEN}@github.com/acme/repo.git", GITHUB_TOKEN),
    "userinfo_user_token": (f"https://git:{TOKEN}@github.com/acme/repo.git", GITHUB_TOKEN),
    "userinfo_x_access_token": (f"https://x-access-token:{TOKEN}@github.com/acme/repo", GITHUB_TOKEN),
    "userinfo_aws_key": (f"https://{AWS_KEY_ID.raw}:pw@s3.acme-corp.io/bucket", AWS_KEY_ID),
    "userinfo_card": (f"ftp://{VISA.raw}@files.acme-corp.io/", VISA),
    "userinfo_ssn": (f"https://{SSN.raw}:x@portal.acme-corp.io/", SSN),
    "path_card": (f"https://shop.acme-corp.io/cards/{VISA.raw}/charge", VISA),
    "path_card_dashed": ("https://shop.acme-corp.io/cards/4111-1111-1111-1111/charge", VISA),
    "path_ssn": (f"https://hr.acme-corp.io/people/{SSN.raw}", SSN),
    "path_iban": (f"https://bank.acme-corp.io/accounts/{IBAN_GB.raw}/balance", IBAN_GB),
    "path_token": (f"https://api.acme-corp.io/v1/keys/{TOKEN}/revoke", GITHUB_TOKEN),
    "path_aws_key": (f"https://console.acme-corp.io/iam/{AWS_KEY_ID.raw}", AWS_KEY_ID),
    "query_card": (f"https://shop.acme-corp.io/pay?pan={VISA.raw}&cvv=123", VISA),
    "query_token": (f"https://api.acme-corp.io/?access_token={TOKEN}", GITHUB_TOKEN),
    "fragment_ssn": (f"https://hr.acme-corp.io/#ssn={SSN.raw}", SSN),
    "git_ssh_style": (f"{TOKEN}@github.com:acme/repo.git", GITHUB_TOKEN),
    "no_scheme_userinfo": (f"//{TOKEN}@github.com/acme", GITHUB_TOKEN),
    "markdown_link": (f"[repo](https://{TOKEN}@github.com/acme/repo.git)", GITHUB_TOKEN),
    "angle_bracketed": (f"<https://shop.acme-corp.io/c/{VISA.raw}>", VISA),
}


@pytest.mark.parametrize("case", URLS, ids=list(URLS))
async def test_value_inside_a_url(attack: Attack, case: str) -> None:
    url, secret = URLS[case]
    path, body = SHAPES["chat"](f"clone or open {url} please")
    await attack.post(path, body)
    await attack.check([secret])


EMAILS: dict[str, tuple[str, Secret]] = {
    "card_local_part": (f"{VISA.raw}@{DOMAIN}", VISA),
    "card_dotted_local_part": (f"4111.1111.1111.1111@{DOMAIN}", VISA),
    "card_plus_tag": (f"jane+{VISA.raw}@{DOMAIN}", VISA),
    "ssn_local_part": (f"{SSN.raw}@{DOMAIN}", SSN),
    "ssn_plus_tag": (f"jane.doe+{SSN.raw}@{DOMAIN}", SSN),
    "iban_local_part": (f"{IBAN_GB.raw}@{DOMAIN}", IBAN_GB),
    "iban_plus_tag": (f"ops+{IBAN_GB.raw.lower()}@{DOMAIN}", IBAN_GB),
    "token_local_part": (f"{TOKEN}@{DOMAIN}", GITHUB_TOKEN),
    "token_plus_tag": (f"bot+{TOKEN}@{DOMAIN}", GITHUB_TOKEN),
    "aws_key_local_part": (f"{AWS_KEY_ID.raw}@{DOMAIN}", AWS_KEY_ID),
    "mailto_card": (f"mailto:{VISA.raw}@{DOMAIN}?subject=hi", VISA),
    "quoted_local_part": (f'"{VISA.raw}"@{DOMAIN}', VISA),
}


@pytest.mark.parametrize("case", EMAILS, ids=list(EMAILS))
async def test_value_as_an_email_address(attack: Attack, case: str) -> None:
    address, secret = EMAILS[case]
    path, body = SHAPES["chat"](f"write to {address} today")
    await attack.post(path, body)
    await attack.check([secret])


def png_1x1() -> bytes:
    def part(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + part(b"IHDR", header) + part(b"IDAT", zlib.compress(b"\0\0\0\0")) + part(b"IEND", b"")


REAL_PNG = base64.b64encode(png_1x1()).decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FAKE_DATA_URLS: dict[str, str] = {
    "raw_text_after_base64_marker": f"data:image/png;base64, card {VISA.raw} here",
    "text_payload_declared_png": "data:image/png;base64," + b64(f"card {VISA.raw}"),
    "text_payload_declared_jpeg": "data:image/jpeg;base64," + b64(f"ssn {SSN.raw}"),
    "empty_media_type": "data:;base64," + b64(f"token {TOKEN}"),
    "not_base64_flagged": f"data:text/plain,{VISA.raw}",
    "percent_encoded_payload": "data:text/plain,%34%31%31%31%31%31%31%31%31%31%31%31%31%31%31%31",
    "upper_case_scheme": "DATA:image/png;base64," + b64(f"card {VISA.raw}"),
    "real_png_then_text": f"data:image/png;base64,{REAL_PNG} and my card is {VISA.raw}",
    "real_png_declared_gif_then_text": "data:image/gif;base64," + b64("GIF89a" + f" {VISA.raw}"),
    "png_magic_then_text": "data:image/png;base64,"
    + base64.b64encode(b"\x89PNG\r\n\x1a\n" + f"card {VISA.raw}".encode()).decode(),
    "marker_late_in_string": "data:image/png;charset=utf-8;name=x;base64," + b64(f"card {VISA.raw}"),
    "value_before_marker": f"data:{VISA.raw};base64,AAAA",
}

SECRET_OF = {"text_payload_declared_jpeg": SSN, "empty_media_type": GITHUB_TOKEN}


DATA_URL_CASES = [(c, "text") for c in FAKE_DATA_URLS] + [
    (c, "image_url")
    for c in ("text_payload_declared_png", "png_magic_then_text", "real_png_then_text", "upper_case_scheme")
]


@pytest.mark.parametrize(("case", "where"), DATA_URL_CASES, ids=[f"{c}-{w}" for c, w in DATA_URL_CASES])
async def test_string_that_merely_starts_like_a_data_url(attack: Attack, case: str, where: str) -> None:
    url = FAKE_DATA_URLS[case]
    part = {"type": "text", "text": url} if where == "text" else {"type": "image_url", "image_url": {"url": url}}
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": [part]}]}
    await attack.post("/v1/chat/completions", body)
    await attack.check([SECRET_OF.get(case, VISA)], carriers=[url])


async def test_real_image_passes_untouched(attack: Attack) -> None:
    """The control: a real PNG of the declared type is not text, and reaches the model byte for byte."""
    url = f"data:image/png;base64,{REAL_PNG}"
    body = {
        "model": OPENAI_MODEL,
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}],
    }
    reply = await attack.post("/v1/chat/completions", body)
    expect(reply.status == 200, f"a real image was refused ({reply.status})")
    sent = attack.upstream.received[0].body["messages"][0]["content"][0]["image_url"]["url"]
    expect(sent == url, "a real image did not reach the model unchanged")
