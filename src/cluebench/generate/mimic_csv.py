"""Streaming reader for MIMIC-IV CSV files (plain or gzip), shared by both dataset builders.

Why streaming: MIMIC-IV-Note `discharge.csv.gz` holds ~330k notes (gigabytes of text) and hosp
`diagnoses_icd.csv.gz` ~5M rows; neither may be held in memory. The notes' `text` field spans
many physical lines inside quotes, so rows are parsed with the `csv` module (never line by line),
and each row is reported with the physical line it starts on, so that an error says exactly where
to look. The raw bytes are hashed as they are read, so a manifest gets each input's sha256
without a second pass over a multi-gigabyte file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import operator
import sys
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

from cluebench.errors import DataError

NOTE_COLUMNS = (
    "note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text",
)
DIAGNOSES_COLUMNS = ("subject_id", "hadm_id", "seq_num", "icd_code", "icd_version")

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def _raise_field_limit() -> None:
    """A discharge note is one CSV field of up to ~100 kB; the csv default limit is 128 kB,
    too tight for the longest notes. Raise it to the largest value the C long accepts."""
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 2


class _HashingReader(io.RawIOBase):
    """A read-only raw stream that hashes and counts every byte passing through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.digest.update(data)
        self.bytes_read += n
        return n

    def drain(self) -> None:
        """Read (and hash) whatever the parser has not consumed, e.g. after an early stop."""
        while True:
            data = self._raw.read(_CHUNK)
            if not data:
                return
            self.digest.update(data)
            self.bytes_read += len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class MimicCsv:
    """One MIMIC-IV CSV file, opened for a single streaming pass.

    Use as a context manager; iterate :meth:`rows` for ``(line, values)`` where ``values`` holds
    the requested columns in the requested order and ``line`` is the 1-based physical line the
    record starts on. After the pass, :attr:`sha256` is the digest of the file's bytes as stored
    (compressed bytes for .gz).
    """

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        self.compressed = False
        self.header: list[str] = []
        self._hasher: _HashingReader | None = None
        self._text: io.TextIOBase | None = None

    def __enter__(self) -> "MimicCsv":
        _raise_field_limit()
        if not self.path.is_file():
            raise DataError(self.path, "file not found (expected a MIMIC-IV CSV, plain or .gz)")
        raw = open(self.path, "rb")  # noqa: SIM115 - closed in __exit__
        self._hasher = _HashingReader(raw)
        buffered = io.BufferedReader(self._hasher, buffer_size=_CHUNK)
        self.compressed = buffered.peek(2)[:2] == _GZIP_MAGIC
        binary: BinaryIO = gzip.GzipFile(fileobj=buffered, mode="rb") if self.compressed else buffered  # type: ignore[assignment]
        self._text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._text is not None:
            self._text.close()

    @property
    def sha256(self) -> str:
        assert self._hasher is not None, "open the file first"
        self._hasher.drain()
        return self._hasher.digest.hexdigest()

    @property
    def bytes_read(self) -> int:
        return self._hasher.bytes_read if self._hasher is not None else 0

    def _error(self, message: str, line: int | None) -> DataError:
        return DataError(self.path, message, line=line)

    def rows(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        """Yield ``(line, values)`` for each data row; raise :class:`DataError` on a bad one."""
        assert self._text is not None, "use MimicCsv as a context manager"
        reader = csv.reader(self._text, strict=True)
        start = 1
        try:
            header = next(reader, None)
            if header is None:
                raise self._error(f"empty file; expected a header row with {', '.join(self.columns)}", 1)
            self.header = [h.strip() for h in header]
            missing = [c for c in self.columns if c not in self.header]
            if missing:
                raise self._error(
                    f"header lacks column(s) {', '.join(missing)}; expected {', '.join(self.columns)}"
                    f" (found: {', '.join(self.header) or 'nothing'})",
                    1,
                )
            index = [self.header.index(c) for c in self.columns]
            pick = operator.itemgetter(*index)
            if len(index) == 1:  # itemgetter of one index returns the value, not a 1-tuple
                single = pick
                pick = lambda record: (single(record),)  # noqa: E731
            width = len(self.header)
            start = reader.line_num + 1
            for record in reader:
                if len(record) != width:
                    if not record:  # a blank line between records carries no data
                        start = reader.line_num + 1
                        continue
                    raise self._error(
                        f"malformed row: {len(record)} field(s) where the header has {width}"
                        " (an unbalanced quote in a text field?)",
                        start,
                    )
                yield start, pick(record)
                start = reader.line_num + 1
        except csv.Error as exc:
            raise self._error(f"malformed CSV: {exc}", start) from None
        except UnicodeDecodeError as exc:
            raise self._error(f"not valid UTF-8 ({exc.reason})", start) from None
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise self._error(f"corrupt or truncated gzip data ({exc})", start) from None


def parse_int(path: Path, value: str, line: int, field: str) -> int:
    """An integer field (MIMIC ids, seq_num, icd_version); a clear error otherwise."""
    text = value.strip()
    try:
        return int(text)
    except ValueError:
        try:
            as_float = float(text)
        except ValueError:
            as_float = None
        if as_float is not None and as_float.is_integer():  # "20000001.0" written by pandas
            return int(as_float)
        raise DataError(path, f"expected an integer, got {value!r}", line=line, field=field) from None
