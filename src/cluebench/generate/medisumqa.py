"""Build MeDiSumQA from MIMIC-IV-Note `discharge.csv(.gz)` with any `clue run` backend.

Pipeline (the reference's data/MeDiSumQA, prompts from `medisumqa_prompts.toml`):
0. stream the notes; a note qualifies when it contains "You were admitted to the hospital" and
   has a non-empty discharge-instructions section; keep `max_notes` of them by seeded keyed hash
   (see `sampling.py`; reproducible, not the reference's shuffle);
1. extract statements about the stay from the instructions (1-shot);
2. one question per statement (1-shot); keep pairs whose answer is verbatim a statement;
3. rank pairs by question-answer overlap (ROUGE-L and BERTScore) and keep the `top_k` with the
   least, alternating between the two rankings, without repeats.
Steps 1 and 2 go through the same response store as `clue run` (`run.cached.generate_cached`):
an interrupted build resumes where it stopped and never asks a request twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

from cluebench.errors import ConfigError, DataError
from cluebench.generate.mimic_csv import MimicCsv
from cluebench.generate.output import write_jsonl, write_manifest
from cluebench.generate.qa_prompts import QaPrompts
from cluebench.generate.qa_text import (
    extract_statements,
    find_instructions,
    parse_pairs,
    postprocess_instructions,
    primed,
    select_low_overlap,
)
from cluebench.generate.sampling import SELECTION_METHOD, KeyedSample
from cluebench.models.base import Backend, Completion, Decoding, Message


class PairScorer(Protocol):
    """BERTScore-like: per (prediction, reference) a dict with "bertscore_f1" (0-100)."""

    def score(self, predictions: Sequence[str], references: Sequence[str]) -> list[dict[str, float]]: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class QaNote:
    note_id: str
    text: str
    without: str
    instructions: str


def select_qa_notes(notes: Path, max_notes: int, seed: int, prompts: QaPrompts) -> tuple[list[QaNote], dict]:
    """One streaming pass: the `max_notes` qualifying notes with the smallest seeded rank."""
    sample: KeyedSample[QaNote] = KeyedSample(max_notes, seed)
    phrase = prompts["required_phrase"]
    read = with_phrase = qualifying = 0
    with MimicCsv(notes, ("note_id", "text")) as f:
        for line, (note_id, text) in f.rows():
            read += 1
            if not note_id.strip():
                raise DataError(notes, "empty note_id", line=line, field="note_id")
            if phrase not in text:
                continue
            with_phrase += 1
            paragraphs, without = find_instructions(
                text, prompts["paragraph_split"], prompts["instruction_keywords"], prompts["paragraph_join"]
            )
            instructions = postprocess_instructions(paragraphs, prompts["instruction_cuts"])
            if not instructions.strip():
                continue
            qualifying += 1
            if sample.would_keep(note_id):
                sample.offer(note_id, QaNote(note_id, text, without, instructions), prefer=text)
        source = {"path": str(notes), "sha256": f.sha256, "bytes": f.bytes_read, "gzip": f.compressed}
    stats = {
        "notes_read": read,
        "notes_with_phrase": with_phrase,
        "notes_with_instructions": qualifying,
        "notes_selected": len(sample),
        "duplicate_note_ids_selected": sample.keys_with_several_offers(),
    }
    return [note for _, note in sample.selected()], {"input": source, **stats}


def _texts(completions: Sequence[Completion]) -> tuple[list[str | None], dict]:
    """Completion texts (None for failed requests) and what went wrong, for the manifest."""
    texts = [None if c.finish_reason == "error" else c.text for c in completions]
    return texts, {
        "requests": len(completions),
        "failed": sum(1 for t in texts if t is None),
        "length_capped": sum(1 for c in completions if c.finish_reason == "length"),
    }


def _generate(
    backend: Backend, store_path: Path, message_lists: list[list[Message]], decoding: Decoding, label: str
) -> list[Completion]:
    """Through the response store shared with `clue run` (resume = run again)."""
    if not message_lists:  # nothing to ask: no store to open, no progress bar
        return []
    from cluebench.run.cached import generate_cached

    return generate_cached(backend, store_path, message_lists, decoding, progress_label=label)


def generate_pairs(
    selected: Sequence[QaNote], backend: Backend, store_path: Path, decoding: Decoding, prompts: QaPrompts
) -> tuple[list[dict], dict]:
    """Steps 1 and 2 for every selected note: the verbatim-answer pairs, and counts."""
    s1, s2 = prompts["step1"], prompts["step2"]
    done = _generate(backend, store_path, [prompts.step1_messages(n.instructions) for n in selected],
                     decoding, "medisumqa statements")
    outputs, step1 = _texts(done)
    statements = [
        extract_statements(primed(t, s1["primer"]), s1["statement_prefixes"], s1["skip_marker"]) if t else []
        for t in outputs
    ]
    with_statements = [(note, st) for note, st in zip(selected, statements) if st]
    done = _generate(backend, store_path, [prompts.step2_messages(st) for _, st in with_statements],
                     decoding, "medisumqa questions")
    outputs, step2 = _texts(done)
    pairs: list[dict] = []
    for (note, st), text in zip(with_statements, outputs):
        if text is None:
            continue
        for j, (question, answer) in enumerate(parse_pairs(st, primed(text, s2["primer"]), s2["qa_regex"])):
            pairs.append({"note": note, "pair": j, "Question": question, "Answer": answer})
    counts = {
        "step1": step1,
        "notes_with_statements": len(with_statements),
        "statements": sum(len(st) for st in statements),
        "step2": step2,
        "pairs_with_verbatim_answer": len(pairs),
    }
    return pairs, counts


def filter_pairs(pairs: list[dict], top_k: int, scorer: PairScorer) -> list[dict]:
    """Step 3: output rows of the `top_k` pairs whose question overlaps least with the answer."""
    from cluebench.metrics.rouge import rouge_scores

    questions = [p["Question"] for p in pairs]
    answers = [p["Answer"] for p in pairs]
    rouge = [r["rougeL"] for r in rouge_scores(questions, answers)] if pairs else []
    bert = [b["bertscore_f1"] for b in scorer.score(questions, answers)] if pairs else []
    rows = []
    for rank, (i, ranking) in enumerate(select_low_overlap(rouge, bert, top_k)):
        note: QaNote = pairs[i]["note"]
        rows.append({
            "note_id": note.note_id,
            "with_discharge_summary": note.text,
            "without_discharge_summary": note.without,
            "discharge_summary": note.without,
            "Question": pairs[i]["Question"],
            "Answer": pairs[i]["Answer"],
            "generation": {
                "pair_in_note": pairs[i]["pair"],
                "rougeL": round(rouge[i], 4),
                "bertscore_f1": round(bert[i], 4),
                "selected_by": ranking,
                "pick": rank,
            },
        })
    return rows


def build_medisumqa(
    notes: Path,
    backend: Backend,
    out: Path,
    *,
    store_path: Path,
    max_notes: int = 4000,
    top_k: int = 500,
    seed: int = 44,
    bertscore_model: str | None = None,
    bertscore_layers: int | None = None,
    max_new_tokens: int | None = None,
    scorer: PairScorer | None = None,
) -> dict:
    """Write MeDiSumQA (JSON lines in the medisumqa task's format) and its manifest; return the
    manifest. `scorer` replaces the BERTScore scorer (tests); `max_new_tokens` overrides the
    prompt file's 1000 (small models, quick trials)."""
    if max_notes < 1 or top_k < 1:
        raise ConfigError(f"--max-notes and --top-k must be at least 1, got {max_notes} and {top_k}")
    notes, out = Path(notes), Path(out)
    prompts = QaPrompts.load()
    if scorer is None:
        from cluebench.metrics.bertscore import BertScorer

        scorer = BertScorer(model_type=bertscore_model, num_layers=bertscore_layers)
    decoding = Decoding(max_tokens=max_new_tokens or int(prompts["max_new_tokens"]))
    selected, note_stats = select_qa_notes(notes, max_notes, seed, prompts)
    pairs, counts = generate_pairs(selected, backend, Path(store_path), decoding, prompts)
    rows = filter_pairs(pairs, top_k, scorer)
    output = write_jsonl(out, rows)
    manifest = {
        "dataset": "medisumqa",
        "output": output,
        "inputs": {"notes": note_stats.pop("input")},
        "seed": seed,
        "max_notes": max_notes,
        "top_k": top_k,
        "selection": SELECTION_METHOD,
        "model": backend.info(),
        "decoding": decoding.to_dict(),
        "prompts": {"id": prompts["id"], "version": prompts["version"], "sha256": prompts.sha256},
        "response_store": str(store_path),
        "counts": {**note_stats, **counts, "pairs_written": len(rows)},
        "filter": {
            "rouge": "rouge-score rougeL F1 (question vs answer), as HF evaluate",
            "bertscore": scorer.describe(),
            "reference_bertscore_model": prompts["step3"]["reference_bertscore_model"],
            "picked_by": {name: sum(1 for r in rows if r["generation"]["selected_by"] == name)
                          for name in prompts["step3"]["rankings"]},
        },
        "review": "not reviewed; see `clue generate review-export` / `review-import`",
    }
    write_manifest(out, manifest)
    return manifest
