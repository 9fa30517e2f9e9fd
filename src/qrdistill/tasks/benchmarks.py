"""The public benchmarks as tasks, each reading its dataset's original public file format.

    gsm8k            openai/grade-school-math jsonl (``#### N`` answers); HF openai/gsm8k
    svamp            SVAMP.json (Body, Question, Answer); HF ChilleD/SVAMP
    math             MATH: a folder of per-problem JSON files, one such file, or JSONL of them
    table_mwp        TabMWP problems_*.json (dict keyed by pid)
    arc_challenge    ai2_arc (HF format) or original ARC jsonl (question.stem/choices)
    commonsense_qa   CSQA jsonl (question.stem/choices) or its HF format
    date_understanding  BIG-bench task.json (target_scores over 6 dates), BBH json, or jsonl rows
    strategy_qa      StrategyQA json/jsonl (answer: bool), BIG-bench task.json, or Yes/No rows
    anli             ANLI jsonl (label e/n/c, 0/1/2 or the label name)

>>> from qrdistill.tasks import get_task
>>> questions = get_task("gsm8k").load("grade_school_math/data/test.jsonl")
>>> len(questions), questions[0].gold
(1319, '18')
"""

from __future__ import annotations

import logging
import os
import random
import re
from pathlib import PurePath
from typing import Any

from qrdistill.jsonl import RecordError
from qrdistill.records import Question
from qrdistill.tasks.answers import (canonical_number, extract_boxed, extract_choice, final_statements, letters,
                                     number_hedge, numbers_equal)
from qrdistill.tasks.kinds import ChoiceTask, MathTask, NliTask, NumberTask, YesNoTask
from qrdistill.tasks.readers import KEY, need, read_rows, text_id
from qrdistill.tasks.registry import register

log = logging.getLogger(__name__)
_SPLITS = ("train", "test", "dev", "valid", "validation")


def guess_split(path: str | os.PathLike[str], split: str | None) -> str | None:
    """``split`` if given, else a split name found in the file path (``.../test.jsonl`` -> ``test``).

    >>> guess_split("data/gsm8k/problems_test1k.json", None)
    'test'
    """
    if split:
        return split
    for part in reversed(PurePath(os.fspath(path)).parts):
        for token in re.split(r"[^a-z]+", part.lower()):
            if token in _SPLITS:
                return token
    return None


class Unscorable(RecordError):
    """A well-formed row without a usable gold answer (e.g. an empty ``\\boxed{}``): skipped, counted."""


def _load_all(path: str | os.PathLike[str], split: str | None, build: Any) -> list[Question]:
    """Build one Question per row with ``build(where, row, split)``; skip (and log) unscorable rows;
    a repeated id (the same question text twice) gets a ``-2``, ``-3``... suffix so ids stay unique."""
    chosen = guess_split(path, split)
    questions: list[Question] = []
    skipped: list[str] = []
    seen: dict[str, int] = {}
    for where, row in read_rows(path, split=split):
        try:
            question = build(where, row, chosen)
        except Unscorable as exc:
            skipped.append(str(exc))
            continue
        seen[question.id] = seen.get(question.id, 0) + 1
        if seen[question.id] > 1:
            question.id = f"{question.id}-{seen[question.id]}"
        questions.append(question)
    if skipped:
        log.warning("%s: skipped %d row(s) without a usable gold answer; first: %s", path, len(skipped), skipped[0])
    return questions


@register
class GSM8K(NumberTask):
    """Grade-school math word problems; gold = the number after ``####``."""

    name = "gsm8k"

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """Rows ``{question, answer}`` where ``answer`` ends in ``#### N`` (or is just N)."""
        return _load_all(path, split, self._row)

    def _row(self, where: str, row: dict[str, Any], split: str | None) -> Question:
        text = need(row, where, "question")
        answer = str(need(row, where, "answer", (str, int, float)))
        final = answer.rsplit("####", 1)[-1] if "####" in answer else answer
        gold = canonical_number(final) if re.fullmatch(r"\s*[-$\d.,/ ]+\s*", final) else None
        if gold is None:
            raise RecordError(f"{where}: field 'answer' has no final '#### N' number: {answer[-60:]!r}")
        return Question(id=text_id(self.name, text), task=self.name, question=text, gold=gold, split=split)


@register
class SVAMP(NumberTask):
    """SVAMP arithmetic word problems; question = Body + Question."""

    name = "svamp"

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """SVAMP.json rows ``{ID, Body, Question, Answer}``."""
        return _load_all(path, split, self._row)

    def _row(self, where: str, row: dict[str, Any], split: str | None) -> Question:
        text = f"{need(row, where, 'Body').strip()} {need(row, where, 'Question').strip()}"
        gold = canonical_number(str(need(row, where, "Answer", (int, float, str))))
        if gold is None:
            raise RecordError(f"{where}: field 'Answer' is not a number: {row['Answer']!r}")
        qid = f"{self.name}-{row['ID']}" if row.get("ID") else text_id(self.name, text)
        meta = {k: row[k] for k in ("Equation", "Type") if k in row}
        return Question(id=qid, task=self.name, question=text, gold=gold, split=split, meta=meta)


@register
class MATH(MathTask):
    """Competition math (Hendrycks et al.); gold = the last ``\\boxed{}`` of the solution."""

    name = "math"

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """Per-problem ``{problem, level, type, solution}`` JSON files (a folder or one file) or JSONL of them."""
        return _load_all(path, split, self._row)

    def _row(self, where: str, row: dict[str, Any], split: str | None) -> Question:
        text = need(row, where, "problem")
        gold = row.get("answer") if isinstance(row.get("answer"), str) else extract_boxed(need(row, where, "solution"))
        if not gold:
            raise Unscorable(f"{where}: field 'solution' has no non-empty \\boxed{{}} answer")
        source_id = row.get("id") or _from_split_dir(row.get(KEY))
        qid = f"{self.name}-{str(source_id).removesuffix('.json')}" if source_id else text_id(self.name, text)
        meta = {k: row[k] for k in ("level", "type", "subject") if k in row}
        split = split or (guess_split(source_id, None) if source_id else None)
        return Question(id=qid, task=self.name, question=text, gold=gold, split=split, meta=meta)


def _from_split_dir(file: str | None) -> str | None:
    """``.../MATH/test/algebra/1.json`` -> ``test/algebra/1.json`` (the id MATH's own layout gives)."""
    if not file:
        return None
    parts = PurePath(file).parts
    starts = [i for i, p in enumerate(parts) if p in _SPLITS]
    return "/".join(parts[starts[-1]:]) if starts else PurePath(file).name


@register
class TableMWP(NumberTask):
    """TabMWP: math word problems over a table; gold is a number or (for options) the option text."""

    name = "table_mwp"
    instruction = "Answer the following question using the table."
    answer_cue = (
        'End your response with "The answer is \\boxed{ANSWER}." where ANSWER is the final number, '
        "or the text of the correct option when options are given."
    )

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """problems_*.json: ``{pid: {question, choices, answer, unit, table_title, table, ...}}``."""
        return _load_all(path, split, self._row)

    def _row(self, where: str, row: dict[str, Any], split: str | None) -> Question:
        text = need(row, where, "question")
        table = need(row, where, "table")
        answer = str(need(row, where, "answer", (str, int, float))).strip()
        choices = row.get("choices") or None
        numeric = canonical_number(answer) if re.fullmatch(r"[-$\d.,/ %]+", answer) else None
        gold = answer if numeric is None or "/" in answer else numeric
        title = row.get("table_title")
        context = f"{title}\n{table}" if title else table
        pid = row.get("pid") or row.get(KEY)
        meta = {k: row[k] for k in ("unit", "ques_type", "ans_type", "grade") if row.get(k) is not None}
        return Question(
            id=f"{self.name}-{pid}" if pid else text_id(self.name, f"{table}\n{text}"),
            task=self.name,
            question=text,
            gold=gold,
            choices=[str(c) for c in choices] if choices else None,
            context=context,
            split=split or row.get("split"),
            meta=meta,
        )

    def extract(self, completion: str, question: Question | None = None) -> str | None:
        """A canonical number, or (with options) the chosen option's text, or the stated text answer."""
        if not isinstance(completion, str):
            return None
        stated = _stated_answer(completion)
        if question is not None and question.choices:
            if stated is not None:
                for option in question.choices:
                    if _same_text(stated, option):
                        return option
            letter = extract_choice(completion, question.choices, len(question.choices))
            return question.choices[ord(letter) - 65] if letter else None
        number = super().extract(completion, question)
        if number is not None:
            return number
        return stated

    def is_correct(self, completion: str, gold: str, question: Question | None = None) -> bool:
        """Numbers by value; text answers by normalised text."""
        pred = self.extract(completion, question)
        if pred is None or not isinstance(gold, str):
            return False
        if canonical_number(gold) is not None and re.fullmatch(r"[-$\d.,/ %]+", gold.strip()):
            return numbers_equal(pred, gold)
        return _same_text(pred, gold)


def _stated_answer(text: str) -> str | None:
    """The last answer statement as written (a box's content, or the sentence after "answer is"),
    None if there is none or it hedges between two numbers."""
    statements = final_statements(text)
    if not statements or number_hedge(statements[0][1]):
        return None
    return re.sub(r"\\text\{([^{}]*)\}", r"\1", statements[0][1]).strip() or None


def _same_text(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(re.sub(r"[^\w\s$.%/-]", " ", s.lower()).split()).rstrip(".")

    return norm(a) == norm(b)


def _choice_row(where: str, row: dict[str, Any]) -> tuple[str, list[str], str]:
    """``(stem, option texts, gold letter)`` from the HF format (``question`` str, ``choices{text,label}``)
    or the original ARC/CSQA format (``question{stem, choices[{label,text}]}``)."""
    question = need(row, where, "question", (str, dict))
    if isinstance(question, dict):
        stem = need(question, f"{where} question", "stem")
        items = need(question, f"{where} question", "choices", list)
        labels = [str(c.get("label")) for c in items]
        texts = [str(c.get("text")) for c in items]
    else:
        stem = question
        choices = need(row, where, "choices", dict)
        texts = [str(t) for t in need(choices, f"{where} choices", "text", list)]
        labels = [str(x) for x in choices.get("label") or letters(len(texts))]
    key = str(need(row, where, "answerKey", (str, int))).strip()
    if key not in labels:
        raise RecordError(f"{where}: field 'answerKey' = {key!r} is not one of the option labels {labels}")
    return stem, texts, chr(65 + labels.index(key))


class _ChoiceBenchmark(ChoiceTask):
    """A multiple-choice benchmark in the HF or original ARC/CSQA jsonl format."""

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """Rows ``{id, question, choices{text,label}, answerKey}`` or ``{id, question{stem, choices}, answerKey}``."""
        return _load_all(path, split, self._row)

    def _row(self, where: str, row: dict[str, Any], split: str | None) -> Question:
        stem, texts, gold = _choice_row(where, row)
        qid = f"{self.name}-{row['id']}" if row.get("id") else text_id(self.name, stem)
        return Question(id=qid, task=self.name, question=stem, gold=gold, choices=texts, split=split)


@register
class ARCChallenge(_ChoiceBenchmark):
    """AI2 ARC-Challenge science questions (3-5 options)."""

    name = "arc_challenge"
    n_options = 5


@register
class CommonsenseQA(_ChoiceBenchmark):
    """CommonsenseQA (5 options)."""

    name = "commonsense_qa"
    n_options = 5


_BBH_OPTION = re.compile(r"^\(([A-Z])\)\s*(.*)$", re.MULTILINE)


@register
class DateUnderstanding(ChoiceTask):
    """BIG-bench date understanding (6 options)."""

    name = "date_understanding"
    n_options = 6

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """BIG-bench task.json (``input``, ``target_scores``), BBH json (``input`` with Options, ``target``
        "(B)") or rows ``{question, choices{text,label}, answerKey}``.

        BIG-bench lists the correct date first in ``target_scores``; options are shuffled with a seed
        derived from the question text, so the order is stable across runs and machines."""
        return _load_all(path, split, self._row)

    def _row(self, where: str, row: dict[str, Any], split: str | None) -> Question:
        if "target_scores" in row:
            stem = need(row, where, "input")
            scores = need(row, where, "target_scores", dict)
            texts = list(scores)
            random.Random(text_id(self.name, stem)).shuffle(texts)
            best = [t for t in texts if scores[t] == max(scores.values())]
            gold = chr(65 + texts.index(best[0]))
        elif "target" in row:
            full = need(row, where, "input")
            stem, _, options = full.partition("\nOptions:")
            found = _BBH_OPTION.findall(options)
            if not found:
                raise RecordError(f"{where}: field 'input' has no 'Options:' block with (A)..(F) lines")
            texts = [t.strip() for _, t in found]
            target = need(row, where, "target").strip().strip("()")
            if target not in letters(len(texts)):
                raise RecordError(f"{where}: field 'target' = {row['target']!r} is not one of the option letters")
            gold = target
        else:
            stem, texts, gold = _choice_row(where, row)
        stem = stem.strip()
        return Question(id=text_id(self.name, stem), task=self.name, question=stem, gold=gold, choices=texts, split=split)


_YES_NO_VALUES = {"yes": "yes", "no": "no", "true": "yes", "false": "no"}


@register
class StrategyQA(YesNoTask):
    """StrategyQA implicit multi-hop yes/no questions."""

    name = "strategy_qa"

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """Original rows ``{qid, question, answer: bool, facts, ...}``, rows with ``answer`` "Yes"/"No",
        or BIG-bench task.json (``input``, ``target_scores`` {Yes, No})."""
        return _load_all(path, split, self._row)

    def _row(self, where: str, row: dict[str, Any], split: str | None) -> Question:
        if "target_scores" in row:
            text = need(row, where, "input")
            scores = need(row, where, "target_scores", dict)
            answer: Any = max(scores, key=lambda k: scores[k])
        else:
            text = need(row, where, "question")
            answer = need(row, where, "answer", (bool, str))
        gold = ("yes" if answer else "no") if isinstance(answer, bool) else _YES_NO_VALUES.get(answer.strip(" .").lower())
        if gold is None:
            raise RecordError(f"{where}: field 'answer' = {answer!r} is not yes/no/true/false")
        qid = f"{self.name}-{row['qid']}" if row.get("qid") else text_id(self.name, text)
        meta = {"facts": row["facts"]} if isinstance(row.get("facts"), list) else {}
        return Question(id=qid, task=self.name, question=text.strip(), gold=gold, split=split, meta=meta)


_NLI_LABELS = {
    "e": "entailment", "n": "neutral", "c": "contradiction",
    "0": "entailment", "1": "neutral", "2": "contradiction",
    "entailment": "entailment", "neutral": "neutral", "contradiction": "contradiction",
}


@register
class ANLI(NliTask):
    """Adversarial NLI; premise in ``context``, hypothesis as the question."""

    name = "anli"

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """Rows ``{uid, premise, hypothesis, label}`` with label e/n/c, 0/1/2 or the label name."""
        return _load_all(path, split, self._row)

    def _row(self, where: str, row: dict[str, Any], split: str | None) -> Question:
        premise = need(row, where, "premise")
        hypothesis = need(row, where, "hypothesis")
        label = need(row, where, "label", (str, int))
        gold = _NLI_LABELS.get(str(label).strip().lower())
        if gold is None:
            raise RecordError(f"{where}: field 'label' = {label!r} is not an NLI label (e/n/c, 0/1/2 or a name)")
        qid = f"{self.name}-{row['uid']}" if row.get("uid") else text_id(self.name, f"{premise}\n{hypothesis}")
        meta = {"reason": row["reason"]} if row.get("reason") else {}
        return Question(id=qid, task=self.name, question=hypothesis, gold=gold, context=premise, split=split, meta=meta)

