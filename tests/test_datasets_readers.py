"""Readers of the six upstream formats: normalised rows on well-formed files, and one precise
DataError (file, line, field) for each kind of malformed file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pytest

from cluebench.datasets import DATA_FILES, read_dataset, resolve_dataset
from cluebench.errors import DataError
from conftest import SHARED_DATA

REAL_DATA = SHARED_DATA
MEQSUM_SHA = "abedd939d5014306ca576522416bf69103e85dc8fcf1668a4099e8b84a39eeea"


def place(root: Path, task: str, content: str | bytes) -> Path:
    path = root / DATA_FILES[task]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def error_of(task: str, path: Path) -> DataError:
    with pytest.raises(DataError) as info:
        read_dataset(task, path)
    return info.value


def jl(*objs: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


# ---------------------------------------------------------------- common
def test_sha256_and_flags_come_from_the_file_bytes(tmp_path):
    text = jl({"sentence1": "a", "sentence2": "b", "gold_label": "neutral", "pairID": "p1"})
    path = place(tmp_path, "mednli", text)
    ds = read_dataset("mednli", path, synthetic=True)
    assert ds.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert (ds.task, ds.path, ds.synthetic) == ("mednli", path, True)


@pytest.mark.parametrize("task", list(DATA_FILES))
@pytest.mark.parametrize("content", [b"", b" \n\n\t"])
def test_empty_file_is_an_error_for_every_task(tmp_path, task, content):
    err = error_of(task, place(tmp_path, task, content))
    assert err.detail == "the file is empty"
    assert err.path.endswith(DATA_FILES[task])


def test_missing_file_and_unknown_task(tmp_path):
    err = error_of("mednli", tmp_path / "nope.jsonl")
    assert "file not found" in str(err) and "mednli/mli_test_v1.jsonl" in str(err)
    with pytest.raises(DataError, match="unknown task"):
        read_dataset("pubmedqa", tmp_path / "x")


# ---------------------------------------------------------------- mednli
MEDNLI_ROW = {"sentence1": "Cr 2.9.", "pairID": "id-1", "sentence1_parse": "(ROOT (NP (NN Cr)))",
              "sentence2": "AKI.", "gold_label": "entailment"}


def test_mednli_rows_keep_original_fields_and_default_ids(tmp_path):
    second = {"sentence1": "x", "sentence2": "y", "gold_label": "contradiction"}
    path = place(tmp_path, "mednli", jl(MEDNLI_ROW) + "\n" + jl(second))
    rows = read_dataset("mednli", path).rows
    assert [r["id"] for r in rows] == ["id-1", "line-3"]  # blank line 2 skipped, ids from pairID or line
    assert rows[0]["sentence1_parse"] == "(ROOT (NP (NN Cr)))"
    assert rows[1]["gold_label"] == "contradiction"


@pytest.mark.parametrize("boundary", ["\u2028", "\u2029", "\u0085"])
def test_json_lines_end_at_newline_only(tmp_path, boundary):
    """A raw Unicode line boundary inside a JSON string is valid JSON (json.loads and the
    reference read it): it is part of the value, not the end of a line. CRLF files read too."""
    row = json.dumps({**MEDNLI_ROW, "sentence1": f"Cr 2.9.{boundary}BUN 40."}, ensure_ascii=False)
    assert boundary in row
    second = json.dumps({**MEDNLI_ROW, "pairID": "id-2"})
    rows = read_dataset("mednli", place(tmp_path, "mednli", row + "\r\n" + second + "\r\n")).rows
    assert [r["id"] for r in rows] == ["id-1", "id-2"]
    assert rows[0]["sentence1"] == f"Cr 2.9.{boundary}BUN 40."
    # MeDiSumCode / MeDiSumQA JSON lines go through the same reader
    code = json.dumps({"hadm_id": 1, "text": f"Note{boundary}text", "icd_codes": [{"code": "I10", "description": "x"}]},
                      ensure_ascii=False)
    rows = read_dataset("medisumcode", place(tmp_path, "medisumcode", code + "\n" + code.replace('": 1,', '": 2,'))).rows
    assert len(rows) == 2 and rows[0]["text"] == f"Note{boundary}text"


@pytest.mark.parametrize(
    "lines, line, field, needle",
    [
        ([MEDNLI_ROW, "{broken"], 2, None, "broken JSON line"),
        ([MEDNLI_ROW, {**MEDNLI_ROW, "pairID": "id-2", "gold_label": "maybe"}], 2, "gold_label", "unknown label 'maybe'"),
        ([{k: v for k, v in MEDNLI_ROW.items() if k != "sentence2"}], 1, "sentence2", "missing field"),
        ([MEDNLI_ROW, {**MEDNLI_ROW, "pairID": "id-2"}, MEDNLI_ROW], 3, "pairID", "duplicate id 'id-1' (first on line 1)"),
        ([{**MEDNLI_ROW, "gold_label": 1}], 1, "gold_label", "expected a string, got number"),
        ([[1, 2]], 1, None, "must be a JSON object, got list"),
    ],
)
def test_mednli_malformed(tmp_path, lines, line, field, needle):
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    err = error_of("mednli", place(tmp_path, "mednli", text))
    assert (err.line, err.field) == (line, field)
    assert needle in str(err)


def test_non_utf8_names_the_line(tmp_path):
    raw = jl(MEDNLI_ROW).encode() + '{"sentence1": "fi\u00e8vre"}\n'.encode("latin-1")
    err = error_of("mednli", place(tmp_path, "mednli", raw))
    assert err.line == 2 and "not valid UTF-8" in str(err) and "0xe8" in str(err)


# ---------------------------------------------------------------- meqsum
def xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def meq_path(root: Path) -> Path:
    return root / DATA_FILES["meqsum"]


def test_meqsum_reads_rows_and_ignores_trailing_blank_rows(tmp_path):
    path = xlsx(meq_path(tmp_path), [["File", "CHQ", "Summary"], ["f1.txt", "SUBJECT: a\nMESSAGE: b", "Q1?"],
                                     [None, "c", "Q2?"], [None, None, None]])
    rows = read_dataset("meqsum", path).rows
    assert rows == [
        {"File": "f1.txt", "CHQ": "SUBJECT: a\nMESSAGE: b", "Summary": "Q1?", "id": "f1.txt"},
        {"File": None, "CHQ": "c", "Summary": "Q2?", "id": "row-3"},
    ]


@pytest.mark.parametrize(
    "rows, line, field, needle",
    [
        ([["File", "CHQ"], ["f", "q"]], 1, "Summary", "missing column"),
        ([["File", "CHQ", "Summary"], ["f1", "q", "s"], ["f2", None, "s"]], 3, "CHQ", "empty cell"),
        ([["File", "CHQ", "Summary"], ["f1", 42, "s"]], 2, "CHQ", "expected text, got number"),
        ([["File", "CHQ", "Summary"], ["f1", "q", "s"], ["f1", "q2", "s2"]], 3, "File", "duplicate id 'f1' (first on line 2)"),
    ],
)
def test_meqsum_malformed(tmp_path, rows, line, field, needle):
    err = error_of("meqsum", xlsx(meq_path(tmp_path), rows))
    assert (err.line, err.field) == (line, field)
    assert needle in str(err)


def test_meqsum_not_a_workbook(tmp_path):
    err = error_of("meqsum", place(tmp_path, "meqsum", "File,CHQ,Summary\n"))
    assert "not a readable .xlsx workbook" in str(err)


@pytest.mark.skipif(not (REAL_DATA / DATA_FILES["meqsum"]).exists(),
                    reason="real MeQSum not present beside the checkout (../shared/data) (public file; `clue data fetch` gets it)")
def test_real_meqsum_through_data_dir_and_env(monkeypatch):
    ds = resolve_dataset("meqsum", REAL_DATA)
    assert (len(ds.rows), ds.synthetic, ds.sha256) == (1000, False, MEQSUM_SHA)
    assert len({r["id"] for r in ds.rows}) == 1000
    assert set(ds.rows[0]) == {"id", "File", "CHQ", "Summary"}
    assert ds.rows[0]["CHQ"].startswith("SUBJECT:")
    monkeypatch.setenv("CLUE_DATA_DIR", str(REAL_DATA))
    assert resolve_dataset("meqsum", None).sha256 == MEQSUM_SHA


# ---------------------------------------------------------------- problem_summary
PS_HEADER = '"File ID","Assessment","Subjective Sections","Objective Sections","Summary"\n'


def test_problem_summary_multiline_quoted_fields_and_normalised_names(tmp_path):
    text = ("\ufeff" + PS_HEADER
            + '"a1.txt","72 yo M with ""CHF"", AKI","CC: SOB\nHPI: 3 days, worse","BP 90/60","CHF; AKI"\n'
            + '"a2.txt","Assess","Subj","Obj","Sepsis"\n')
    rows = read_dataset("problem_summary", place(tmp_path, "problem_summary", text)).rows
    assert [r["id"] for r in rows] == ["a1.txt", "a2.txt"]
    assert rows[0]["Subjectives"] == "CC: SOB\nHPI: 3 days, worse"
    assert rows[0]["Subjective Sections"] == rows[0]["Subjectives"]
    assert rows[0]["Assessment"] == '72 yo M with "CHF", AKI'
    assert rows[0]["Objective Sections"] == "BP 90/60" and rows[0]["Summary"] == "CHF; AKI"


def test_problem_summary_accepts_the_reference_column_names(tmp_path):
    text = 'Subjectives,Assessment,Summary\nS,A,"X; Y"\n'
    rows = read_dataset("problem_summary", place(tmp_path, "problem_summary", text)).rows
    assert rows == [{"id": "row-1", "Subjectives": "S", "Assessment": "A", "Summary": "X; Y"}]


@pytest.mark.parametrize(
    "body, line, field, needle",
    [
        ('"File ID","Subjective Sections","Summary"\n"a","s","x"\n', 1, "Assessment",
         "expected one of 'Assessment', 'Assessment Sections'"),
        # record 1 spans lines 2-3, so the short record starts on line 4
        (PS_HEADER + '"a","A","S\nmore","O","x"\n"b","A","S"\n', 4, None, "row has 3 fields but the header has 5"),
        (PS_HEADER + '"a","A","S","O","x"\n"a","A","S","O","y"\n', 3, "File ID", "duplicate id 'a' (first on line 2)"),
        (PS_HEADER + '"a","A","S","O",""\n', 2, "Summary", "empty value"),
    ],
)
def test_problem_summary_malformed(tmp_path, body, line, field, needle):
    err = error_of("problem_summary", place(tmp_path, "problem_summary", body))
    assert (err.line, err.field) == (line, field)
    assert needle in str(err)


# ---------------------------------------------------------------- longhealth
def lh_question(**over: object) -> dict:
    q = {"No": 1, "question": "Which drug?", "answer_a": "Aspirin", "answer_b": "Heparin", "answer_c": "Warfarin",
         "answer_d": "Apixaban", "answer_e": "None", "correct": "Warfarin",
         "answer_location": {"text_1": {"start": [0.25], "end": [0.5]}}}
    q.update(over)
    return q


def lh_file(root: Path, questions: list[dict], extra: str = "") -> Path:
    patient = {"name": "Test Person", "texts": {"text_0": "Letter one.", "text_1": "Letter two: warfarin."},
               "questions": questions}
    body = json.dumps({"patient_01": patient}, indent=1)
    if extra:
        body = body.rstrip()[:-1] + "," + extra + "}"
    return place(root, "longhealth", body)


def test_longhealth_rows_per_patient_with_correct_letter(tmp_path):
    rows = read_dataset("longhealth", lh_file(tmp_path, [lh_question(), lh_question(correct="Heparin",
                                                                                      answer_location=None)])).rows
    assert len(rows) == 1 and rows[0]["id"] == "patient_01" and rows[0]["name"] == "Test Person"
    assert [q["correct_letter"] for q in rows[0]["questions"]] == ["C", "B"]
    assert rows[0]["questions"][1]["answer_location"] == {}
    assert rows[0]["texts"]["text_1"] == "Letter two: warfarin."


def test_longhealth_gold_letter_is_the_last_containing_option_and_ambiguity_is_flagged(tmp_path):
    """The reference (eval_LongHealth.py, compute_metrics) loops over answer_a..answer_e and sets
    the letter for every option containing `correct`, without a break: the last one wins. An
    ambiguous question is kept and flagged, never a reason to refuse the file."""
    questions = [
        lh_question(answer_b="Warfarin"),  # B and C are both exactly "Warfarin": C
        lh_question(answer_a="Warfarin", answer_c="Warfarin 5 mg"),  # exact A, containing C: C
        lh_question(correct="farin"),  # only C contains it: unambiguous
        lh_question(correct="Warfarin "),  # raw string in no option: its stripped form decides
    ]
    rows = read_dataset("longhealth", lh_file(tmp_path, questions)).rows
    qs = rows[0]["questions"]
    assert [q["correct_letter"] for q in qs] == ["C", "C", "C", "C"]
    assert [q["correct_letters"] for q in qs] == [["B", "C"], ["A", "C"], ["C"], ["C"]]
    assert rows[0]["warnings"] == [
        "patient_01.questions[0].correct: 'Warfarin' is contained in options B, C; scored as C "
        "(the reference's rule: the last containing option)",
        "patient_01.questions[1].correct: 'Warfarin' is contained in options A, C; scored as C "
        "(the reference's rule: the last containing option)",
    ]


def test_longhealth_correct_letter_rule_by_hand():
    from cluebench.datasets.readers.longhealth import correct_letter

    assert correct_letter([("A", "Aspirin"), ("B", "Aspirin and heparin")], "Aspirin") == ("B", ["A", "B"])
    assert correct_letter([("A", "Aspirin and heparin"), ("B", "Aspirin")], "Aspirin") == ("B", ["A", "B"])
    assert correct_letter([("A", "follicular lymphoma"), ("B", "glioma")], "lymphoma") == ("A", ["A"])
    assert correct_letter([("A", "Lymphoma"), ("B", "glioma")], "lymphoma") == (None, [])  # case-sensitive
    assert correct_letter([("A", "x"), ("B", "y")], "z") == (None, [])


@pytest.mark.parametrize(
    "questions, field, needle",
    [
        ([lh_question(), lh_question(correct="Clopidogrel")], "patient_01.questions[1].correct", "matches no option"),
        ([lh_question(answer_location={"text_9": {"start": [0.1], "end": [0.2]}})],
         "patient_01.questions[0].answer_location.text_9", "text id 'text_9' is not in this patient's texts"),
        ([lh_question(answer_location={"text_0": {"start": "0.1", "end": [0.2]}})],
         "patient_01.questions[0].answer_location.text_0.start", "expected a list of numbers"),
        ([{k: v for k, v in lh_question().items() if k != "answer_c"}], "patient_01.questions[0].answer_c", "missing field"),
    ],
)
def test_longhealth_malformed_questions(tmp_path, questions, field, needle):
    err = error_of("longhealth", lh_file(tmp_path, questions))
    assert err.field == field and err.line == 2
    assert needle in str(err)


def test_longhealth_duplicate_patient_and_bad_shapes(tmp_path):
    path = lh_file(tmp_path, [lh_question()], extra='\n"patient_01": {"texts": {}}')
    err = error_of("longhealth", path)
    assert "duplicate id 'patient_01' (first on line 2)" in str(err)
    lines = path.read_text().splitlines()
    assert lines[err.line - 1] == '"patient_01": {"texts": {}}}'  # the duplicate key's own line
    err = error_of("longhealth", place(tmp_path, "longhealth", '[{"texts": {}}]'))
    assert "expected a JSON object of patients" in str(err)
    err = error_of("longhealth", place(tmp_path, "longhealth", '{"p1": {"questions": []}}'))
    assert err.field == "p1.texts" and "missing field" in str(err)
    err = error_of("longhealth", place(tmp_path, "longhealth", '{\n"p1": {"texts": {"t": "x"},\n"questions": [}\n}'))
    assert err.line == 3 and "broken JSON" in str(err)


# ---------------------------------------------------------------- medisumqa
QA = {"note_id": "n1", "discharge_summary": "Letter.", "Question": "Why?", "Answer": "Because."}


def test_medisumqa_list_and_lines_with_ids(tmp_path):
    records = [QA, {**QA, "Question": "How?"}, {**QA, "note_id": "n2"},
               {k: v for k, v in QA.items() if k != "note_id"}]
    rows = read_dataset("medisumqa", place(tmp_path, "medisumqa", json.dumps(records, indent=2))).rows
    assert [r["id"] for r in rows] == ["n1/0", "n1/1", "n2", "3"]
    gen = {"note_id": 7, "with_discharge_summary": "Full.", "without_discharge_summary": "Short.",
           "Question": "Q?", "Answer": "A."}
    rows = read_dataset("medisumqa", place(tmp_path, "medisumqa", jl(gen))).rows
    assert rows[0]["id"] == "7" and rows[0]["discharge_summary"] == "Short."
    assert rows[0]["with_discharge_summary"] == "Full."


@pytest.mark.parametrize(
    "body, line, field, needle",
    [
        (jl(QA, {**QA, "Answer": None}), 2, "Answer", "expected a string, got null"),
        (jl({k: v for k, v in QA.items() if k != "discharge_summary"}), 1, "discharge_summary",
         "also accepted: 'without_discharge_summary'"),
        ('[\n' + json.dumps(QA) + ',\n{"note_id": "n2",\n}\n]', 4, None, "broken JSON"),
        (jl(QA, {**QA, "note_id": ["x"]}), 2, "note_id", "expected a string or integer id"),
    ],
)
def test_medisumqa_malformed(tmp_path, body, line, field, needle):
    err = error_of("medisumqa", place(tmp_path, "medisumqa", body))
    assert (err.line, err.field) == (line, field)
    assert needle in str(err)


# ---------------------------------------------------------------- medisumcode
CODE = {"hadm_id": 20000001, "text": "Note.", "icd_codes": [{"code": "I10", "description": "Essential hypertension"}]}


def test_medisumcode_list_lines_and_a_5mb_note(tmp_path):
    big = "Brief Hospital Course: stable. " * (5 * 1024 * 1024 // 31 + 1)
    records = [CODE, {"text": big, "icd_codes": []}]
    for body in (json.dumps(records), jl(*records)):
        rows = read_dataset("medisumcode", place(tmp_path, "medisumcode", body)).rows
        assert [r["id"] for r in rows] == ["20000001", "1"]
        assert rows[1]["text"] == big and len(big) > 5 * 1024 * 1024
        assert rows[0]["icd_codes"] == CODE["icd_codes"]


@pytest.mark.parametrize(
    "records, line, field, needle",
    [
        ([CODE, CODE], 2, "hadm_id", "duplicate id '20000001' (first on line 1)"),
        ([{**CODE, "icd_codes": "I10"}], 1, "icd_codes", "expected a list of {code, description}, got string"),
        ([{**CODE, "icd_codes": [{"code": "I10"}, {"description": "x"}]}], 1, "icd_codes[1].code", "missing field"),
        ([{"hadm_id": 1, "icd_codes": []}], 1, "text", "missing field"),
        ([{**CODE, "hadm_id": 1.5}], 1, "hadm_id", "expected a string or integer id, got number"),
    ],
)
def test_medisumcode_malformed(tmp_path, records, line, field, needle):
    err = error_of("medisumcode", place(tmp_path, "medisumcode", jl(*records)))
    assert (err.line, err.field) == (line, field)
    assert needle in str(err)
