"""Only a complete image of its declared type is an image; everything that merely looks like one is text."""

from __future__ import annotations

import base64

import pytest

from clearance.payload.images import MAX_BLOCKS, is_base64_image, is_inline_image
from tests.image_samples import data_url, gif, jpeg, jpeg_segment, png, png_chunk, riff_chunk, webp

TEXT = b"my card is 4111 1111 1111 1111"
REAL = {"png": png(), "jpeg": jpeg(), "gif": gif(), "webp": webp()}


@pytest.mark.parametrize("kind", sorted(REAL))
def test_real_images_of_the_declared_type_are_images(kind: str) -> None:
    assert is_inline_image(data_url(kind, REAL[kind]))
    assert is_base64_image(base64.b64encode(REAL[kind]).decode())


def test_jpg_is_an_alias_and_parameters_are_allowed() -> None:
    payload = base64.b64encode(REAL["jpeg"]).decode()
    assert is_inline_image(f"data:image/jpg;base64,{payload}")
    assert is_inline_image(f"data:image/jpeg;name=x.jpg;base64,{payload}")


FAKES = {
    "text as png": data_url("png", TEXT),
    "text after a png signature": data_url("png", b"\x89PNG\r\n\x1a\n" + TEXT),
    "png then text": data_url("png", png() + TEXT),
    "png with a text chunk": data_url("png", png(png_chunk(b"tEXt", b"Comment\x00" + TEXT))),
    "png with an unknown chunk": data_url("png", png(png_chunk(b"xyZz", TEXT))),
    "png with a bad checksum": data_url("png", png()[:-1] + b"\x00"),
    "png declared as jpeg": data_url("jpeg", png()),
    "jpeg with a comment": data_url("jpeg", jpeg(jpeg_segment(0xFE, TEXT))),
    "jpeg with exif": data_url("jpeg", jpeg(jpeg_segment(0xE1, b"Exif\x00\x00" + TEXT))),
    "jpeg then text": data_url("jpeg", jpeg() + TEXT),
    "jpeg start then text": data_url("jpeg", b"\xff\xd8\xff" + TEXT + b"\xff\xd9"),
    "gif with a comment": data_url("gif", gif(b"\x21\xfe" + bytes([len(TEXT)]) + TEXT + b"\x00")),
    "gif then text": data_url("gif", gif() + TEXT),
    "webp with exif": data_url("webp", webp(riff_chunk(b"EXIF", TEXT))),
    "webp with a wrong size": data_url("webp", webp()[:-2]),
    "not base64": "data:image/png;base64,not base64 at all 4111 1111 1111 1111",
    "whitespace in base64": "data:image/png;base64," + base64.encodebytes(png()).decode(),
    "unpadded": data_url("png", png()).rstrip("="),
    "text type": "data:text/plain;base64," + base64.b64encode(TEXT).decode(),
    "svg": "data:image/svg+xml;base64," + base64.b64encode(b"<svg>" + TEXT + b"</svg>").decode(),
    "no base64 marker": "data:image/png," + TEXT.decode(),
    "empty": "data:image/png;base64,",
}


@pytest.mark.parametrize("value", FAKES.values(), ids=FAKES.keys())
def test_anything_else_is_not_an_image(value: str) -> None:
    assert not is_inline_image(value)
    payload = value.split(",", 1)[-1]
    assert not is_base64_image(payload) or value.startswith("data:image/jpeg;base64,iVBOR")


def test_too_many_blocks_is_not_proven() -> None:
    physical = png_chunk(b"pHYs", b"\x00\x00\x0b\x13\x00\x00\x0b\x13\x01")
    assert is_inline_image(data_url("png", png(*[physical] * 10)))
    assert not is_inline_image(data_url("png", png(*[physical] * MAX_BLOCKS)))
