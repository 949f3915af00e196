"""Search the knowledge base: normalise, segment, drop stopwords, expand aliases, OR the terms, rank.

One :class:`Searcher` per process holds the read-only SQLite connection, the records and the
alias table; a query is one FTS5 statement ranked by bm25 with title and aliases weighted up.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from huiqitong.settings import get_settings
from knowledge.records import Source
from knowledge.segment import add_words, terms
from knowledge.staff import StaffAnswer
from knowledge.text import normalize

logger = logging.getLogger(__name__)
# bm25 column weights, in FTS_COLUMNS order: title, aliases, quote, benefit.
WEIGHTS = (6.0, 5.0, 1.0, 1.5)
# An alias or title found verbatim in the question is the strongest signal owners give us.
PHRASE_BONUS = 2.5
# A term in more passages than this (and 2% of them) discriminates little but makes FTS5 score
# every passage containing it; such terms are dropped while rarer ones remain.
COMMON_DF = 200
MIN_TERMS = 3


@dataclass(frozen=True)
class Hit:
    """One matching record."""

    policy_id: str
    title: str
    section: str
    quote: str
    departments: list[str]
    score: float
    category: str = ""
    status: str = ""
    benefit: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form (CLI, actions)."""
        return asdict(self)


def fts_query(words: list[str]) -> str:
    """An FTS5 MATCH expression that ORs each quoted term."""
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in dict.fromkeys(words))


class Searcher:
    """Read-only access to one built index."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"knowledge base not built: {path} (run `make kb`)")
        self._local = threading.local()
        self._path = path
        con = self._connect()
        self.identity = _identity(path)
        rows = con.execute("SELECT * FROM policies").fetchall()
        cols = [d[0] for d in con.execute("SELECT * FROM policies LIMIT 0").description]
        # Expired records have no passage and are not offered: the bot only knows what is current.
        self.policies: dict[str, dict[str, Any]] = {}
        for row in rows:
            rec = dict(zip(cols, row, strict=True))
            for key in ("departments", "aliases", "amounts_wan", "conditions"):
                rec[key] = json.loads(rec[key]) if rec[key] else None
            if rec.get("status") != "expired":
                self.policies[rec["id"]] = rec
        scols = [d[0] for d in con.execute("SELECT * FROM sources LIMIT 0").description]
        self.sources: dict[str, Source] = {
            row[0]: Source(**dict(zip(scols, row, strict=True)))
            for row in con.execute("SELECT * FROM sources").fetchall()
        }
        # Published staff answers (older indexes have none).
        try:
            cursor = con.execute("SELECT * FROM staff_answers")
            acols = [d[0] for d in cursor.description]
            self.staff = [
                StaffAnswer.from_row(dict(zip(acols, row, strict=True))) for row in cursor.fetchall()
            ]
        except sqlite3.OperationalError:
            self.staff = []
        # Aliases an editor added after the dictionary was written: search must cut them whole too.
        add_words(alias for rec in self.policies.values() for alias in rec["aliases"] or [])
        # Normalised phrase → policy ids, longest first, for the verbatim-phrase bonus.
        phrases: dict[str, set[str]] = {}
        for pid, rec in self.policies.items():
            for phrase in [rec["title"], *(rec["aliases"] or [])]:
                key = normalize(phrase).lower()
                if len(key) >= 2:
                    phrases.setdefault(key, set()).add(pid)
        self._phrases = sorted(phrases.items(), key=lambda kv: -len(kv[0]))
        # rowid → record id, so the ranking query needs no join; term → document frequency.
        self._passage_policy = dict(con.execute("SELECT id, policy_id FROM passages").fetchall())
        self._df: dict[str, int] = dict(con.execute("SELECT term, doc FROM passages_vocab").fetchall())
        self._common = max(COMMON_DF, int(0.02 * len(self._passage_policy)))

    def _connect(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def phrase_hits(self, text: str) -> dict[str, float]:
        """Policies whose title or alias occurs verbatim in ``text`` (normalised), with a bonus each."""
        found: dict[str, float] = {}
        for phrase, pids in self._phrases:
            if phrase in text:
                for pid in pids:
                    found[pid] = max(found.get(pid, 0.0), PHRASE_BONUS * min(len(phrase), 6) / 4)
        return found

    def selective(self, words: list[str]) -> list[str]:
        """The query terms worth matching: known to the index, and not too common while rarer ones remain."""
        known = sorted({w for w in words if self._df.get(w)}, key=lambda w: (self._df[w], w))
        rare = sum(1 for w in known if self._df[w] <= self._common)
        return known[: max(rare, MIN_TERMS)]  # rarest first: the rare ones, topped up to MIN_TERMS

    def search(self, query: str, top: int = 5) -> list[Hit]:
        """Best-matching records for a question, best first.

        Args:
            query: The owner's question in any script or width.
            top: At most this many hits.

        Returns:
            Hits with a positive score; empty when nothing in the letter matches.
        """
        text = normalize(query).lower()
        words = terms(text)
        bonus = self.phrase_hits(text)
        scores: dict[str, float] = {}
        words = self.selective(words)
        if words:
            sql = (
                "SELECT rowid, bm25(passages_fts, ?, ?, ?, ?) AS r FROM passages_fts WHERE passages_fts MATCH ? "
                "ORDER BY r LIMIT ?"
            )
            for rowid, rank in self._connect().execute(sql, (*WEIGHTS, fts_query(words), max(top * 4, 20))):
                pid = self._passage_policy[rowid]
                scores[pid] = max(scores.get(pid, 0.0), -rank)
        for pid, extra in bonus.items():
            scores[pid] = scores.get(pid, 0.0) + extra
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:top]
        return [self._hit(pid, score) for pid, score in best if score > 0]

    def _hit(self, pid: str, score: float) -> Hit:
        rec = self.policies.get(pid)
        if rec is None:  # a passage without a curated record (benchmark distractors)
            return Hit(policy_id=pid, title="", section="", quote="", departments=[], score=round(score, 4))
        return Hit(
            policy_id=pid,
            title=rec["title"],
            section=rec["section"],
            quote=rec["quote"],
            departments=list(rec["departments"] or []),
            score=round(score, 4),
            category=rec["category"],
            status=rec["status"],
            benefit=rec["benefit"],
        )

    def get(self, policy_id: str) -> dict[str, Any] | None:
        """The full record of one policy, or None."""
        return self.policies.get(policy_id)


def _identity(path: Path) -> tuple[int, int]:
    """What changes when a new index is moved over ``path``."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


class _Current:
    """The process-wide searcher, replaced when a new index file appears (an editor published).

    At most every ``RELOAD_CHECK_S`` a request looks at the file; a changed file is opened and swapped
    in whole, so a search in flight finishes on the index it started with.
    """

    def __init__(self) -> None:
        self.searcher: Searcher | None = None
        self.checked = 0.0
        self.lock = threading.Lock()

    def get(self) -> Searcher:
        now = time.monotonic()
        current = self.searcher
        if current is not None and now - self.checked < RELOAD_CHECK_S:
            return current
        with self.lock:
            current, self.checked = self.searcher, now
            path = get_settings().kb_path
            try:
                changed = current is None or _identity(path) != current.identity
            except FileNotFoundError:
                changed = current is None
            if changed:
                try:
                    self.searcher = current = Searcher(path)
                except (FileNotFoundError, sqlite3.DatabaseError):
                    if current is None:
                        raise
                    logger.exception(
                        "new knowledge base at %s unreadable; still serving the previous one", path
                    )
            assert current is not None
            return current


RELOAD_CHECK_S = 1.0
_current = _Current()


def reset_searcher() -> None:
    """Forget the process-wide searcher (tests that point the settings at another index)."""
    _current.searcher, _current.checked = None, 0.0


def default_searcher() -> Searcher:
    """The process-wide searcher over the configured index: opened on first use, reopened when the
    index file was replaced (at most ``RELOAD_CHECK_S`` late)."""
    return _current.get()


def search(query: str, top: int = 5) -> list[Hit]:
    """Search the configured knowledge base (see :meth:`Searcher.search`)."""
    return default_searcher().search(query, top)
