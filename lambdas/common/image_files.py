"""What an image file is, read from its first bytes: format and pixel size, for PNG, JPEG and WebP.

The input check needs only this much to refuse a wrong file before any model call, and the functions
carry no imaging library, so the headers are read here."""

import struct
from dataclasses import dataclass

# How much of a file the headers are in (a JPEG's frame header may follow large metadata).
HEADER_BYTES = 256 * 1024


@dataclass(frozen=True)
class ImageFile:
    format: str  # png, jpeg or webp
    width: int
    height: int


def probe(data: bytes) -> ImageFile | None:
    """The file's format and size, or None if it is not a PNG, JPEG or WebP image we can read."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return ImageFile("png", width, height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return None


def _jpeg(data: bytes) -> ImageFile | None:
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        # Start-of-frame markers (not DHT, JPG or DAC) hold the size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return ImageFile("jpeg", width, height)
        at += 2 + length
    return None


def _webp(data: bytes) -> ImageFile | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return ImageFile("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return ImageFile("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(data) >= 30:
        return ImageFile("webp", int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1)
    return None
