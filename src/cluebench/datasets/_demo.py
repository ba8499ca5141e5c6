"""What every task's demo writer shares (`@demo_writer` in `cluebench/datasets/readers/`): the
"SYNTHETIC" mark on ids and names, and writing that gives the same bytes on every machine and
every day, because `tests/test_datasets_demo.py` regenerates the committed files and compares."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

#: Prefix of every demo id and patient name: demo rows can never pass for real ones.
MARK = "SYNTHETIC"
#: The one time stamp the demo files carry (xlsx entries and document properties).
FIXED_TIME = datetime(2024, 1, 1, 0, 0, 0)
_FIXED_STAMP = b"2024-01-01T00:00:00Z"


def write_text(path: Path, text: str) -> None:
    """UTF-8 with "\\n" line ends whatever the platform, creating the task's folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def reproducible_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps (entries and document properties) so the .xlsx bytes
    do not depend on the clock."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the clock on save
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + _FIXED_STAMP, payload)
            dst.writestr(fixed, payload)
    return buf.getvalue()
