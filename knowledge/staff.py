"""Staff answers: liaisons' replies that editors reviewed and published as common answers.

They are never the letter's words. The bot uses one only when the owner's question is one of its
question variants in other words: nearly every word of the variant is in the message, and the
message is not mostly about something else. Past its review date an answer is not used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from knowledge.segment import terms
from knowledge.text import normalize

# Share of a variant's words the message must contain, and of the message's words the variant must.
MIN_RECALL = 0.75
MIN_PRECISION = 0.5


@dataclass(frozen=True)
class StaffAnswer:
    """A published staff answer as the index keeps it."""

    id: int
    questions: tuple[str, ...]
    answer: str
    department: str
    published: str  # YYYY-MM-DD
    review_by: str  # YYYY-MM-DD
    record_ids: tuple[str, ...] = ()

    def row(self) -> dict[str, Any]:
        """The index's row."""
        return {
            "id": self.id,
            "questions": json.dumps(list(self.questions), ensure_ascii=False),
            "answer": self.answer,
            "department": self.department,
            "published": self.published,
            "review_by": self.review_by,
            "record_ids": json.dumps(list(self.record_ids), ensure_ascii=False),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StaffAnswer:
        """From the index's row."""
        return cls(
            id=int(row["id"]),
            questions=tuple(json.loads(row["questions"])),
            answer=str(row["answer"]),
            department=str(row["department"]),
            published=str(row["published"]),
            review_by=str(row["review_by"]),
            record_ids=tuple(json.loads(row["record_ids"] or "[]")),
        )

    @property
    def label(self) -> str:
        """'工作人员答复 · 市工业和信息化局 · 2026-11-26'."""
        return f"工作人员答复 · {self.department} · {self.published}"

    def current(self, today: date | None = None) -> bool:
        """Whether the answer is still within its review date."""
        return (today or date.today()).isoformat() <= self.review_by


def _words(text: str) -> set[str]:
    return {w for w in terms(text) if len(w) >= 2 or not w.isascii()}


def overlap(question: str, variant: str) -> float:
    """Share of the variant's words that the question contains (for a liaison's search, not the bot)."""
    known = _words(variant)
    return len(_words(question) & known) / len(known) if known else 0.0


def fit(question: str, variant: str) -> float:
    """How well ``question`` asks ``variant``: 0 when it does not, else the F1 of their shared words."""
    norm_q, norm_v = normalize(question).lower(), normalize(variant).lower()
    if len(norm_v) >= 6 and norm_v.rstrip("?？。") in norm_q:
        return 1.0
    asked, known = _words(question), _words(variant)
    if len(known) < 2 or not asked:
        return 0.0
    shared = len(asked & known)
    recall, precision = shared / len(known), shared / len(asked)
    if recall < MIN_RECALL or precision < MIN_PRECISION:
        return 0.0
    return 2 * recall * precision / (recall + precision)


def best_match(question: str, answers: list[StaffAnswer], today: date | None = None) -> StaffAnswer | None:
    """The current staff answer one of whose variants the question asks, best first; None when none does."""
    scored = [
        (max(fit(question, v) for v in answer.questions), answer)
        for answer in answers
        if answer.questions and answer.current(today)
    ]
    scored = [(score, answer) for score, answer in scored if score > 0]
    return max(scored, key=lambda pair: (pair[0], pair[1].published))[1] if scored else None
