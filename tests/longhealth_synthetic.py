"""A synthetic LongHealth file in the exact `benchmark_v5.json` schema, for tests and benchmarks.

Every patient, letter and finding is invented. Letters are long (about 1,500-2,800 words of
discharge-letter prose each) so that the paper's 8,140-token budget has to cut them, and each
question's answer sentence sits at a known relative position, recorded as LongHealth does
(`answer_location: {text_id: {start: [..], end: [..]}}`, fractions of the letter's characters).
"""

from __future__ import annotations

import random

FIRST = ["Anna", "Bernd", "Clara", "Dieter", "Elif", "Farid", "Greta", "Hannes"]
LAST = ["Albrecht", "Brunner", "Castell", "Dorn", "Eckert", "Falk", "Grimm", "Hollmann"]
DIAGNOSES = [
    "diffuse large B-cell lymphoma",
    "follicular lymphoma",
    "small cell lung carcinoma",
    "adenocarcinoma of the pancreas",
    "hepatocellular carcinoma",
    "acute myeloid leukemia",
    "multiple myeloma",
    "glioblastoma",
    "renal cell carcinoma",
    "malignant melanoma",
]
DRUGS = [
    ("metoprolol", "47.5 mg"),
    ("ramipril", "5 mg"),
    ("pantoprazole", "40 mg"),
    ("apixaban", "5 mg"),
    ("levothyroxine", "75 µg"),
    ("torasemide", "10 mg"),
    ("allopurinol", "300 mg"),
    ("ondansetron", "8 mg"),
    ("dexamethasone", "4 mg"),
    ("metformin", "1000 mg"),
    ("atorvastatin", "20 mg"),
    ("amlodipine", "5 mg"),
]
WARDS = [
    "haematology ward 3B",
    "the oncology day clinic",
    "the intensive care unit",
    "internal medicine ward 2A",
]
SENTENCES = [
    "On admission the patient presented in {state} general condition with a blood pressure of {bp} mmHg "
    "and a heart rate of {hr} per minute.",
    "Laboratory tests showed a haemoglobin of {hb} g/dL, leukocytes of {wbc} per nL and a C-reactive "
    "protein of {crp} mg/L.",
    "The medication with {drug} {dose} was continued unchanged during the stay on {ward}.",
    "Abdominal ultrasound revealed a liver of {liver} cm in the medioclavicular line without focal lesions.",
    "A chest radiograph in two planes showed no infiltrates, no pleural effusion and a normal cardiac "
    "silhouette.",
    "The patient reported {symptom} for about {weeks} weeks before admission, without fever or night sweats.",
    "Physical examination found the lungs clear on auscultation and the abdomen soft and non-tender.",
    "Creatinine was {crea} mg/dL with an estimated glomerular filtration rate of {gfr} mL/min.",
    "We recommend follow-up in the outpatient clinic in {weeks} weeks with a blood count and liver enzymes.",
    "The echocardiogram showed a left ventricular ejection fraction of {ef} percent and no valvular disease.",
    "Anticoagulation was paused for the procedure and resumed on day {day} without complications.",
    "Pain was controlled with metamizole and the patient was mobilised on the ward from day {day}.",
    "Computed tomography of the thorax and abdomen on day {day} showed {ct}.",
    "The tumour board recommended continuing the current regimen and reassessing after {cycles} cycles.",
    "The patient was informed in detail about the findings and agreed with the further procedure.",
]
STATES = ["good", "reduced", "stable", "slightly reduced"]
SYMPTOMS = ["fatigue", "exertional dyspnoea", "weight loss of five kilograms", "intermittent abdominal pain"]
CT = [
    "regressive lymph nodes",
    "stable disease",
    "a new small pulmonary nodule",
    "no evidence of progression",
]


def _sentence(rng: random.Random) -> str:
    drug, dose = rng.choice(DRUGS)
    return rng.choice(SENTENCES).format(
        state=rng.choice(STATES),
        bp=f"{rng.randint(105, 165)}/{rng.randint(60, 95)}",
        hr=rng.randint(55, 110),
        hb=round(rng.uniform(8.0, 15.5), 1),
        wbc=round(rng.uniform(1.5, 14.0), 1),
        crp=rng.randint(1, 180),
        drug=drug,
        dose=dose,
        ward=rng.choice(WARDS),
        liver=round(rng.uniform(11, 18), 1),
        symptom=rng.choice(SYMPTOMS),
        weeks=rng.randint(2, 12),
        crea=round(rng.uniform(0.6, 2.4), 2),
        gfr=rng.randint(25, 110),
        ef=rng.randint(35, 65),
        day=rng.randint(2, 14),
        ct=rng.choice(CT),
        cycles=rng.randint(2, 6),
    )


def _letter(rng: random.Random, header: str, n_words: int) -> list[str]:
    """Paragraph sentences of about n_words words, opened by a header naming the patient."""
    sentences = [header]
    words = len(header.split())
    while words < n_words:
        s = _sentence(rng)
        sentences.append(s)
        words += len(s.split())
    return sentences


def _insert(sentences: list[str], answer: str, where: float) -> None:
    """Insert the answer sentence at relative sentence position `where` (after the header)."""
    sentences.insert(max(1, min(len(sentences), round(where * len(sentences)))), answer)


PROCEDURES = ["the lymph node biopsy", "the bone marrow aspiration", "the second-opinion pathology review"]

# (text ids holding the answer, relative sentence position in each)
QUESTION_LAYOUT = [
    {"text_0": 0.12},  # early in the first letter
    {"text_1": 0.45, "text_3": 0.9},  # two answer letters, the second's passage near its end
    {"text_2": 0.97},  # at the very end: lost as soon as this letter is cut
]


def make_benchmark(n_patients: int = 4, docs_per_patient: int = 5, seed: int = 0) -> dict:
    """{patient_id: {"name", "texts": {text_id: str}, "questions": [...]}} (benchmark_v5 schema)."""
    data: dict = {}
    for p in range(n_patients):
        rng = random.Random(f"{seed}:patient:{p}")
        pid = f"patient_{p + 1:02d}"
        name = f"{FIRST[p % len(FIRST)]} {LAST[(p * 3) % len(LAST)]}"
        letters = {
            f"text_{d}": _letter(
                rng,
                f"Discharge letter {d + 1} for patient {name}, born {rng.randint(1940, 1990)}, treated on "
                f"{rng.choice(WARDS)}.",
                rng.randint(1500, 2800),
            )
            for d in range(docs_per_patient)
        }
        questions = []
        for qi, layout in enumerate(QUESTION_LAYOUT):
            options = rng.sample(DIAGNOSES, 5)
            correct = options[rng.randrange(5)]
            for tid, where in layout.items():
                _insert(
                    letters[tid],
                    f"FINDING-{pid}-Q{qi}: {PROCEDURES[qi]} confirmed {correct} in {name}.",
                    where,
                )
            questions.append(
                {
                    "question": f"Which diagnosis did {PROCEDURES[qi]} confirm for {name}?",
                    **{f"answer_{lab}": opt for lab, opt in zip("abcde", options)},
                    "correct": correct,
                    "answer_location": {tid: {} for tid in layout},
                }
            )
        texts = {tid: " ".join(s) for tid, s in letters.items()}
        data[pid] = {"name": name, "texts": texts, "questions": questions}
    _locate(data)
    return data


def _locate(data: dict) -> None:
    """LongHealth's answer_location: relative [start, end] of each answer passage in its letter."""
    for pid, patient in data.items():
        for qi, q in enumerate(patient["questions"]):
            for tid in q["answer_location"]:
                text = patient["texts"][tid]
                marker = f"FINDING-{pid}-Q{qi}:"
                start = text.index(marker)
                end = text.index(".", text.index(q["correct"], start)) + 1
                q["answer_location"][tid] = {"start": [start / len(text)], "end": [end / len(text)]}


def answer_sentence(data: dict, pid: str, qi: int, tid: str) -> str:
    """The exact answer passage of question qi in letter tid, from its recorded location."""
    text = data[pid]["texts"][tid]
    loc = data[pid]["questions"][qi]["answer_location"][tid]
    return text[round(loc["start"][0] * len(text)) : round(loc["end"][0] * len(text))]
