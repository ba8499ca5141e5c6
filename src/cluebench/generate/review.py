"""Manual review of generated MeDiSumQA pairs: export a CSV, re-import reviewers' decisions.

The released MeDiSumQA was checked by hand; this makes that step repeatable. Reviewers get one
row per pair (the context, question, answer) and fill in `accept` (yes/no) and, if they like,
`comment`; they may also correct the question or answer text, which is then applied and marked.
Import is strict: every pair needs a decision, and a row that does not match the dataset is an
error naming the CSV line, so a shuffled or stale sheet cannot silently drop or keep pairs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from cluebench.errors import DataError
from cluebench.generate.output import write_jsonl, write_manifest
from cluebench.models.hashing import file_sha256
from cluebench.util import write_text_atomic

COLUMNS = ("row", "note_id", "Question", "Answer", "context", "accept", "comment")
ACCEPT = {"yes", "y", "true", "1", "accept", "accepted", "x", "ok"}
REJECT = {"no", "n", "false", "0", "reject", "rejected"}


def read_pairs(path: Path) -> list[dict]:
    """A MeDiSumQA file: JSON lines (as generated) or one JSON list."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not valid UTF-8 ({exc.reason})") from None
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(path, f"broken JSON: {exc.msg}", line=exc.lineno) from None
        lines = [(i + 1, item) for i, item in enumerate(items)]
    else:
        lines = []
        # lines end at "\n" only: a raw U+2028 inside a JSON string is part of the string
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                lines.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DataError(path, f"broken JSON: {exc.msg}", line=number) from None
    pairs = []
    for number, item in lines:
        if not isinstance(item, dict):
            raise DataError(path, "expected an object per record", line=number)
        for key in ("note_id", "Question", "Answer"):
            if not isinstance(item.get(key), str):
                raise DataError(path, "missing or not a string", line=number, field=key)
        pairs.append(item)
    return pairs


def _context(item: dict) -> str:
    return item.get("without_discharge_summary") or item.get("discharge_summary") or ""


def export_review(inp: Path, out_csv: Path) -> int:
    """Write the reviewers' sheet (UTF-8 with BOM, so spreadsheet programs read it right);
    return the number of pairs."""
    pairs = read_pairs(Path(inp))
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for i, item in enumerate(pairs):
        writer.writerow((i, item["note_id"], item["Question"], item["Answer"], _context(item), "", ""))
    write_text_atomic(Path(out_csv), "\ufeff" + buffer.getvalue())
    return len(pairs)


def _decision(review_csv: Path, value: str, line: int) -> bool:
    v = value.strip().lower()
    if v in ACCEPT:
        return True
    if v in REJECT:
        return False
    what = "empty" if not v else f"{value!r} is not a decision"
    raise DataError(review_csv, f"{what}; expected yes or no", line=line, field="accept")


def import_review(inp: Path, review_csv: Path, out: Path) -> dict:
    """Keep the accepted pairs (corrections applied) in `out`; return the manifest."""
    inp, review_csv, out = Path(inp), Path(review_csv), Path(out)
    pairs = read_pairs(inp)
    decided: dict[int, tuple[bool, str, str, str]] = {}
    try:
        fh = open(review_csv, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise DataError(review_csv, "file not found") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("row", "note_id", "Question", "Answer", "accept") if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(review_csv, f"header lacks column(s) {', '.join(missing)}", line=1)
        start = 2
        try:
            for record in reader:
                row_text = (record.get("row") or "").strip()
                if not row_text.isdigit() or int(row_text) >= len(pairs):
                    raise DataError(review_csv, f"{row_text!r} is not a row of {inp} (0..{len(pairs) - 1})",
                                    line=start, field="row")
                index = int(row_text)
                if index in decided:
                    raise DataError(review_csv, f"row {index} is reviewed twice", line=start, field="row")
                if record["note_id"] != pairs[index]["note_id"]:
                    raise DataError(review_csv, f"row {index} is note {pairs[index]['note_id']!r} in {inp}, "
                                    f"not {record['note_id']!r} (sheet from another file?)", line=start, field="note_id")
                accept = _decision(review_csv, record["accept"] or "", start)
                decided[index] = (accept, record["Question"], record["Answer"], (record.get("comment") or "").strip())
                start = reader.line_num + 1
        except csv.Error as exc:
            raise DataError(review_csv, f"malformed CSV: {exc}", line=start) from None
    undecided = [i for i in range(len(pairs)) if i not in decided]
    if undecided:
        shown = ", ".join(map(str, undecided[:10])) + (" ..." if len(undecided) > 10 else "")
        raise DataError(review_csv, f"{len(undecided)} pair(s) of {inp} have no review row: {shown}")
    kept, edited = [], 0
    for index, item in enumerate(pairs):
        accept, question, answer, comment = decided[index]
        if not accept:
            continue
        changed = (question.strip(), answer.strip()) != (item["Question"], item["Answer"])
        if changed:
            if not question.strip() or not answer.strip():
                raise DataError(review_csv, f"row {index}: an accepted pair needs a question and an answer")
            edited += 1
        kept.append({**item, "Question": question.strip(), "Answer": answer.strip(),
                     "review": {"accepted": True, "edited": changed, "comment": comment}})
    output = write_jsonl(out, kept)
    manifest = {
        "dataset": "medisumqa-reviewed",
        "output": output,
        "inputs": {
            "pairs": {"path": str(inp), "sha256": file_sha256(inp)},
            "review": {"path": str(review_csv), "sha256": hashlib.sha256(review_csv.read_bytes()).hexdigest()},
        },
        "counts": {"pairs": len(pairs), "accepted": len(kept), "rejected": len(pairs) - len(kept), "edited": edited},
    }
    write_manifest(out, manifest)
    return manifest
