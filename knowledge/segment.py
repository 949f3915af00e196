"""Chinese segmentation for the knowledge base: one jieba tokenizer, loaded once per process.

The user dictionary folder is the same one Rasa's JiebaTokenizer reads (``nlu_data/jieba/``), so
the bot and the knowledge base cut policy terms the same way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import jieba

from huiqitong.settings import get_settings
from knowledge.text import normalize

# Words that carry no topic: question words, politeness, the generic subjects of every question.
STOPWORDS = frozenset(
    """
怎么 怎样 如何 怎么样 申请 申报 办理 吗 嘛 呢 吧 啊 呀 哦 么 了 的 地 得 着 过 是 在 有 和 与 及 或 就 都 也 还
我 我们 我司 咱们 你 你们 您 他们 它 这 这个 那 那个 哪 哪些 哪个 什么 啥 多少 几 可以 能 能不能 可不可以 会 要 想
请问 请 问 一下 下 谢谢 你好 您好 麻烦 公司 企业 单位 厂 老板 现在 目前 今年 去年 有没有 是不是 给 对 把 被 让
政策 关于 一个 这种 那种 如果 的话 然后 因为 所以 但是 不过 还有 还是 知道 了解 问 看看 一些 方面 情况 具体
""".split()
)
_TOKEN = re.compile(r"\w", re.UNICODE)
_CJK_ONLY = re.compile(r"[\u4e00-\u9fff]+")
logging.getLogger("jieba").setLevel(logging.WARNING)


@lru_cache(maxsize=1)
def tokenizer() -> jieba.Tokenizer:
    """The knowledge base's own jieba tokenizer with every user dictionary file loaded."""
    tok = jieba.Tokenizer()
    tok.initialize()
    folder: Path = get_settings().jieba_dict_dir
    for path in sorted(folder.glob("*.txt")):
        tok.load_userdict(str(path))
    return tok


def add_words(new: Iterable[str]) -> None:
    """Teach the tokenizer the names editors gave a record (aliases) that it would cut into single
    characters (鑫光智能 → 鑫/光/智能): such a name is then one search term in the index and in questions.
    Names it already cuts into words are left as they are, so the seed's segmentation does not move."""
    tok = tokenizer()
    for word in new:
        key = normalize(word).lower().strip()
        if len(key) < 3 or tok.FREQ.get(key) or not _CJK_ONLY.fullmatch(key):
            continue
        if any(len(piece) == 1 for piece in tok.cut(key)):
            tok.add_word(key)


def terms(text: str, *, drop_stopwords: bool = True) -> list[str]:
    """Search terms of ``text``: normalised, cut for search, punctuation (and stopwords) dropped."""
    out: list[str] = []
    for word in tokenizer().cut_for_search(normalize(text).lower()):
        word = word.strip()
        if not word or not _TOKEN.search(word):
            continue
        if drop_stopwords and word in STOPWORDS:
            continue
        out.append(word)
    return out


def words(text: str) -> list[str]:
    """Whole words of ``text`` (jieba's accurate mode, no sub-words), punctuation and stopwords dropped."""
    return [
        w.strip()
        for w in tokenizer().cut(normalize(text).lower())
        if w.strip() and _TOKEN.search(w) and w.strip() not in STOPWORDS
    ]


def segmented(text: str) -> str:
    """Space-joined search terms, the form stored in FTS5 (unicode61 splits on spaces)."""
    return " ".join(terms(text, drop_stopwords=False))
