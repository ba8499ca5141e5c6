"""LongHealth (`benchmark_v5.json`): one JSON object, patient id -> {`name`, `birthday`,
`diagnosis`, `texts` {text id: document}, `questions` [...]}. Each question has `question`,
`answer_a`..`answer_e`, `correct` (the text of the right option) and `answer_location`
{text id: {`start`: [...], `end`: [...]}} (relative positions in that text).

Gold letter: the reference's rule, the *last* option containing `correct` (see
:func:`correct_letter`); a question where several options contain it is kept and flagged."""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from cluebench.datasets._demo import write_text
from cluebench.datasets.readers import PublicSource, demo_writer, reader
from cluebench.datasets._io import decode_utf8, iter_json_top, require_object, require_str, type_name
from cluebench.errors import DataError

OPTION_KEYS = ("answer_a", "answer_b", "answer_c", "answer_d", "answer_e")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def correct_letter(options: Sequence[tuple[str, str]], correct: str) -> tuple[str | None, list[str]]:
    """The gold letter by the reference's rule, and every letter whose option contains `correct`.

    The rule (TIO-IKIM/CLUE ``eval/eval_LongHealth.py``, ``compute_metrics``): loop over the
    question's ``answer_*`` options in order and, for each whose text contains `correct` (a
    case-sensitive substring test, no exact-match preference, no stripping), set the letter:
    the loop has no ``break``, so the **last** containing option wins. `options` are (letter,
    text) in the file's key order (A..E in LongHealth, then F where the task adds it). When no
    option contains the raw string, its stripped form is tried (the reference would crash).
    More than one containing letter makes the question ambiguous: it is kept and flagged.
    """
    for needle in (correct, correct.strip()):
        matches = [letter for letter, text in options if needle and needle in text]
        if matches:
            return matches[-1], matches
    return None, []


def _options(q: dict) -> list[tuple[str, str]]:
    """The question's A..E options in the file's key order (the order the reference loops in)."""
    return [(k[-1].upper(), q[k]) for k in q if k in OPTION_KEYS]


def _correct_letter(path: Path | str, q: dict, line: int | None, field: str) -> tuple[str, list[str]]:
    letter, matches = correct_letter(_options(q), q["correct"])
    if letter is None:
        raise DataError(path, f"correct answer {q['correct'].strip()!r} matches no option; it must be "
                        "contained in the text of an option (answer_a..answer_e)", line=line, field=f"{field}.correct")
    return letter, matches


def _check_location(path: Path, loc: Any, texts: dict, line: int, field: str) -> dict:
    if loc is None:
        return {}
    if not isinstance(loc, dict):
        raise DataError(path, f"expected an object, got {type_name(loc)}", line=line, field=field)
    for text_id, span in loc.items():
        where = f"{field}.{text_id}"
        if text_id not in texts:
            raise DataError(path, f"unknown text {text_id!r}: text id {text_id!r} is not in this patient's "
                            f"texts ({', '.join(texts)})", line=line, field=where)
        if not isinstance(span, dict):
            raise DataError(path, f"expected an object with start/end, got {type_name(span)}", line=line, field=where)
        for key in ("start", "end"):
            values = span.get(key)
            if not isinstance(values, list) or not all(_is_number(v) for v in values):
                raise DataError(path, f"expected a list of numbers, got {type_name(values)}",
                                line=line, field=f"{where}.{key}")
        if len(span["start"]) != len(span["end"]):
            raise DataError(path, "start and end lists differ in length", line=line, field=where)
    return loc


def check_patient(path: Path | str, pid: str, value: Any, line: int | None) -> dict:
    """One patient record validated and normalised: the row ``{"id", "texts", "questions",
    ...original}``. Each question gains `correct_letter` (the reference's gold letter, see
    :func:`correct_letter`) and `correct_letters` (every option containing `correct`), and a
    missing/null `answer_location` becomes ``{}``. The row's `warnings` list names each
    ambiguous question. This is the one validation of LongHealth data: the reader applies it to
    the file, the task to rows that did not come through the reader.
    """
    patient = require_object(path, value, line, f"patient {pid!r}")
    texts = patient.get("texts")
    if "texts" not in patient:
        raise DataError(path, "missing field", line=line, field=f"{pid}.texts")
    if not isinstance(texts, dict) or not texts:
        raise DataError(path, f"expected a non-empty object of documents, got {type_name(texts)}",
                        line=line, field=f"{pid}.texts")
    for text_id, doc in texts.items():
        if not isinstance(doc, str):
            raise DataError(path, f"expected a string, got {type_name(doc)}", line=line, field=f"{pid}.texts.{text_id}")
    questions = patient.get("questions")
    if "questions" not in patient:
        raise DataError(path, "missing field", line=line, field=f"{pid}.questions")
    if not isinstance(questions, list):
        raise DataError(path, f"expected a list, got {type_name(questions)}", line=line, field=f"{pid}.questions")
    checked: list[dict] = []
    warnings: list[str] = []
    for i, q in enumerate(questions):
        field = f"{pid}.questions[{i}]"
        if not isinstance(q, dict):
            raise DataError(path, f"expected an object, got {type_name(q)}", line=line, field=field)
        for key in ("question", *OPTION_KEYS, "correct"):
            require_str(path, q, key, line, field=f"{field}.{key}", allow_empty=False)
        letter, matches = _correct_letter(path, q, line, field)
        if len(matches) > 1:
            warnings.append(ambiguity_note(field, q["correct"], matches))
        location = _check_location(path, q.get("answer_location"), texts, line, f"{field}.answer_location")
        checked.append({**q, "answer_location": location, "correct_letter": letter, "correct_letters": matches})
    return {**patient, "id": pid, "texts": texts, "questions": checked, "warnings": warnings}


def ambiguity_note(field: str, correct: str, letters: Sequence[str]) -> str:
    """One line saying that a question's gold letter is ambiguous and which letter is scored."""
    return (f"{field}.correct: {correct.strip()!r} is contained in options {', '.join(letters)}; "
            f"scored as {letters[-1]} (the reference's rule: the last containing option)")


@reader(
    "longhealth",
    source=PublicSource(
        task="longhealth",
        url="https://raw.githubusercontent.com/kbressem/LongHealth/main/data/benchmark_v5.json",
        sha256=None,
        licence="see github.com/kbressem/LongHealth; cite Adams et al., arXiv 2401.14490",
    ),
    rows_note="rows are patients; the paper's n counts questions",
)
def read_longhealth(path: Path, raw: bytes) -> list[dict]:
    """One row per patient (see :func:`check_patient`)."""
    text = decode_utf8(path, raw)
    rows: list[dict] = []
    for key, value, line in iter_json_top(path, text):
        if not isinstance(key, str):
            raise DataError(path, "expected a JSON object of patients (patient id -> record), got a list", line=1)
        rows.append(check_patient(path, key, value, line))
    return rows


# --------------------------------------------------------------------------------------------
# The synthetic demo file: 3 invented patients x 4 short documents (body + appendix) x 3 questions;
# each question names the sentence (evidence) that answers it, from which answer_location is computed.
# --------------------------------------------------------------------------------------------
DEMO_ROWS = {
    "patient_01": dict(
        name="SYNTHETIC Greta Holloway", birthday="1956-03-14", diagnosis="Diffuse large B-cell lymphoma",
        texts=[
            "Dear colleague, we report on Mrs. Greta Holloway, born 14/03/1956, who was admitted to our "
            "hematology ward from 02/05/2021 to 09/05/2021.\nDiagnosis: Diffuse large B-cell lymphoma, stage "
            "IIIA, with cervical, mediastinal and abdominal lymph node involvement.\nHistory: The patient "
            "noticed painless swelling on the left side of the neck over six weeks, accompanied by night sweats "
            "and a weight loss of 4 kg. An excisional biopsy of a left cervical lymph node confirmed diffuse "
            "large B-cell lymphoma, germinal center type, Ki-67 80%.\nStaging: PET-CT showed FDG-avid lymph "
            "nodes above and below the diaphragm, no bone marrow involvement on biopsy. LDH was elevated at "
            "412 U/l.\nTherapy: The first cycle of R-CHOP (rituximab, cyclophosphamide, doxorubicin, "
            "vincristine, prednisone) was started on 04/05/2021 and tolerated well. Prophylaxis with allopurinol "
            "and aciclovir was initiated.\nWe discharged Mrs. Holloway in good general condition and ask for "
            "weekly blood counts.",
            "Dear colleague, we report on Mrs. Greta Holloway, born 14/03/1956, who presented to our emergency "
            "department on 17/05/2021.\nDiagnosis: Febrile neutropenia after the first cycle of R-CHOP.\n"
            "Findings: Temperature 38.9 C, heart rate 108/min, blood pressure 118/72 mmHg. Leukocytes 0.6 G/l, "
            "neutrophils 0.2 G/l, hemoglobin 10.1 g/dl, platelets 98 G/l. C-reactive protein 86 mg/l. Blood "
            "cultures grew Escherichia coli.\nCourse: Empirical therapy with piperacillin-tazobactam was started "
            "immediately and the fever resolved within 48 hours. Filgrastim was given until neutrophil recovery. "
            "No focus other than bacteremia was found; chest x-ray was normal.\nRecommendation: For the following "
            "cycles, primary prophylaxis with pegfilgrastim is recommended.",
            "Dear colleague, we report on the interim staging of Mrs. Greta Holloway, born 14/03/1956, after four "
            "cycles of R-CHOP, seen on 12/08/2021.\nFindings: PET-CT showed a complete metabolic response "
            "(Deauville score 2) of all previously involved lymph node regions. LDH normalized to 198 U/l.\n"
            "Tolerance: Grade 1 peripheral neuropathy of the fingertips developed after the third cycle; the "
            "vincristine dose was reduced by 50% for cycle four. No further infections occurred with "
            "pegfilgrastim prophylaxis.\nPlan: Two further cycles of R-CHOP followed by two cycles of rituximab "
            "monotherapy, as planned.",
            "Dear colleague, we report on the end-of-treatment evaluation of Mrs. Greta Holloway, born "
            "14/03/1956, on 02/11/2021.\nTherapy completed: six cycles of R-CHOP and two cycles of rituximab. "
            "Final PET-CT confirmed ongoing complete remission.\nEchocardiography showed a left ventricular "
            "ejection fraction of 58%, unchanged from baseline despite doxorubicin exposure.\nThe neuropathy has "
            "improved and no longer limits daily activities. The patient has returned to gardening and reports "
            "good energy.\nFollow-up: clinical visits every three months for two years, with blood counts and "
            "LDH; imaging only if symptoms recur.",
        ],
        appendix=[
            'Physical examination on admission: alert, oriented, ECOG 1. Left cervical lymph node conglomerate of 4 x 3 cm, firm, not tender. No hepatosplenomegaly. Heart and lungs unremarkable.\nLaboratory on admission: hemoglobin 12.2 g/dl, leukocytes 7.9 G/l, platelets 301 G/l, creatinine 0.8 mg/dl, uric acid 6.1 mg/dl, hepatitis B and C serology negative, HIV negative.\nEchocardiography before therapy: left ventricular ejection fraction 60%.\nMedication on discharge: allopurinol 300 mg daily, aciclovir 400 mg twice daily, cotrimoxazole 960 mg three times weekly, pantoprazole 40 mg daily, ramipril 2.5 mg daily.',
            'Physical examination: reduced general condition, mucositis grade 1, no skin lesions, port site without redness, lungs clear, abdomen soft and non-tender.\nLaboratory on discharge (21/05/2021): leukocytes 4.8 G/l, neutrophils 2.9 G/l, hemoglobin 9.8 g/dl, platelets 142 G/l, C-reactive protein 12 mg/l.\nMedication on discharge: amoxicillin-clavulanate 875/125 mg twice daily for seven more days, allopurinol 300 mg daily, aciclovir 400 mg twice daily, cotrimoxazole 960 mg three times weekly.\nThe second cycle of R-CHOP was postponed by one week.',
            'Physical examination: no palpable lymph nodes, reduced sensation to light touch at the fingertips of both hands, normal muscle strength, reflexes preserved.\nLaboratory: hemoglobin 11.4 g/dl, leukocytes 5.2 G/l, platelets 188 G/l, creatinine 0.9 mg/dl, ALT 24 U/l, bilirubin 0.6 mg/dl.\nThe patient reports mild fatigue but manages her household independently. Hair loss is complete and expected to recover after therapy.\nMedication: allopurinol was stopped; aciclovir and cotrimoxazole continue until three months after the last rituximab dose.',
            'Physical examination: good general condition, no lymphadenopathy, no hepatosplenomegaly, residual numbness limited to the tips of the index fingers.\nLaboratory: hemoglobin 12.9 g/dl, leukocytes 6.1 G/l, platelets 244 G/l, LDH 176 U/l, immunoglobulin G 6.8 g/l (slightly low, no recurrent infections).\nVaccinations against influenza and pneumococci are recommended from six months after the last rituximab infusion.\nMedication: ramipril 2.5 mg daily; aciclovir and cotrimoxazole to be stopped in February 2022.',
        ],
        questions=[
            ("Which bacterium was found in the blood cultures during the febrile neutropenia?",
             ["Staphylococcus aureus", "Escherichia coli", "Klebsiella pneumoniae", "Pseudomonas aeruginosa",
              "Enterococcus faecalis"], 1, "Blood cultures grew Escherichia coli."),
            ("Why was the vincristine dose reduced?",
             ["Febrile neutropenia", "Elevated liver enzymes", "Peripheral neuropathy", "Reduced ejection fraction",
              "Constipation"], 2, "Grade 1 peripheral neuropathy of the fingertips developed after the third cycle"),
            ("What was the Ki-67 proliferation index in the initial biopsy?",
             ["20%", "40%", "60%", "80%", "95%"], 3, "Ki-67 80%"),
        ],
    ),
    "patient_02": dict(
        name="SYNTHETIC Tobias Wren", birthday="1961-11-02", diagnosis="Hepatocellular carcinoma",
        texts=[
            "Dear colleague, we report on Mr. Tobias Wren, born 02/11/1961, treated on our gastroenterology ward "
            "from 10/01/2022 to 16/01/2022.\nDiagnoses: Alcohol-related liver cirrhosis, Child-Pugh B7. New "
            "hepatocellular carcinoma in segment VI, 3.2 cm.\nHistory: Mr. Wren was referred because surveillance "
            "ultrasound showed a new liver lesion. He has been abstinent from alcohol since 2019. Alpha-fetoprotein "
            "was 245 ng/ml.\nImaging: Contrast-enhanced MRI showed arterial hyperenhancement with washout in "
            "segment VI, LI-RADS 5. No vascular invasion and no extrahepatic disease on CT of the chest.\n"
            "Endoscopy: small esophageal varices without red signs; propranolol 20 mg twice daily was started.\n"
            "The case will be discussed in the tumor board.",
            "Dear colleague, the multidisciplinary tumor board of 20/01/2022 discussed Mr. Tobias Wren, born "
            "02/11/1961.\nFindings: single hepatocellular carcinoma of 3.2 cm in segment VI, cirrhosis Child-Pugh "
            "B7, mild portal hypertension, performance status ECOG 1.\nRecommendation: Because of the liver "
            "function, resection is not advised. Transarterial chemoembolization (TACE) of segment VI is "
            "recommended, with evaluation for liver transplantation in parallel, as the patient fulfils the "
            "Milan criteria.",
            "Dear colleague, we report on Mr. Tobias Wren, born 02/11/1961, admitted on 03/02/2022 for the first "
            "transarterial chemoembolization.\nProcedure: Selective TACE of the segment VI tumor with "
            "doxorubicin-eluting beads via the right femoral artery, without complications.\nCourse: The patient "
            "developed post-embolization syndrome with fever up to 38.4 C, nausea and right upper quadrant pain, "
            "which resolved with fluids, metamizole and ondansetron within three days. Bilirubin rose transiently "
            "from 1.6 to 2.3 mg/dl.\nDischarge on 07/02/2022 in stable condition.",
            "Dear colleague, we report on the follow-up of Mr. Tobias Wren, born 02/11/1961, on 05/05/2022.\n"
            "MRI three months after TACE showed complete necrosis of the segment VI lesion (mRECIST complete "
            "response) and no new lesions. Alpha-fetoprotein fell to 9 ng/ml.\nThe patient was listed for liver "
            "transplantation on 28/04/2022. He remains abstinent; the latest phosphatidylethanol test was "
            "negative.\nMedication: propranolol 20 mg twice daily, spironolactone 50 mg daily, lactulose as needed.",
        ],
        appendix=[
            'Physical examination: spider naevi on the chest, palmar erythema, mild splenomegaly, no ascites, no asterixis.\nLaboratory: bilirubin 1.6 mg/dl, albumin 3.1 g/dl, INR 1.3, platelets 96 G/l, creatinine 0.9 mg/dl, sodium 136 mmol/l, MELD score 11.\nMedication on discharge: propranolol 20 mg twice daily, spironolactone 50 mg daily, lactulose 10 ml as needed for a soft stool twice daily, vitamin D 1,000 IU daily.\nThe patient was counselled about a low-salt diet and continued alcohol abstinence.',
            'Participants: hepatology, visceral surgery, interventional radiology, oncology and transplant surgery.\nImaging reviewed: MRI of 12/01/2022 and CT of the chest of 13/01/2022; portal vein patent, no tumor thrombus, no lymph node enlargement.\nFurther work-up for transplantation listing includes echocardiography, cardiopulmonary exercise testing, dental assessment, psychosocial evaluation and an addiction medicine consultation. The patient agreed to all steps after a detailed discussion and wishes to proceed.\nRe-evaluation of the tumor board after the first TACE with MRI after three months.',
            'Pre-procedure laboratory: INR 1.3, platelets 91 G/l, creatinine 0.8 mg/dl.\nPost-procedure care: bed rest for six hours with a pressure bandage at the puncture site; the groin was unremarkable on the next day.\nLaboratory on discharge: bilirubin 1.8 mg/dl, ALT 96 U/l, AST 110 U/l, C-reactive protein 41 mg/l, leukocytes 9.2 G/l.\nMedication on discharge: propranolol 20 mg twice daily, spironolactone 50 mg daily, lactulose as needed, metamizole 500 mg up to four times daily for pain for five days.',
            'Physical examination: no jaundice, no ascites, no encephalopathy; the groin puncture site has healed.\nLaboratory: bilirubin 1.4 mg/dl, albumin 3.3 g/dl, INR 1.2, platelets 101 G/l, creatinine 0.9 mg/dl; MELD score 10, Child-Pugh B7 unchanged.\nTransplant work-up: echocardiography with normal function, exercise testing without ischemia, dental status sanitized.\nPlan: MRI of the liver every three months while on the waiting list, alpha-fetoprotein monthly, and repeat TACE if viable tumor reappears.',
        ],
        questions=[
            ("Why was surgical resection not recommended by the tumor board?",
             ["Vascular invasion", "Extrahepatic metastases", "Impaired liver function", "Poor performance status",
              "Tumor size above 5 cm"], 2, "Because of the liver function, resection is not advised."),
            ("Which complication followed the first chemoembolization?",
             ["Post-embolization syndrome", "Variceal bleeding", "Liver abscess", "Femoral artery pseudoaneurysm",
              "Hepatic encephalopathy"], 0, "The patient developed post-embolization syndrome"),
            ("What was the alpha-fetoprotein level at diagnosis?",
             ["9 ng/ml", "45 ng/ml", "198 ng/ml", "245 ng/ml", "412 ng/ml"], 3, "Alpha-fetoprotein was 245 ng/ml."),
        ],
    ),
    "patient_03": dict(
        name="SYNTHETIC Mira Castellan", birthday="1979-07-21", diagnosis="Systemic lupus erythematosus",
        texts=[
            "Dear colleague, we report on Ms. Mira Castellan, born 21/07/1979, who was treated on our "
            "rheumatology ward from 14/03/2023 to 24/03/2023.\nDiagnoses: Systemic lupus erythematosus with "
            "lupus nephritis class IV (ISN/RPS). Arterial hypertension.\nHistory: The patient has known lupus "
            "since 2015 with arthritis and malar rash, treated with hydroxychloroquine. She presented with leg "
            "edema and foamy urine for three weeks.\nFindings: Blood pressure 162/98 mmHg. Proteinuria 3.8 g/day, "
            "active urinary sediment with red cell casts, creatinine 1.4 mg/dl. Anti-dsDNA strongly positive, "
            "complement C3 and C4 low.\nKidney biopsy on 16/03/2023 confirmed class IV lupus nephritis.\nTherapy: "
            "Induction with three methylprednisolone pulses followed by oral prednisolone and mycophenolate "
            "mofetil 1.5 g twice daily. Ramipril was started for blood pressure and proteinuria.",
            "Dear colleague, we report on the outpatient visit of Ms. Mira Castellan, born 21/07/1979, on "
            "02/06/2023.\nProteinuria decreased to 1.1 g/day and creatinine to 1.0 mg/dl. Prednisolone was tapered "
            "to 10 mg daily.\nThe patient reported diarrhea since the mycophenolate dose increase; it improved "
            "after switching to enteric-coated mycophenolate sodium.\nBlood pressure 128/80 mmHg on ramipril 5 mg.",
            "Dear colleague, we report on Ms. Mira Castellan, born 21/07/1979, admitted as an emergency on "
            "19/09/2023 with left-sided chest pain worse on inspiration.\nFindings: pericardial rub, ECG with "
            "diffuse ST elevation, small pericardial effusion on echocardiography without tamponade. Troponin "
            "normal. D-dimer negative.\nDiagnosis: lupus serositis with pericarditis.\nTherapy: colchicine 0.5 mg "
            "twice daily and a temporary increase of prednisolone to 20 mg, with rapid improvement.",
            "Dear colleague, we report on the annual review of Ms. Mira Castellan, born 21/07/1979, on 12/03/2024.\n"
            "Lupus nephritis is in complete renal response with proteinuria of 0.3 g/day. Anti-dsDNA titers are "
            "declining and complement levels have normalized.\nOphthalmology screening for hydroxychloroquine "
            "retinopathy was normal. Bone density showed osteopenia, so calcium, vitamin D and alendronate were "
            "started.\nPlan: continue mycophenolate sodium and hydroxychloroquine; taper prednisolone to 5 mg.",
        ],
        appendix=[
            'Physical examination: pitting edema of both lower legs, malar erythema, no synovitis, no oral ulcers, heart and lungs unremarkable.\nFurther laboratory: hemoglobin 10.8 g/dl, leukocytes 3.9 G/l, lymphocytes 0.8 G/l, platelets 172 G/l, albumin 2.6 g/dl, total cholesterol 284 mg/dl; antiphospholipid antibodies negative.\nMedication on discharge: prednisolone 50 mg daily with a taper plan, mycophenolate mofetil 1.5 g twice daily, hydroxychloroquine 200 mg twice daily, ramipril 2.5 mg daily, atorvastatin 20 mg daily, pantoprazole 40 mg daily, calcium and vitamin D, cotrimoxazole 480 mg daily.',
            'Physical examination: minimal ankle edema, no rash, no arthritis, weight 2 kg lower than at discharge.\nLaboratory: hemoglobin 11.9 g/dl, leukocytes 4.6 G/l, albumin 3.4 g/dl, anti-dsDNA 180 IU/ml (previously 640 IU/ml), C3 0.72 g/l.\nThe patient has returned to work as a teacher with reduced hours. Contraception was discussed because mycophenolate is teratogenic; she uses an intrauterine device.\nMedication: prednisolone 10 mg daily, mycophenolate sodium 720 mg twice daily, hydroxychloroquine 200 mg twice daily, ramipril 5 mg daily, atorvastatin 20 mg daily, cotrimoxazole 480 mg daily.',
            'Physical examination: pericardial friction rub at the left sternal border, temperature 37.9 C, blood pressure 124/78 mmHg, no signs of heart failure, no arthritis.\nLaboratory: C-reactive protein 38 mg/l, leukocytes 5.8 G/l, anti-dsDNA 220 IU/ml, C3 0.68 g/l, creatinine 0.9 mg/dl, proteinuria 0.6 g/day.\nEchocardiography on day 4 showed regression of the effusion. The patient was discharged on day 5.\nMedication on discharge: colchicine 0.5 mg twice daily for three months, prednisolone 20 mg daily tapering by 2.5 mg weekly to 10 mg, other medication unchanged.',
            'Physical examination: no active skin or joint disease, blood pressure 122/76 mmHg, body mass index 24.\nLaboratory: hemoglobin 12.8 g/dl, leukocytes 5.1 G/l, creatinine 0.8 mg/dl, anti-dsDNA 60 IU/ml, C3 0.98 g/l, LDL cholesterol 96 mg/dl.\nBone density: T-score -1.9 at the lumbar spine and -1.6 at the femoral neck.\nMedication: prednisolone 5 mg daily, mycophenolate sodium 720 mg twice daily, hydroxychloroquine 200 mg twice daily, ramipril 5 mg daily, atorvastatin 20 mg daily, alendronate 70 mg weekly, calcium and vitamin D.\nNext review in six months, earlier in case of edema, chest pain or rash.',
        ],
        questions=[
            ("Which class of lupus nephritis was found in the kidney biopsy?",
             ["Class II", "Class III", "Class IV", "Class V", "Class VI"], 2,
             "Kidney biopsy on 16/03/2023 confirmed class IV lupus nephritis."),
            ("Why was mycophenolate mofetil switched to mycophenolate sodium?",
             ["Leukopenia", "Diarrhea", "Elevated liver enzymes", "Hair loss", "Pregnancy wish"], 1,
             "it improved after switching to enteric-coated mycophenolate sodium"),
            ("What was the diagnosis during the emergency admission in September 2023?",
             ["Pulmonary embolism", "Myocardial infarction", "Pneumonia", "Lupus pericarditis",
              "Cardiac tamponade"], 3, "Diagnosis: lupus serositis with pericarditis."),
        ],
    ),
}



@demo_writer("longhealth")
def write_demo(path: Path) -> None:
    """`benchmark_v5.json` of the demo patients, each answer_location pointing at its evidence."""
    data = {}
    for pid, patient in DEMO_ROWS.items():
        texts = {f"text_{i}": f"{body}\n{extra}" for i, (body, extra) in enumerate(zip(patient["texts"],
                                                                                     patient["appendix"]))}
        questions = []
        for no, (question, options, correct, evidence) in enumerate(patient["questions"], start=1):
            location = {}
            for tid, doc in texts.items():
                pos = doc.find(evidence)
                if pos >= 0:
                    location[tid] = {"start": [round(pos / len(doc), 4)],
                                     "end": [round((pos + len(evidence)) / len(doc), 4)]}
            if not location:
                raise ValueError(f"{pid} question {no}: evidence not found in any text")
            q = {"No": no, "question": question}
            q.update({f"answer_{letter}": opt for letter, opt in zip("abcde", options)})
            q.update({"correct": options[correct], "answer_location": location})
            questions.append(q)
        data[pid] = {"name": patient["name"], "birthday": patient["birthday"], "diagnosis": patient["diagnosis"],
                     "texts": texts, "questions": questions}
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
