"""Small real images, built byte by byte (no imaging library needed), and their data URLs, for the image tests."""

from __future__ import annotations

import base64
import struct
import zlib


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(*extra: bytes) -> bytes:
    """A 1x1 grey PNG; ``extra`` chunks go between the header and the image data."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    body = png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(extra) + body + png_chunk(b"IEND", b"")


def jpeg(*extra: bytes) -> bytes:
    """A 1x1 grey baseline JPEG (one block: DC 0, end of block); ``extra`` segments go after APP0."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb\x00\x43\x00" + b"\x01" * 64
    sof = b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    one_code = bytes([1] + [0] * 15) + b"\x00"
    dht = b"\xff\xc4\x00\x14\x00" + one_code + b"\xff\xc4\x00\x14\x10" + one_code
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + b"".join(extra) + dqt + sof + dht + sos + b"\x3f" + b"\xff\xd9"


def jpeg_segment(marker: int, data: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data


def gif(*extra: bytes) -> bytes:
    """A 1x1 GIF with a two-colour palette; ``extra`` blocks (extensions) go before the image."""
    head = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\xff\xff\xff\x00\x00\x00"
    control = b"\x21\xf9\x04\x01\x00\x00\x00\x00"
    image = b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00"
    return head + b"".join(extra) + control + image + b"\x3b"


def webp(*extra: bytes) -> bytes:
    """A 1x1 lossless WebP; ``extra`` chunks follow the image chunk."""
    vp8l = b"VP8L" + struct.pack("<I", 13) + b"\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07" + b"\x00"
    chunks = vp8l + b"".join(extra)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


def riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def data_url(kind: str, data: bytes) -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"
