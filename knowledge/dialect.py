"""Written Cantonese (粤语口语) to Mandarin wording, so that owners in 中山 who type as they speak
("我哋係省級專精特新，有冇得攞？") are read like everyone else.

OpenCC converts the script (繁→简) but not the words: 冇, 唔, 嘅, 咗, 係, 几多, 点样, 边度 stay, and
then a question ("能拿几多") is not seen as a question, a negation ("唔打算股改") not as a negation, a
procedure ("点样申请") not as a procedure. This maps the closed set of Cantonese function words and
question words to their Mandarin equivalents; content words (补贴, 专精特新) are the same in both.
It only runs on a message that carries a word found in written Cantonese alone (嘅, 咗, 冇, 哋 …), so
Mandarin text, where 系 means 系统/联系, is never touched.
"""

from __future__ import annotations

import re

# 点 that ends a word (一点, 重点, 试点, 节点, 挂点) is not the Cantonese "how" before a verb.
_NOT_HOW = r"(?<![一重地特要焦亮优缺起终观看有差多快慢早晚盘清试节网站景热痛难弱盲拐支据查挂钟])"
# Characters and words that appear in written Cantonese and not in written Mandarin.
_MARKERS = re.compile(
    r"[嘅咗冇唔哋佢咩嚟喺啲畀攞搵揾睇噉嘢乜嗰𠮶啱咪冚㗎]|有冇|系咪|定系|点样|边度|边个|边间|几多|几钱|几耐|而家|依家|屋企|明白晒|知道晒|清楚晒|呢度|呢个|呢啲|呢间|呢单|呢(边|排|份|条|种|类|次|位|张|笔|批|项)|旧年|"
    # 点 + a verb at the start of a question asks how ("点注册？"); 一点, 重点, 地点 are Mandarin words
    rf"{_NOT_HOW}点(申请|申报|报名|注册|搞|攞|搵|拿|办|计|算)"
)

# Longer phrases first: the order of this list is the order of replacement.
_PHRASES: tuple[tuple[str, str], ...] = (
    ("唔该晒", "谢谢"),
    ("唔该", "谢谢"),
    ("多谢晒", "谢谢"),
    ("冇问题", "没问题"),
    ("冇所谓", "无所谓"),
    ("有冇", "有没有"),
    ("系咪", "是不是"),
    ("系唔系", "是不是"),
    ("可唔可以", "可不可以"),
    ("得唔得", "行不行"),
    ("使唔使", "用不用"),
    ("唔使", "不用"),  # 唔使去大厅排队: no need to
    ("唔洗", "不用"),
    ("喺度", "在"),  # 有冇喺度整理: progressive (在整理), not 在度
    ("会唔会", "会不会"),
    ("能唔能", "能不能"),
    ("够唔够", "够不够"),
    ("算唔算", "算不算"),
    ("要唔要", "要不要"),
    ("收唔收", "收不收"),
    ("点样", "怎样"),
    ("点解", "为什么"),
    ("点办", "怎么办"),
    ("喺边度", "在哪里"),
    ("喺边", "在哪"),  # 维权中心喺边: where (边 alone is 哪)
    ("去边度", "去哪里"),
    ("去边", "去哪"),
    ("边度", "哪里"),
    ("边处", "哪里"),
    ("边个", "哪个"),
    ("边间", "哪家"),
    ("边位", "哪位"),
    ("边啲", "哪些"),
    ("边一", "哪一"),
    ("边几", "哪几"),
    ("边份", "哪份"),
    ("边张", "哪张"),
    ("边条", "哪条"),
    ("边项", "哪项"),
    ("边种", "哪种"),
    ("边类", "哪类"),
    ("边家", "哪家"),
    ("边年", "哪年"),
    ("几多间", "多少家"),
    ("几多", "多少"),
    ("呢排", "最近"),
    ("几钱", "多少钱"),
    ("几耐", "多久"),
    ("几时", "什么时候"),
    ("而家", "现在"),
    ("依家", "现在"),
    ("乜嘢", "什么"),
    ("咩嘢", "什么"),
    ("做乜", "为什么"),
    ("系乜", "是什么"),
    ("呢个", "这个"),
    ("呢啲", "这些"),
    ("呢间", "这家"),
    ("呢度", "这里"),
    ("呢单", "这件"),
    ("嗰个", "那个"),
    ("嗰啲", "那些"),
    ("嗰度", "那里"),
    ("咁多", "这么多"),
    ("咁样", "这样"),
    ("得闲", "有空"),
    ("一齐", "一起"),
    ("搞掂", "搞定"),
    ("开间", "开"),  # 开间公司: 间 is the classifier (开一间公司)
    ("先有得", "才能"),  # 要增长几多先有得攞: 先 + a modal is 才 ("only then")
    ("先可以", "才可以"),
    ("先能", "才能"),
    ("先会", "才会"),
    ("定系", "还是"),
    ("就系", "就是"),
    ("都系", "都是"),
    ("唔系", "不是"),
    ("系度", "在"),
    ("旧年", "去年"),
    ("入面", "里面"),
    ("入去", "进去"),  # 推荐咗几多间入去: went in
    ("入嚟", "进来"),
    ("每间", "每家"),
    ("两间", "两家"),
    ("机械人", "机器人"),
    ("加埋", "加起来"),
    ("旧时", "以前"),
    ("冚唪唥", "全部"),
    ("屋企", "家里"),
    ("明白晒", "明白了"),
    ("知道晒", "知道了"),
    ("清楚晒", "清楚了"),
)
_CHARS = {
    "嘅": "的",
    "咗": "了",
    "冇": "没有",
    "唔": "不",
    "哋": "们",
    "佢": "他",
    "咩": "什么",
    "乜": "什么",
    "嚟": "来",
    "喺": "在",
    "啲": "些",
    "畀": "给",
    "俾": "给",
    "攞": "拿",
    "搵": "找",
    "揾": "找",
    "睇": "看",
    "噉": "这样",
    "咁": "那么",
    "嘢": "东西",
    "嗰": "那",
    "𠮶": "那",  # OpenCC writes 嗰 so
    "啱": "对",
    "冚": "全",
}
_PHRASE_RE = re.compile("|".join(re.escape(p) for p, _ in _PHRASES))
_PHRASE_MAP = dict(_PHRASES)
_CHAR_RE = re.compile("[" + "".join(_CHARS) + "]")
# 点 + a verb asks how ("点申请" = 怎么申请); 仲 + a verb is 还 (仲裁 stays); 系 as the copula.
_HOW = re.compile(_NOT_HOW + r"点(申请|申报|报|搞|拿|办|注册|填|交|查|攞|做|去|联系|找|搵|先|计|算)")
# 呢 before a classifier or 边/排 is "this" (呢边 = 这边), not the question particle.
_THIS = re.compile(r"呢(?=[边排几两次份条种位类张样笔批项部])")
_STILL = re.compile(r"仲(有|系|是|要|可以|未|冇|没|想|会|能|在|喺)")
_COPULA = re.compile(r"(?<![联关体维派直干院星母父谱世中旁])系(?![统列数谱])")


# 边两间 / 边几个: which ones of a count (哪两家); 间 after a numeral is the classifier 家.
_WHICH_N = re.compile(r"边(?=[两几一二三四五六七八九十\d]+[间家个位项])")
_N_JIAN = re.compile(r"(?<=[两几一二三四五六七八九十\d])间")
# 定 between two choices of a figure or a level ("系攞10万定100万", "市级定省级") is 还是 ("or").
_OR = re.compile(r"(?<=[\d万亿元%成级])定(?=\s*[\d两一二三四五六七八九十市省国])")
# 定 between two ways of doing a thing in a question ("一次过畀定分期畀？", "补企业定补银行？") is 还是 too,
# where it forms no word with its neighbours (规定, 确定, 一定 before it; 定期, 定金, 定咗 after it).
_OR_WAYS = re.compile(
    r"(?<=[\u4e00-\u9fa5])(?<![规确决认评稳一指设核鉴审制约固肯否锁选特界判签既预商坚镇安待未搞敲])定"
    r"(?![期时向价点制金做下了咗位义律论案稿局型量性额居夺好晒系])(?=[^,，。.!！?？]{1,12}[?？])"
)


def to_mandarin(text: str) -> str:
    """Mandarin wording of a simplified-script message written in Cantonese; other text unchanged."""
    if not _MARKERS.search(text):
        return text
    text = _PHRASE_RE.sub(lambda m: _PHRASE_MAP[m.group(0)], text)
    text = _N_JIAN.sub("家", _WHICH_N.sub("哪", text))
    text = _OR_WAYS.sub("还是", _OR.sub("还是", text))
    text = _HOW.sub(lambda m: "怎么" + m.group(1), text)
    text = _THIS.sub("这", text)
    text = _STILL.sub(lambda m: "还" + m.group(1), text)
    text = _CHAR_RE.sub(lambda m: _CHARS[m.group(0)], text)
    return _COPULA.sub("是", text)
