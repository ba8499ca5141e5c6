"""Pure text steps of MeDiSumQA construction: splitting a note, parsing the model's answers,
and choosing the pairs whose question gives the answer away least.

Rules follow the reference (TIO-IKIM/CLUE, data/MeDiSumQA); the patterns and markers come from
`medisumqa_prompts.toml`, passed in by the caller.
"""

from __future__ import annotations

import re
from typing import Sequence


def split_paragraphs(text: str, pattern: str) -> list[str]:
    return [p.strip() for p in re.split(pattern, text)]


def find_instructions(text: str, pattern: str, keywords: Sequence[str], join: str) -> tuple[list[str], str]:
    """(instruction paragraphs, the note without them): a paragraph is an instruction when it
    starts, case-insensitively, with one of `keywords`."""
    instructions, rest = [], []
    for paragraph in split_paragraphs(text, pattern):
        if any(paragraph.lower().startswith(k) for k in keywords):
            instructions.append(paragraph)
        else:
            rest.append(paragraph)
    return instructions, join.join(rest)


def postprocess_instructions(instructions: list[str], cuts: Sequence[str]) -> str:
    """Join the paragraphs, drop the first line (the "Discharge Instructions:" heading) and keep
    the text before each cut marker ("Followup Instructions", "It was a pleasure")."""
    text = "\n".join("\n".join(instructions).split("\n")[1:])
    for marker in cuts:
        text = text.split(marker)[0]
    return text


def primed(output: str, primer: str) -> str:
    """The answer as if the model had been primed with `primer` (the reference's prefill).

    Unprimed models often write the primer's heading ("Statements:", "Question:") themselves, or
    start at its bullet ("- "); those outputs are kept as written. Otherwise the model continued
    where the primer would have left off, and the primer is put in front, as the reference does.
    """
    body = output.lstrip()
    lines = primer.strip("\n").split("\n")
    if body.startswith(lines[0].strip()):
        return "\n" + body
    for i in range(1, len(lines)):
        if lines[i].strip() and body.startswith(lines[i].strip()):
            return "\n" + "\n".join(lines[:i]) + "\n" + body
    return primer + output


def extract_statements(answer: str, prefixes: Sequence[str], skip_marker: str) -> list[str]:
    """Lines that start with a bullet (`* `, `- `) and hold no de-identification blank `___`,
    bullet removed; repeats kept once (a repeated statement would give the same pair twice)."""
    statements: list[str] = []
    for line in answer.split("\n"):
        line = line.strip()
        if skip_marker in line:
            continue
        if any(line.startswith(p) for p in prefixes):
            statement = line[2:].strip()
            if statement and statement not in statements:
                statements.append(statement)
    return statements


def parse_pairs(statements: Sequence[str], answer: str, pattern: str) -> list[tuple[str, str]]:
    """(question, answer) pairs whose answer is verbatim one of the statements, in output order,
    each pair once. A newline is appended so the last pair parses when the model stopped right
    after it (the reference lost that pair)."""
    wanted = {s.strip() for s in statements}
    pairs: list[tuple[str, str]] = []
    for q, a in re.findall(pattern, answer + "\n"):
        pair = (q.strip(), a.strip())
        if pair[1] in wanted and pair[0] and pair not in pairs:
            pairs.append(pair)
    return pairs


def select_low_overlap(rouge: Sequence[float], bert: Sequence[float], top_k: int) -> list[tuple[int, str]]:
    """Indices of up to `top_k` distinct pairs with the least question-answer overlap.

    Both score lists are ranked ascending (ties keep input order). As in the reference, pick i
    is the i-th entry of the ROUGE-L ranking for even i and of the BERTScore ranking for odd i.
    The reference kept a pair twice when both rankings put it at such positions (and so returned
    fewer than k distinct pairs); here a repeat is skipped and the positions go on until k distinct
    pairs are found -- the same selection as the reference's whenever it had no repeats. If the
    positions run out first (k close to the number of pairs), the rest is filled from both
    rankings alternately, best remaining first. Returns (index, "rougeL" | "bertscore_f1").
    """
    if len(rouge) != len(bert):
        raise ValueError("one ROUGE-L and one BERTScore value per pair")
    n = len(rouge)
    rankings = (
        ("rougeL", sorted(range(n), key=lambda i: rouge[i])),
        ("bertscore_f1", sorted(range(n), key=lambda i: bert[i])),
    )
    want = min(top_k, n)
    taken: set[int] = set()
    picks: list[tuple[int, str]] = []

    def take(index: int, name: str) -> None:
        taken.add(index)
        picks.append((index, name))

    for i in range(n):
        if len(picks) == want:
            return picks
        name, order = rankings[i % 2]
        if order[i] not in taken:
            take(order[i], name)
    cursors = [0, 0]
    while len(picks) < want:
        which = len(picks) % 2
        name, order = rankings[which]
        while order[cursors[which]] in taken:
            cursors[which] += 1
        take(order[cursors[which]], name)
    return picks
