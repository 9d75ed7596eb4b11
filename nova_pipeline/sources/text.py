"""Turning an ERP export's bytes into UTF-8 text DuckDB can read.

DuckDB reads only utf-8/utf-16/latin-1 without extensions, and latin-1 is a hard error on the
Windows-1252 bytes 0x80-0x9F (field notes), so we detect and transcode ourselves, in chunks,
without looking at rows.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from ..errors import DropRejected

CHUNK = 8 << 20
# Bytes that never appear in a text export; finding them means garbage or a binary file.
# 0x1F is also the delimiter we use to read whole lines, so it must not occur in the text.
CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def detect_encoding(path: Path) -> str:
    """Return how DuckDB should read the file, in one pass over its bytes, or raise DropRejected:
    'utf-8', 'utf-8-sig', 'latin-1' (Windows-1252 text without any byte 0x80-0x9F, where the two
    agree: read directly, nothing transcoded) or 'cp1252' (transcode first)."""
    size = path.stat().st_size
    if size == 0:
        raise DropRejected("empty file (0 bytes): the export was not written; export it again")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DropRejected("encoded as UTF-16; export as Windows-1252 or UTF-8")
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8, has_c1, offset = True, False, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            # One C pass deletes every ordinary byte; what is left (usually nothing) is control bytes or
            # 0x80-0x9F. (Two passes, one for each, cost 1.4 s of a 10,000,000-line export; this 0.5 s.)
            odd = chunk.translate(None, _ORDINARY)
            if odd:
                if odd.translate(None, _C1):
                    bad = _first_control(chunk)
                    raise DropRejected(
                        f"control byte 0x{chunk[bad]:02X} at byte {offset + bad}: garbage or a binary file, not an ERP export"
                    )
                has_c1 = True
            if not chunk.isascii():
                if is_utf8:
                    try:
                        utf8.decode(chunk)
                    except UnicodeDecodeError:
                        is_utf8 = False
            offset += len(chunk)
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    if head.startswith(codecs.BOM_UTF8):
        if is_utf8:
            return "utf-8-sig"
        raise DropRejected("starts with a UTF-8 mark but is not valid UTF-8 (damaged or mixed encodings)")
    if is_utf8:
        return "utf-8"
    if not has_c1:
        return "latin-1"
    if _decodes(path, "cp1252"):
        return "cp1252"
    raise DropRejected("neither UTF-8 nor Windows-1252 text (undefined bytes); is this really an ERP export?")


# Bytes 0x80-0x9F: where Windows-1252 and latin-1 differ (DuckDB's latin-1 refuses them).
_C1 = bytes(range(0x80, 0xA0))
_ORDINARY = bytes(b for b in range(256) if b not in CONTROL_BYTES and b not in _C1)


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def transcode(path: Path, target: Path, encoding: str) -> None:
    """Write the file (checked by detect_encoding) as UTF-8 without BOM to target."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))


def _first_control(chunk: bytes) -> int:
    """Where the chunk's first control byte is (it has one)."""
    return min(i for i in (chunk.find(bytes([b])) for b in CONTROL_BYTES) if i >= 0)


def read_header(path: Path, encoding: str = "utf-8", limit: int = 64 << 10) -> tuple[str, bool]:
    """First line of a text file without its line ending (at most `limit` bytes are read), and whether
    it ends in CRLF, as the ERP writes, rather than LF."""
    with open(path, "rb") as fh:
        raw = fh.readline(limit)
    return re.split(r"\r\n?|\n", raw.decode(encoding, errors="replace"), maxsplit=1)[0], raw.endswith(b"\r\n")


def excerpt(text: str, limit: int = 120) -> str:
    """A short, printable excerpt of file content for a reason: control characters become '?'."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[: limit + 1])
    return clean if len(clean) <= limit else clean[:limit] + "…"
