"""Turning an ERP export's bytes into UTF-8 text DuckDB can read.

DuckDB reads only utf-8/utf-16/latin-1 without extensions, and latin-1 is a hard error on the
Windows-1252 bytes 0x80-0x9F (field notes), so we detect and transcode ourselves, in chunks,
without looking at rows.
"""
from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import DropRejected

CHUNK = 8 << 20
# Bytes that never appear in a text export; finding them means garbage or a binary file.
# 0x1F is also the delimiter we use to read whole lines, so it must not occur in the text.
CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def detect_encoding(path: Path) -> str:
    """Return 'utf-8-sig', 'utf-8' or 'cp1252' for the file, or raise DropRejected with why."""
    size = path.stat().st_size
    if size == 0:
        raise DropRejected("empty file (0 bytes): the export was not written; export it again")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DropRejected("encoded as UTF-16; export as Windows-1252 or UTF-8")
    _refuse_control_bytes(path)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
        if _decodes(path, encoding):
            return encoding
        raise DropRejected("starts with a UTF-8 mark but is not valid UTF-8 (damaged or mixed encodings)")
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "cp1252"):
        return "cp1252"
    raise DropRejected("neither UTF-8 nor Windows-1252 text (undefined bytes); is this really an ERP export?")


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


def _refuse_control_bytes(path: Path) -> None:
    """Garbage and binary files show control bytes no text export has."""
    offset = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            bad = _first_control(chunk)
            if bad >= 0:
                raise DropRejected(
                    f"control byte 0x{chunk[bad]:02X} at byte {offset + bad}: garbage or a binary file, not an ERP export"
                )
            offset += len(chunk)


def transcode(path: Path, target: Path, encoding: str) -> None:
    """Write the file (checked by detect_encoding) as UTF-8 without BOM to target."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))


def _first_control(chunk: bytes) -> int:
    # bytes.translate deletes the allowed bytes in C; only when something is left do we search.
    if not chunk.translate(None, bytes(range(32, 256)) + b"\t\n\r"):
        return -1
    return min(i for i in (chunk.find(bytes([b])) for b in CONTROL_BYTES) if i >= 0)


def read_header(path: Path, limit: int = 64 << 10) -> str:
    """First line of a UTF-8 file, without line ending (at most `limit` characters are read)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.readline(limit).rstrip("\r\n")


def excerpt(text: str, limit: int = 120) -> str:
    """A short, printable excerpt of file content for a reason: control characters become '?'."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[: limit + 1])
    return clean if len(clean) <= limit else clean[:limit] + "…"
