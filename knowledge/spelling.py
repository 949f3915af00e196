"""Homophone typos of the domain's own words, corrected before anything reads the text.

Owners type with pinyin input methods, so their typos are homophones of the word they meant:
补帖 for 补贴, 股该 for 股改, 小巨仁 for 小巨人, 学徒治 for 学徒制, 专金特新 for 专精特新. A span is
corrected only when it is not itself a word jieba knows, starts and ends where jieba's own cut
does (so 是|用来 is never read as 适用), and sounds like exactly one word of our own vocabulary (the
shared jieba user dictionary and the words inside its entries) with one character different;
pinyin comes from pypinyin, with the nasal endings owners confuse (in/ing, en/eng, an/ang) and tones
ignored.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from huiqitong.settings import get_settings
from knowledge.segment import tokenizer
from knowledge.text import normalize

_CJK = re.compile(r"[\u4e00-\u9fff]+")
_LENGTHS = (6, 5, 4, 3, 2)
# Words of every policy question, beside the user dictionary's terms.
_COMMON = (
    "补贴 补助 资助 奖励 政策 申请 申报 材料 流程 条件 标准 贷款 贴息 企业 公司 认定 项目 资金 培训 技能 人才 "
    "学徒制 工作群 节点 融资 上市 股改 厨卫 灯饰 家电 五金 小巨人 专精特新 增长 改造 数字化 智能化 "
    "利率 抵押 担保 截止 期限"
).split()

_CORE = frozenset(_COMMON)


def _pinyin(text: str) -> list[str]:
    """Toneless pinyin of ``text``; pypinyin (some 50 MB with its phrase table) loads on first use, so
    Rasa's process, which reads facts but corrects no typos, never loads it."""
    from pypinyin import Style, lazy_pinyin

    return list(lazy_pinyin(text, style=Style.NORMAL))


@lru_cache(maxsize=8192)
def _sound(char: str) -> str:
    """A character's pinyin without tone, with -ng folded into -n."""
    syllable = _pinyin(char)[0]
    return syllable[:-1] if syllable.endswith("ng") else syllable


@lru_cache(maxsize=8192)
def _word_sound(word: str) -> tuple[str, ...]:
    """A word's pinyin in context (增长 is zeng-zhang, where 长 alone reads chang), folded like :func:`_sound`."""
    return tuple(s[:-1] if s.endswith("ng") else s for s in _pinyin(word))


# Characters owners mistake by shape, not sound (标淮 for 标准, 己认定 for 已认定): one wrong stroke.
_LOOKALIKES = {
    "淮": "准",
    "己": "已",
    "巳": "已",
    "拔": "拨",
    "侯": "候",
    "末": "未",
    "未": "末",
    "柘": "拓",
    "休": "体",
    "载": "截",
}


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[dict[tuple[str, ...], list[str]], frozenset[str]]:
    """Our words by sound, and the words themselves."""
    words: set[str] = set()
    for path in sorted(Path(get_settings().jieba_dict_dir).glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = line.split(" ", 1)[0].strip()
            # Traditional spellings (專精特新) are there for segmentation; text is simplified first.
            if _CJK.fullmatch(entry or "-") and normalize(entry) == entry:
                words.add(entry)
                words.update(
                    w for w in tokenizer().cut_for_search(entry) if len(w) >= 2 and _CJK.fullmatch(w)
                )
    words.update(_COMMON)
    by_sound: dict[tuple[str, ...], list[str]] = {}
    for word in words:
        for key in {tuple(_sound(c) for c in word), _word_sound(word)}:
            by_sound.setdefault(key, []).append(word)
    return by_sound, frozenset(words)


def _candidate(span: str, by_sound: dict[tuple[str, ...], list[str]], ours: frozenset[str]) -> str | None:
    """Our word that ``span`` is a one-character homophone or lookalike typo of, if exactly one exists."""
    found = {
        w
        for key in {tuple(_sound(c) for c in span), _word_sound(span)}
        for w in by_sound.get(key, [])
        if sum(a != b for a, b in zip(w, span, strict=True)) == 1
    }
    found.update(
        fixed
        for i, char in enumerate(span)
        if char in _LOOKALIKES and (fixed := span[:i] + _LOOKALIKES[char] + span[i + 1 :]) in ours
    )
    if len(found) > 1:
        found &= _CORE  # 专精特心 sounds like 专精特新 and 专精特性: the policy word decides
    return found.pop() if len(found) == 1 else None


def sounds_in(word: str, text: str) -> bool:
    """Whether ``text`` holds a homophone of ``word`` one character apart (人材 in a text on 人才, 结点 in
    one on 节点): jieba knows both spellings, so :func:`correct` leaves them, yet they name one thing."""
    if len(word) < 2 or not _CJK.fullmatch(word):
        return False
    key = tuple(_sound(c) for c in word)
    for i in range(len(text) - len(word) + 1):
        window = text[i : i + len(word)]
        if sum(a != b for a, b in zip(window, word, strict=True)) == 1 and all(
            _sound(a) == b for a, b in zip(window, key, strict=True)
        ):
            return True
    return False


# Owners' abbreviations of the domain's words, spelled out so that the rest reads them.
_ABBREVIATIONS = (
    (re.compile(r"智改数转"), "智能化改造数字化转型"),
    (re.compile(r"数转"), "数字化转型"),
    (re.compile(r"小巨(?!人)"), "小巨人"),
    (re.compile(r"专精(?!特)"), "专精特新"),
    (re.compile(r"zjtx", re.IGNORECASE), "专精特新"),
    # Latin abbreviations owners type for the banks and terms the letter spells out.
    (re.compile(r"(?<![a-z])boc(?![a-z])", re.IGNORECASE), "中国银行"),
    (re.compile(r"(?<![a-z])icbc(?![a-z])", re.IGNORECASE), "工商银行"),
    (re.compile(r"(?<![a-z])ipo(?![a-z])", re.IGNORECASE), "上市"),
)


@lru_cache(maxsize=4096)
def correct(text: str) -> str:
    """``text`` with owners' abbreviations spelled out and homophone typos of the domain's words replaced."""
    if not _CJK.search(text):
        return text
    by_sound, ours = _vocabulary()
    cutter = tokenizer()
    known = cutter.FREQ
    out = []
    for piece in re.split(r"([\u4e00-\u9fff]+)", text):
        if not _CJK.fullmatch(piece or "-"):
            out.append(piece)
            continue
        edges = {0}
        for token in cutter.cut(piece, HMM=False):
            edges.add(max(edges) + len(token))
        i = 0
        fixed = []
        while i < len(piece):
            for length in _LENGTHS:
                span = piece[i : i + length]
                # A long span may end inside jieba's cut of the typo (专经特新增涨 cuts 新增).
                if len(span) < length or i not in edges or (i + length not in edges and length < 4):
                    continue
                if span in ours or span in known:
                    fixed.append(span)  # a real word: keep it, and do not read across it
                    i += length
                    break
                word = _candidate(span, by_sound, ours)
                if word:
                    fixed.append(word)
                    i += length
                    edges.add(i)  # the next word starts where the corrected one ends
                    break
            else:
                fixed.append(piece[i])
                i += 1
        out.append("".join(fixed))
    spelled = "".join(out)
    for pattern, full in _ABBREVIATIONS:  # after the typos: 小巨仁 is 小巨人, not 小巨人仁
        spelled = pattern.sub(full, spelled)
    return spelled
