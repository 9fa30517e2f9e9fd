"""Find the gold question of a dump row: by id, by normalised question text, or by position.

>>> index = QuestionIndex(questions)
>>> index.by_text("Dan had 3 apples.  How many?")     # -> Question, or None
>>> index.ambiguous_texts                             # keys shared by several gold questions
"""

from __future__ import annotations

from qrdistill.importing.fields import normalize_question
from qrdistill.records import Question


def text_keys(question: Question) -> set[str]:
    """Join keys of a gold question: its text, and context + text (SVAMP's Body + Question)."""
    keys = {normalize_question(question.question)}
    if question.context:
        keys.add(normalize_question(f"{question.context} {question.question}"))
    return keys


class QuestionIndex:
    """Gold questions indexed by id (and ``meta['source_id']``), by text key and by position."""

    def __init__(self, questions: list[Question]) -> None:
        self.questions = questions
        self._by_id: dict[str, Question] = {}
        for q in questions:
            self._by_id[q.id] = q
            source_id = q.meta.get("source_id")
            if source_id is not None:
                self._by_id.setdefault(str(source_id), q)
        self._by_text: dict[str, Question] = {}
        self.ambiguous_texts: set[str] = set()
        for q in questions:
            for key in text_keys(q):
                other = self._by_text.get(key)
                if other is not None and other.id != q.id:
                    self.ambiguous_texts.add(key)
                self._by_text.setdefault(key, q)

    def by_id(self, value: object) -> Question | None:
        """The question whose id, source id or ``{task}-{value}`` id (the task layer's convention,
        e.g. ``svamp-chal-1`` for SVAMP's ``chal-1``) is ``value``; ids compare as strings."""
        found = self._by_id.get(str(value))
        if found is None and self.questions:
            found = self._by_id.get(f"{self.questions[0].task}-{value}")
        return found

    def by_text(self, text: str) -> Question | None:
        """The question whose normalised text equals that of ``text``; None if absent or shared."""
        key = normalize_question(text)
        if key in self.ambiguous_texts:
            return None
        return self._by_text.get(key)

    def by_index(self, index: int) -> Question | None:
        """The question at position ``index`` of the gold file."""
        return self.questions[index] if 0 <= index < len(self.questions) else None
