"""Turning an ERP export's bytes into UTF-8 text DuckDB can read.

DuckDB reads only utf-8/utf-16/latin-1 without extensions, and latin-1 is a hard error on the
Windows-1252 bytes 0x80-0x9F (field notes), so we detect and transcode ourselves, in chunks,
without looking at rows.
"""
from __future__ import annotations

import codecs
import hashlib
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ..errors import DropRejected

CHUNK = 8 << 20
# Bytes that never appear in a text export; finding them means garbage or a binary file.
# 0x1F is also the delimiter we use to read whole lines, so it must not occur in the text.
CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def detect_encoding(path: Path) -> tuple[str, bool]:
    """Return how DuckDB should read the file, in one pass over its bytes, or raise DropRejected:
    'utf-8', 'utf-8-sig', 'latin-1' (Windows-1252 text without any byte 0x80-0x9F, where the two
    agree: read directly, nothing transcoded) or 'cp1252' (transcode first); and whether a carriage
    return ends a line on its own (not followed by a line feed): DuckDB's CRLF reading swallows the
    byte after it (field notes), so such a file is transcoded, that CR made a whole line end."""
    kept = _INSPECTED.pop(_key(path), None)
    if isinstance(kept, DropRejected):
        raise kept
    if kept is not None:  # inspected while it was hashed (hash_and_inspect), unchanged since
        return kept
    with open(path, "rb") as fh:
        return _inspect(path, iter(lambda: fh.read(CHUNK), b""))


def hash_and_inspect(path: Path) -> str:
    """The sha256 of a text drop, with detect_encoding's inspection made in the same read: the hash is
    computed in a second thread (hashlib lets go of the GIL on big buffers) while this one inspects.
    The inspection (or the DropRejected it gave) is kept for detect_encoding when the drop is landed
    later in the build (10,000,000 lines: 0.6 s of hashing and 0.8 s of inspection, one after the other,
    became one read of about 0.8 s). `forget()` drops what was kept but not used."""
    key = _key(path)
    digest = hashlib.sha256()
    pending = None
    # The inspection's C calls hold the GIL for milliseconds; the hashing thread needs it for an instant
    # between chunks, and waited out the 5 ms switch interval each time (0.65 s for 800 MB; 0.47 s so).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    with _restore_interval(interval), ThreadPoolExecutor(1) as pool, open(path, "rb") as fh:
        def chunks():
            nonlocal pending
            while chunk := fh.read(CHUNK):
                if pending:
                    pending.result()  # the hash takes the chunks in order
                pending = pool.submit(digest.update, chunk)
                yield chunk
        try:
            result: tuple[str, bool] | DropRejected = _inspect(path, chunks())
        except DropRejected as exc:
            result = exc
        for _ in chunks():  # the rest of the file, when the inspection stopped early
            pass
        if pending:
            pending.result()
    _INSPECTED[key] = result
    return digest.hexdigest()


@contextmanager
def _restore_interval(interval: float):
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def forget() -> None:
    """Drop the inspections no landing used (a duplicate drop, a file left for later)."""
    _INSPECTED.clear()


_INSPECTED: dict[tuple[str, int, int], tuple[str, bool] | DropRejected] = {}


def _key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns


def _inspect(path: Path, chunks) -> tuple[str, bool]:
    """detect_encoding over the file's chunks, read in order."""
    size = path.stat().st_size
    if size == 0:
        raise DropRejected("empty file (0 bytes): the export was not written; export it again")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DropRejected("encoded as UTF-16; export as Windows-1252 or UTF-8")
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8, has_c1, bare_cr, offset, last = True, False, False, 0, b""
    for chunk in chunks:
        # a CR not followed by LF, in this chunk or across the boundary with the last one (0.4 s at 10M lines)
        if not bare_cr:
            bare_cr = bool(_BARE_CR.search(chunk)) or (last == b"\r" and chunk[:1] != b"\n")
        last = chunk[-1:]
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
            return "utf-8-sig", bare_cr
        raise DropRejected("starts with a UTF-8 mark but is not valid UTF-8 (damaged or mixed encodings)")
    if is_utf8:
        return "utf-8", bare_cr
    if not has_c1:
        return "latin-1", bare_cr
    if _decodes(path, "cp1252"):
        return "cp1252", bare_cr
    raise DropRejected("neither UTF-8 nor Windows-1252 text (undefined bytes); is this really an ERP export?")


_BARE_CR = re.compile(rb"\r[^\n]")  # a CR a line feed does not follow (one at a chunk's end: see above)
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


def transcode(path: Path, target: Path, encoding: str, line_end: str | None = None) -> None:
    """Write the file (checked by detect_encoding) as UTF-8 without BOM to target. With `line_end`
    ('\r\n' or '\n', the file's own), a CR that no LF follows is written as that line end: the line
    ends there, as DuckDB means it to, and no byte after it is lost."""
    decoder = codecs.getincrementaldecoder(encoding.removesuffix("-sig"))()
    held = ""  # a CR at a chunk's end waits for the next chunk's first character
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            text = decoder.decode(chunk)
            if line_end:
                text = held + text
                held = "\r" if text.endswith("\r") else ""
                text = _LONE_CR.sub(line_end, text[:-1] if held else text)
            dst.write(text)
        text = held + decoder.decode(b"", final=True)
        dst.write(_LONE_CR.sub(line_end, text) if line_end else text)


_LONE_CR = re.compile(r"\r(?!\n)")


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
