"""MeQSum (`MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx`): first sheet, header row `File`, `CHQ`,
`Summary`. The upstream sheet declares 1,023 mostly empty columns, so only columns with a header
name are kept (openpyxl read-only mode: no pandas, constant memory)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from cluebench.datasets._demo import FIXED_TIME, MARK, reproducible_zip
from cluebench.datasets.readers import PublicSource, demo_writer, reader
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


# --------------------------------------------------------------------------------------------
# The synthetic demo file: invented (subject, message, summary) triples, none from MeQSum; the CHQ is
# "SUBJECT: ...\nMESSAGE: ..." as upstream.
# --------------------------------------------------------------------------------------------
DEMO_ROWS = [
    ("metformin and kidneys", "My doctor put me on metformin 500 mg twice a day last month. I read online that it "
     "can damage the kidneys. My last blood test said my kidney function was a little low. Should I stop taking it?",
     "Can metformin damage the kidneys, and should it be stopped if kidney function is low?"),
    ("shingles vaccine question", "I am 62 and had chickenpox as a child. My friend got shingles and it was very "
     "painful. Do I need the shingles shot and how many doses are there?",
     "Who should get the shingles vaccine and how many doses are needed?"),
    ("ringing in ears", "For about 3 months I have a constant ringing in my left ear, worse at night. I work in "
     "a factory. Is there any treatment for this or will it go away?",
     "What are the treatments for tinnitus?"),
    ("son has nosebleeds", "My 8 year old son gets nosebleeds almost every week, mostly in winter. They stop "
     "after 10 minutes of pressure. Is this something serious?",
     "What causes frequent nosebleeds in children?"),
    ("blood pressure medicine cough", "Since starting lisinopril I have had a dry tickly cough that will not "
     "go away. No cold or fever. Could the pill be causing this?",
     "Can lisinopril cause a dry cough?"),
    ("gout diet", "I was told I have gout after my big toe swelled up. What foods should I stay away from? "
     "I eat a lot of red meat and drink beer on weekends.",
     "What foods should be avoided with gout?"),
    ("thyroid pills with coffee", "I take levothyroxine every morning. Is it ok to take it with my coffee "
     "and breakfast or do I need to wait?",
     "Should levothyroxine be taken apart from coffee and food?"),
    ("Lyme disease after tick", "I pulled a tick off my leg yesterday after hiking. There is a small red bump. "
     "Do I need antibiotics to prevent Lyme disease?",
     "Are preventive antibiotics needed after a tick bite?"),
    ("hands numb at night", "My hands go numb and tingle at night, mostly the thumb and first two fingers. "
     "I type all day at work. What could this be and how is it treated?",
     "What causes nighttime hand numbness and how is carpal tunnel syndrome treated?"),
    ("statin muscle pain", "Since I started atorvastatin my legs ache all the time. Is this a side effect and "
     "what should I do about it?",
     "Can atorvastatin cause muscle pain and how is it managed?"),
    ("celiac testing", "My sister was diagnosed with celiac disease. I get bloating and diarrhea after bread. "
     "Should I be tested and do I need to keep eating gluten before the test?",
     "How is celiac disease tested and must gluten be eaten before testing?"),
    ("iron pills constipation", "I was prescribed iron tablets for anemia but they make me very constipated. "
     "Is there another form of iron I can take?",
     "What are alternatives to oral iron that cause less constipation?"),
    ("warfarin and vitamin K foods", "My father takes warfarin. Can he still eat spinach and broccoli or will "
     "it stop the medicine working?",
     "How do vitamin K-rich foods interact with warfarin?"),
    ("migraine in pregnancy", "I am 14 weeks pregnant and have bad migraines. What medicines are safe to take?",
     "Which migraine medications are safe in pregnancy?"),
    ("psoriasis treatment", "I have red scaly patches on my elbows and knees for years. Creams help a little. "
     "Are there newer treatments for psoriasis?",
     "What are the newer treatments for psoriasis?"),
    ("hepatitis B vaccine adult", "I am a nursing student and never got the hepatitis B vaccine as a child. "
     "Is it too late to get it?",
     "Can adults receive the hepatitis B vaccine?"),
    ("kidney stones prevention", "I have had two kidney stones in the last year. What can I do to stop "
     "getting more of them?",
     "How can kidney stones be prevented?"),
    ("child fever medicine dose", "How much children's ibuprofen can I give my 3 year old who weighs 15 kg "
     "for a fever?",
     "What is the ibuprofen dose for a 15 kg child?"),
    ("sleep apnea machine", "My husband snores and stops breathing at night. The doctor wants a sleep study. "
     "What happens if he has sleep apnea, does he need a machine?",
     "How is obstructive sleep apnea treated?"),
    ("osteoporosis medicine how long", "I have taken alendronate for 6 years for osteoporosis. How long "
     "should I stay on it?",
     "How long should alendronate be taken for osteoporosis?"),
]


@demo_writer("meqsum")
def write_demo(path: Path) -> None:
    """The demo workbook, Files "SYNTHETIC-meqsum-NNNN.xml.txt", with fixed timestamps."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "QS"
    ws.append(["File", "CHQ", "Summary"])
    for i, (subject, message, summary) in enumerate(DEMO_ROWS, start=1):
        ws.append([f"{MARK}-meqsum-{i:04d}.xml.txt", f"SUBJECT: {subject}\nMESSAGE: {message}", summary])
    wb.properties.title = "SYNTHETIC demo data for cluebench (invented questions, not MeQSum)"
    wb.properties.creator = "cluebench make_demo.py"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(reproducible_zip(buf.getvalue()))
