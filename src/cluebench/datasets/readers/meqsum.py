"""MeQSum (`MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx`): first sheet, header row `File`, `CHQ`,
`Summary`. The upstream sheet declares 1,023 mostly empty columns, so only columns with a header
name are kept (openpyxl read-only mode: no pandas, constant memory)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from cluebench.datasets.readers import PublicSource, reader
from cluebench.datasets._io import IdRegistry, type_name
from cluebench.errors import DataError

REQUIRED = ("CHQ", "Summary")
ID_COLUMN = "File"


def _open_sheet(path: Path, raw: bytes):
    import openpyxl  # imported here: only this reader needs it

    try:
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DataError(path, f"not a readable .xlsx workbook ({exc.__class__.__name__}: {exc})") from None
    if not wb.worksheets:
        raise DataError(path, "the workbook has no sheets")
    return wb, wb.worksheets[0]


def _cell_text(path: Path, value: object, line: int, field: str, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DataError(path, "empty cell", line=line, field=field)
        return None
    if not isinstance(value, str):
        raise DataError(path, f"expected text, got {type_name(value)} {value!r}", line=line, field=field)
    return value


@reader(
    "meqsum",
    source=PublicSource(
        task="meqsum",
        url="https://raw.githubusercontent.com/abachaa/MeQSum/51e36cf65c12602333b6fdc3ae8ecf10430529f7/"
        "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx",
        sha256="abedd939d5014306ca576522416bf69103e85dc8fcf1668a4099e8b84a39eeea",
        licence="CC BY 4.0; cite Ben Abacha & Demner-Fushman, ACL 2019",
    ),
)
def read_meqsum(path: Path, raw: bytes) -> list[dict]:
    """Rows ``{"id": File or "row-N", "CHQ", "Summary", "File"}``; N and line are sheet rows.

    openpyxl's read-only mode parses the sheet XML lazily, so broken XML surfaces while rows are
    read: it becomes a DataError like every other malformed file."""
    try:
        return _read_rows(path, raw)
    except (SyntaxError, zipfile.BadZipFile, EOFError) as exc:  # ElementTree's and lxml's
        # ParseError both derive from SyntaxError
        raise DataError(path, f"not a readable .xlsx workbook: broken sheet XML ({exc})") from None


def _read_rows(path: Path, raw: bytes) -> list[dict]:
    wb, ws = _open_sheet(path, raw)
    try:
        rows_iter = ws.iter_rows(values_only=True)
        header_row = next(rows_iter, None)
        if header_row is None:
            raise DataError(path, "the first sheet is empty")
        header = {str(v).strip(): i for i, v in enumerate(header_row) if v is not None and str(v).strip()}
        for col in REQUIRED:
            if col not in header:
                raise DataError(
                    path, f"missing column (header has {', '.join(header) or 'nothing'})", line=1, field=col
                )
        wanted = list(header)  # every named column is kept; unnamed (empty) ones are not
        ids = IdRegistry(path, ID_COLUMN)
        out: list[dict] = []
        for line, values in enumerate(rows_iter, start=2):
            cells = {c: (values[header[c]] if header[c] < len(values) else None) for c in wanted}
            if all(v is None for v in cells.values()):
                continue  # trailing blank rows are common in spreadsheets
            chq = _cell_text(path, cells["CHQ"], line, "CHQ", required=True)
            summary = _cell_text(path, cells["Summary"], line, "Summary", required=True)
            file_id = cells.get(ID_COLUMN)
            ident = str(file_id).strip() if file_id is not None and str(file_id).strip() else f"row-{line}"
            ids.add(ident, line)
            row = {c: cells[c] for c in wanted}
            row.update({"id": ident, "CHQ": chq, "Summary": summary})
            out.append(row)
        return out
    finally:
        wb.close()
