"""Telling a real inline image from a string that only looks like one.

An image is the one kind of string the gateway forwards without inspecting it as text: a model reads it as pixels.
So a string is skipped only when it is *proven* to be an image: a ``data:image/<type>;base64,`` URL (or, where an
API takes bare base64 images, such as Ollama's ``images``, the bare payload) whose payload is strict base64 and
decodes to a complete file of that type, walked block by block from its signature to its end marker, holding no
block that carries text (comments, EXIF/XMP metadata, PNG text chunks, ICC profiles with their names). Anything
else, however it starts, is text and is inspected like any other string. The walk is bounded: files with more
blocks than ``MAX_BLOCKS`` are not proven images (they are inspected as text instead, which is safe, only slower).
"""

from __future__ import annotations

import binascii
import re
import zlib
from collections.abc import Callable

MAX_BLOCKS = 100_000
"""The most blocks (chunks, segments, sub-blocks, entropy-coded marker candidates) one image may have."""

_DATA_URL = re.compile(r"data:image/(png|jpeg|jpg|gif|webp)((?:;[A-Za-z0-9._+-]+=[A-Za-z0-9._+-]+)*);base64,")

# Blocks that hold only pixels, geometry, colour and timing. Anything else (tEXt, zTXt, iTXt, eXIf, iCCP, …)
# could carry text, so an image holding one is not proven harmless.
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND"
_PNG_CHUNKS = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"hIST", b"pHYs"}
    | {b"acTL", b"fcTL", b"fdAT", b"cICP"}
)
_JPEG_START_OF_SCAN = 0xDA
_JPEG_FILL = 0xFF
# APP0 (JFIF), APP14 (Adobe), quantisation and Huffman tables, frame headers, restart interval, scans.
_JPEG_SEGMENTS = frozenset(
    {0xE0, 0xEE, 0xDB, 0xC4, 0xCC, 0xDD, 0xDA} | {m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC)}
)
_GIF_HEADERS = (b"GIF87a", b"GIF89a")
_GIF_GRAPHIC_CONTROL = 0xF9
_GIF_APPLICATION = 0xFF
_GIF_LOOPING = frozenset({b"NETSCAPE2.0", b"ANIMEXTS1.0"})
_WEBP_FIRST = frozenset({b"VP8 ", b"VP8L", b"VP8X"})
_WEBP_CHUNKS = _WEBP_FIRST | {b"ALPH", b"ANIM", b"ANMF"}


def is_inline_image(value: str) -> bool:
    """Whether ``value`` is a ``data:image/…;base64,`` URL holding a complete image of its declared type."""
    match = _DATA_URL.match(value)
    if match is None:
        return False
    data = _decode(value[match.end() :])
    kind = match.group(1)
    return data is not None and _VALIDATORS["jpeg" if kind == "jpg" else kind](data)


def is_base64_image(value: str) -> bool:
    """Whether ``value`` is bare base64 of a complete image of any supported type (Ollama's ``images``)."""
    data = _decode(value)
    return data is not None and any(check(data) for check in _VALIDATORS.values())


def _decode(payload: str) -> bytes | None:
    if not payload or len(payload) % 4 or not payload.isascii():
        return None
    try:
        return binascii.a2b_base64(payload, strict_mode=True)
    except binascii.Error:
        return None


def _png(data: bytes) -> bool:
    if not data.startswith(_PNG_SIGNATURE):
        return False
    pos = len(_PNG_SIGNATURE)
    for block in range(MAX_BLOCKS):
        if pos + 12 > len(data):
            return False
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data) or kind not in _PNG_CHUNKS or (block == 0 and kind != b"IHDR"):
            return False
        if zlib.crc32(data[pos + 4 : end - 4]) != int.from_bytes(data[end - 4 : end], "big"):
            return False
        if kind == _PNG_END:
            return end == len(data)
        pos = end
    return False


def _jpeg(data: bytes) -> bool:
    if not (data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")):
        return False
    end = len(data) - 2  # where the end-of-image marker starts
    pos, scans, steps = 2, 0, 0
    while steps < MAX_BLOCKS:
        steps += 1
        if pos == end:
            return scans > 0
        if pos + 2 > end or data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == _JPEG_FILL:
            pos += 1
            continue
        if marker not in _JPEG_SEGMENTS or pos + 4 > end:
            return False
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if pos > end:
            return False
        if marker == _JPEG_START_OF_SCAN:
            scans += 1
            # Entropy-coded data runs to the next marker; 0xFF 0x00 is a stuffed byte, 0xFF 0xD0-D7 a restart.
            while steps < MAX_BLOCKS:
                steps += 1
                pos = data.find(b"\xff", pos, end)
                if pos < 0:
                    pos = end
                    break
                following = data[pos + 1] if pos + 1 < end else -1
                if following != 0 and not 0xD0 <= following <= 0xD7:
                    break
                pos += 2
    return False


def _gif_sub_blocks(data: bytes, pos: int) -> int:
    """The position after a chain of data sub-blocks starting at ``pos``; -1 when it runs off the end."""
    for _ in range(MAX_BLOCKS):
        if pos >= len(data):
            return -1
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    return -1


def _gif(data: bytes) -> bool:
    if data[:6] not in _GIF_HEADERS or len(data) < 14 or data[-1] != 0x3B:
        return False
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    images = 0
    for _ in range(MAX_BLOCKS):
        if pos >= len(data):
            return False
        introducer = data[pos]
        if introducer == 0x3B:
            return pos == len(data) - 1 and images > 0
        if introducer == 0x2C:  # image descriptor, optional local colour table, LZW code size, image data
            if pos + 10 > len(data):
                return False
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
            images += 1
        elif introducer == 0x21 and pos + 1 < len(data):
            label = data[pos + 1]
            if label == _GIF_APPLICATION:
                if data[pos + 2 : pos + 3] != b"\x0b" or data[pos + 3 : pos + 14] not in _GIF_LOOPING:
                    return False
            elif label != _GIF_GRAPHIC_CONTROL:  # comments and plain-text extensions carry text
                return False
            pos += 2
        else:
            return False
        pos = _gif_sub_blocks(data, pos)
        if pos < 0:
            return False
    return False


def _webp(data: bytes) -> bool:
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    if int.from_bytes(data[4:8], "little") + 8 != len(data):
        return False
    pos = 12
    for block in range(MAX_BLOCKS):
        if pos == len(data):
            return block > 0
        if pos + 8 > len(data):
            return False
        kind = data[pos : pos + 4]
        if kind not in _WEBP_CHUNKS or (block == 0 and kind not in _WEBP_FIRST):
            return False
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        pos += 8 + size + (size & 1)
        if pos > len(data):
            return False
    return False


_VALIDATORS: dict[str, Callable[[bytes], bool]] = {"png": _png, "jpeg": _jpeg, "gif": _gif, "webp": _webp}
