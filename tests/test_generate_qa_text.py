"""MeDiSumQA's pure text steps and its prompt file, with hand-worked examples."""

from __future__ import annotations

import re

import pytest

from cluebench.generate.qa_prompts import QaPrompts
from cluebench.generate.qa_text import (
    extract_statements,
    find_instructions,
    parse_pairs,
    postprocess_instructions,
    primed,
    select_low_overlap,
)
from conftest import SHARED

P = QaPrompts.load()

NOTE = (
    "Name: ___\n\nService: MEDICINE\n\n\n"
    "Brief Hospital Course:\nFAKE course\n \n\n"
    "Discharge Instructions:\nDear Mr. ___,\n\n"
    "You were admitted to the hospital because of chest pain.\n* You had a stress test.\n"
    "It was a pleasure caring for you.\n\n\n"
    "Followup Instructions:\n___"
)


def test_find_and_postprocess_instructions() -> None:
    paragraphs, without = find_instructions(NOTE, P["paragraph_split"], P["instruction_keywords"], P["paragraph_join"])
    assert paragraphs == [
        "Discharge Instructions:\nDear Mr. ___,\n\nYou were admitted to the hospital because of chest pain."
        "\n* You had a stress test.\nIt was a pleasure caring for you."
    ]
    assert without == (
        "Name: ___\n\nService: MEDICINE\n\nBrief Hospital Course:\nFAKE course\n\nFollowup Instructions:\n___"
    )
    assert postprocess_instructions(paragraphs, P["instruction_cuts"]) == (
        "Dear Mr. ___,\n\nYou were admitted to the hospital because of chest pain.\n* You had a stress test.\n"
    )


def test_instruction_heading_is_case_insensitive_and_followup_cut() -> None:
    text = "A\n\n\nDISCHARGE INSTRUCTIONS\nline one\nFollowup Instructions: none"
    paragraphs, without = find_instructions(text, P["paragraph_split"], P["instruction_keywords"], "\n\n")
    assert without == "A"
    assert postprocess_instructions(paragraphs, P["instruction_cuts"]) == "line one\n"
    assert postprocess_instructions([], P["instruction_cuts"]) == ""


@pytest.mark.parametrize(
    ("output", "primer", "expected"),
    [
        ("The x-ray was clear.\n- B", "\nStatements:\n- ", "\nStatements:\n- The x-ray was clear.\n- B"),
        ("Statements:\n- A", "\nStatements:\n- ", "\nStatements:\n- A"),
        ("  - A\n- B", "\nStatements:\n- ", "\nStatements:\n- A\n- B"),
        ("What?\nAnswer: A", "\nQuestion: ", "\nQuestion: What?\nAnswer: A"),
        ("\nQuestion: What?\nAnswer: A", "\nQuestion: ", "\nQuestion: What?\nAnswer: A"),
    ],
)
def test_primed(output: str, primer: str, expected: str) -> None:
    assert primed(output, primer) == expected


def test_extract_statements() -> None:
    answer = "\nStatements:\n- A.\n* B.\n- Mr. ___ came.\nplain line\n-no space\n  - A.\n- \n"
    assert extract_statements(answer, P["step1"]["statement_prefixes"], P["step1"]["skip_marker"]) == ["A.", "B."]


def test_parse_pairs_keeps_verbatim_answers_and_the_last_pair() -> None:
    output = "\nQuestion: q1?\nAnswer: A.\nQuestion: q2?\nAnswer: C.\nQuestion: q1?\nAnswer: A.\nQuestion: q3?\nAnswer: B."
    assert parse_pairs(["A.", " B. "], output, P["step2"]["qa_regex"]) == [("q1?", "A."), ("q3?", "B.")]


def test_select_low_overlap_follows_reference_positions() -> None:
    rouge, bert = [0.0, 66.7, 80.0], [50.0, 10.0, 30.0]
    # ROUGE ranking: 0, 1, 2; BERTScore ranking: 1, 2, 0. Reference picks rouge[0], bert[1].
    assert select_low_overlap(rouge, bert, 2) == [(0, "rougeL"), (2, "bertscore_f1")]
    # position 2 (rouge[2] = pair 2) repeats: the rest is filled from the best remaining
    assert select_low_overlap(rouge, bert, 3) == [(0, "rougeL"), (2, "bertscore_f1"), (1, "rougeL")]
    assert select_low_overlap(rouge, bert, 10) == select_low_overlap(rouge, bert, 3)
    assert select_low_overlap([], [], 5) == []
    with pytest.raises(ValueError):
        select_low_overlap([1.0], [], 1)


def test_select_low_overlap_skips_repeats() -> None:
    rouge, bert = [1, 2, 3, 4], [4, 3, 1, 2]  # rankings 0,1,2,3 and 2,3,1,0
    # reference: rouge[0]=0, bert[1]=3, rouge[2]=2, bert[3]=0 (a repeat) -> we go on to fill with 1
    assert select_low_overlap(rouge, bert, 3) == [(0, "rougeL"), (3, "bertscore_f1"), (2, "rougeL")]
    assert select_low_overlap(rouge, bert, 4) == [(0, "rougeL"), (3, "bertscore_f1"), (2, "rougeL"), (1, "bertscore_f1")]
    assert select_low_overlap([5, 5, 5], [5, 5, 5], 3) == [(0, "rougeL"), (1, "bertscore_f1"), (2, "rougeL")]


def test_messages_from_prompt_file() -> None:
    m1 = P.step1_messages("INSTR")
    assert [m["role"] for m in m1] == ["system", "user", "assistant", "user"]
    assert m1[3]["content"] == (
        "\n--------------BEGIN DISCHARGE INSTRUCTIONS--------------\nINSTR\n"
        "--------------END DISCHARGE INSTRUCTIONS--------------"
    )
    assert m1[2]["content"].startswith("\nStatements:\n- The patient was admitted")
    m2 = P.step2_messages(["S1.", "S2."])
    assert m2[3]["content"] == "\nStatements:\n- S1.\n- S2.\n"
    # the synthetic shots parse with our own rules
    shot_statements = extract_statements(m1[2]["content"], P["step1"]["statement_prefixes"], "___")
    assert len(shot_statements) == 7
    shot = [s[2:] for s in P["step2"]["shot"]["statements"].split("\n")]
    assert len(parse_pairs(shot, m2[2]["content"], P["step2"]["qa_regex"])) == len(shot) == 5
    assert len(P.sha256) == 64


PROTOCOL = SHARED / "reference" / "clue-protocol.md"


@pytest.mark.skipif(not PROTOCOL.is_file(), reason="the protocol description is not on this machine")
def test_system_prompts_match_the_protocol_byte_for_byte() -> None:
    text = PROTOCOL.read_text(encoding="utf-8")
    step1 = re.search(r"Step 1 system prompt: `(.*?)`\n", text).group(1)
    step2 = re.search(r"Step 2 system prompt: `(.*?)`\n", text).group(1)
    assert P["step1"]["system"] == step1
    assert P["step2"]["system"] == step2
