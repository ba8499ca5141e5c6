"""BioNLP 2023 shared task 1A (`BioNLP2023-1A-Test.csv`): a CSV with a header row whose fields
contain newlines and quotes. Upstream column names differ from the names the reference prompt
uses; the accepted alternatives are listed in the protocol file's
`[tasks.problem_summary.settings]` and normalised to `Subjectives`, `Assessment`, `Summary`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cluebench.datasets._demo import MARK, write_text
from cluebench.datasets.readers import demo_writer, reader
from cluebench.datasets._io import IdRegistry, decode_utf8
from cluebench.errors import DataError
from cluebench.protocol import load_protocol

ID_COLUMN = "File ID"
# normalised name -> settings key listing the accepted upstream names
_COLUMNS = {
    "Subjectives": "subjective_columns",
    "Assessment": "assessment_columns",
    "Summary": "summary_columns",
}


def _pick_columns(path: Path, header: list[str]) -> dict[str, str]:
    settings = load_protocol().task("problem_summary").settings
    chosen: dict[str, str] = {}
    for name, key in _COLUMNS.items():
        options = list(getattr(settings, key))
        found = next((c for c in options if c in header), None)
        if found is None:
            raise DataError(
                path,
                f"missing column: expected one of {', '.join(repr(c) for c in options)}; "
                f"header has {', '.join(repr(h) for h in header)}",
                line=1,
                field=name,
            )
        chosen[name] = found
    return chosen


@reader(
    "problem_summary",
    obtain=(
        "The BioNLP 2023 task 1A (Problem Summary) data is credentialed data on PhysioNet. As a credentialed "
        "user, sign the data use agreement at https://physionet.org/content/bionlp-workshop-2023-task-1a/2.0.0/, "
        "download BioNLP2023-1A-Test.csv and put it at {path}."
    ),
)
def read_problem_summary(path: Path, raw: bytes) -> list[dict]:
    """Rows ``{"id": File ID or "row-N", "Subjectives", "Assessment", "Summary", ...original}``."""
    text = decode_utf8(path, raw)
    # csv's default field limit is 128 KiB; a clinical note of megabytes is a legal field. No
    # field can be longer than the file itself, so that is the limit (read per call: it is global).
    csv.field_size_limit(max(csv.field_size_limit(), min(len(text) + 1, 2**31 - 1)))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise DataError(path, f"broken CSV header: {exc}", line=1) from None
    if not any(header):
        raise DataError(path, "no header row", line=1)
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise DataError(path, f"duplicate column name(s) {', '.join(map(repr, dupes))}", line=1)
    columns = _pick_columns(path, header)
    ids = IdRegistry(path, ID_COLUMN)
    rows: list[dict] = []
    n = 0
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(path, f"broken CSV: {exc}", line=reader.line_num) from None
        if not record or all(not v.strip() for v in record):
            continue
        n += 1
        if len(record) != len(header):
            raise DataError(path, f"row has {len(record)} fields but the header has {len(header)}", line=start)
        original = {h: v for h, v in zip(header, record) if h}
        if not original[columns["Summary"]].strip():
            raise DataError(path, "empty value", line=start, field=columns["Summary"])
        ident = original.get(ID_COLUMN, "").strip() or f"row-{n}"
        ids.add(ident, start)
        row = dict(original)
        row.update({"id": ident, **{name: original[col] for name, col in columns.items()}})
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# The synthetic demo file: invented (subjective, objective, assessment, summary with "; ") notes,
# none from BioNLP 2023 1A.
# --------------------------------------------------------------------------------------------
DEMO_ROWS = [
    ("CC: shortness of breath.\nHPI: 71 yo M with HFrEF (EF 25%) presents with 5 days of worsening dyspnea, "
     "orthopnea and 4 kg weight gain after running out of furosemide.",
     "T 36.8 HR 104 BP 142/88 RR 24 SpO2 89% RA. JVP to angle of jaw, bibasilar crackles, 2+ pitting edema. "
     "BNP 2,310. CXR: pulmonary vascular congestion.",
     "71 yo M with chronic systolic heart failure presenting with acute decompensation in the setting of "
     "medication nonadherence, with hypoxemia.",
     "Acute on chronic systolic heart failure; Hypoxemia; Medication nonadherence"),
    ("CC: fever, cough.\nHPI: 58 yo F with COPD on 2L home O2 with 3 days of increased sputum, fevers and "
     "dyspnea. Daughter reports new confusion today.",
     "T 38.9 HR 118 BP 92/54 RR 28 SpO2 86% on 2L. Rhonchi right base. WBC 17.4, lactate 3.1. CXR: right lower "
     "lobe consolidation.",
     "58 yo F with COPD presenting with sepsis from right lower lobe pneumonia with COPD exacerbation and "
     "acute on chronic hypoxemic respiratory failure.",
     "Sepsis; Right lower lobe pneumonia; COPD exacerbation; Acute on chronic hypoxemic respiratory failure"),
    ("CC: vomiting.\nHPI: 24 yo M with type 1 diabetes, ran out of insulin 2 days ago, now nausea, vomiting, "
     "abdominal pain.",
     "HR 122 BP 108/64 RR 30. Glucose 512, bicarbonate 9, anion gap 28, beta-hydroxybutyrate 6.2, K 5.6.",
     "24 yo M with type 1 diabetes presenting with diabetic ketoacidosis after insulin omission.",
     "Diabetic ketoacidosis; Type 1 diabetes mellitus; Hyperkalemia"),
    ("CC: black stools.\nHPI: 66 yo M on naproxen for knee pain with 2 days of melena and lightheadedness.",
     "HR 112 BP 96/60. Hgb 6.8 (baseline 13). BUN 58. EGD: 1.5 cm duodenal ulcer with visible vessel, clipped.",
     "66 yo M with upper GI bleed from NSAID-associated duodenal ulcer with acute blood loss anemia.",
     "Upper gastrointestinal bleed; Duodenal ulcer; Acute blood loss anemia; NSAID use"),
    ("CC: right sided weakness.\nHPI: 79 yo F with atrial fibrillation not on anticoagulation, found at 09:00 "
     "with right arm weakness and word-finding difficulty, last known well 07:30.",
     "NIHSS 9. CT head no hemorrhage. CTA: left M2 occlusion. Irregularly irregular rhythm.",
     "79 yo F with atrial fibrillation presenting with acute left MCA ischemic stroke, likely cardioembolic.",
     "Acute ischemic stroke; Left MCA occlusion; Atrial fibrillation"),
    ("CC: abdominal pain.\nHPI: 45 yo F with gallstones and 1 day of epigastric pain radiating to the back, "
     "with nausea.",
     "Lipase 3,400. ALT 210, AST 180, bilirubin 2.4. RUQ ultrasound: cholelithiasis, CBD 8 mm.",
     "45 yo F with acute gallstone pancreatitis with possible choledocholithiasis.",
     "Acute pancreatitis; Gallstone pancreatitis; Choledocholithiasis"),
    ("CC: leg swelling.\nHPI: 52 yo M 10 days after right knee replacement with painful swelling of the right calf.",
     "Right calf 4 cm larger than left. Duplex: occlusive thrombus of right popliteal vein. SpO2 98% RA.",
     "52 yo M with provoked right lower extremity deep vein thrombosis after knee arthroplasty.",
     "Deep vein thrombosis of right lower extremity; Status post right knee arthroplasty"),
    ("CC: confusion.\nHPI: 83 yo F from assisted living with 2 days of confusion and poor oral intake; "
     "dysuria per staff.",
     "T 38.2 HR 96. UA: large leukocyte esterase, nitrite positive. Na 149, Cr 1.8 (baseline 0.9).",
     "83 yo F with toxic-metabolic encephalopathy from urinary tract infection with hypernatremia and "
     "prerenal acute kidney injury.",
     "Urinary tract infection; Toxic metabolic encephalopathy; Hypernatremia; Acute kidney injury"),
    ("CC: chest pain.\nHPI: 61 yo M smoker with 40 minutes of substernal pressure radiating to the left arm.",
     "ECG: ST elevation in II, III, aVF. Troponin 4.2. Cath: 100% RCA occlusion, drug-eluting stent placed.",
     "61 yo M with inferior ST-elevation myocardial infarction treated with RCA stenting; tobacco use.",
     "Inferior ST elevation myocardial infarction; Coronary artery disease; Tobacco use"),
    ("CC: fall.\nHPI: 88 yo F tripped on a rug, unable to bear weight on the left leg.",
     "Left leg shortened and externally rotated. X-ray: displaced left femoral neck fracture. Hgb 10.9.",
     "88 yo F with mechanical fall and displaced left femoral neck fracture, status post hemiarthroplasty.",
     "Left femoral neck fracture; Mechanical fall; Anemia"),
    ("CC: weakness.\nHPI: 69 yo M with CKD stage 4 with 3 days of fatigue and palpitations after a course of "
     "trimethoprim-sulfamethoxazole.",
     "K 7.1, Cr 4.6 (baseline 3.2). ECG: peaked T waves.",
     "69 yo M with CKD stage 4 presenting with severe hyperkalemia and acute kidney injury, likely medication related.",
     "Hyperkalemia; Acute kidney injury; Chronic kidney disease stage 4"),
    ("CC: seizure.\nHPI: 34 yo F with epilepsy on levetiracetam, missed doses for a week, witnessed "
     "generalized seizure at work.",
     "Post-ictal on arrival, back to baseline in 2 hours. Tongue laceration. CT head negative.",
     "34 yo F with known epilepsy presenting with breakthrough generalized seizure due to missed doses.",
     "Breakthrough seizure; Epilepsy; Medication nonadherence"),
]


@demo_writer("problem_summary")
def write_demo(path: Path) -> None:
    """The demo CSV in the upstream column names, File IDs "SYNTHETIC-ps-NNNN.txt"."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["File ID", "Assessment", "Subjective Sections", "Objective Sections", "Summary"])
    for i, (subj, obj, assessment, summary) in enumerate(DEMO_ROWS, start=1):
        writer.writerow([f"{MARK}-ps-{i:04d}.txt", assessment, subj, obj, summary])
    write_text(path, buf.getvalue())
