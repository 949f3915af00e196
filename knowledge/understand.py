"""What one owner message says and asks: firm facts, the aspect asked, scope and courtesy.

One turn must understand the whole message. Owners write facts and a question together ("我们是省级
专精特新，今年多了四成，有什么补贴？"), wrap content in politeness ("您好…谢谢"), and ask about a
condition without claiming it ("要是增长三成的话…"). This module reads all of that from the text
alone, clause by clause, so the NLU pipeline (facts as entities) and the actions (aspect, scope) read
a message the same way. Which record answers is decided by :mod:`knowledge.answerable`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jieba.posseg

from knowledge.facts import BOOL_FACTS, extract_facts, first_level
from knowledge.pauses import with_pauses
from knowledge.segment import tokenizer
from knowledge.spelling import correct
from knowledge.text import STICKER, normalize, without_chat_markup, without_interest_topic

# --- clauses and who they are about ----------------------------------------------------------------
# Owners typing in WeChat use a space where writers put a comma ("我们是市级专精特新 今年准备股改").
# (a full stop, not the point of 1.1亿 or 2.5%)
_CLAUSE_END = re.compile(
    r"(?:[,，。;；!！?？\n]|(?<!\d)\.|\.(?!\d))+|(?<=[\u4e00-\u9fff\d%％]) +(?=[\u4e00-\u9fff])"
)
# Numerals before 几 make it "some" (五十几个工人, 十几家), not "how many" (几家, 有几个): a lookbehind's class.
NUMERALS = r"十百千万零一二三四五六七八九两\d"
_FIRST_PERSON = re.compile(
    r"我们|我司|我公司|本公司|我厂|我企|本企业|本厂|咱们|咱|我单位|我这边|我方|敝司|我家|俺们|俺|厂里|公司里|"
    # The one who asks is not the firm: "老板叫我问一下", "我想了解下", "麻烦告诉我" (我 alone, not 我们).
    r"(?<![自叫让帮托请喊给])(?<!告诉)我(?!国|市|省|局|想?(问|咨询|了解|知道|打听|请教))"
)
# Another firm ("我们隔壁的恒达五金有限公司", "朋友的厂"): what a clause says of it is not about the asker's firm.
_OTHER_FIRM = re.compile(
    r"(隔壁|旁边|对面|附近|楼上|楼下|别家|朋友|同行|亲戚|客户|供应商|竞争对手|对手|同学|老乡)"
    # (not what they said: "同行讲专精特新企业业绩做上去政府会俾钱" is hearsay of a measure)
    r"(的|那|这|嗰)?(间|家|个)?(?!讲|说|话|问|告诉|提|介绍|推荐)([^,，。?？]{0,20}?(有限公司|公司|工厂|厂|企业))"
)
# A condition posed, or something heard from others: neither is a fact the owner states about the firm.
_HYPOTHETICAL = re.compile(
    # not 主要是 (mainly), 若干 (several)
    r"如果|假如|(?<![主需])要是|假设|倘若|万一|若是|若(?!干)|的话|比如说|比方说|听说|据说|听人说|朋友说|别人说|"
    r"有人说|说是|网上说|看到(新闻|报道|通知)|"
    # "人事说现在有个新型学徒制": someone told of a measure that exists, not of what the firm does
    r"(说|讲|话)(现在|而家|宜家|最近)?(有|出了)(个|1个|一个|种|1种|一种)"
)
# "专精特新企业增长三成有补贴" tells what the policy gives; "省级专精特新企业 去年增长35%" describes the asker.
_POLICY_TALK = re.compile(r"补贴|补助|奖励|资助|给予|扶持|政策|支持|能拿|可以拿")
# "专精特新企业增长三成…" speaks of firms in general; a bare "市级专精特新，增长三成五" of the asker.
# Firms of a kind, spoken of in general ("省级专精特新企业做股份制改造，有冇资助", "企业为了搞数字化转型去银行贷款"); 公司
# alone is as often the owner's own ("公司今年增长了40%").
FIRMS_IN_GENERAL = re.compile(r"企业|单位|厂家|厂商|他们|别人|人家|有的")
_GENERIC_SUBJECT = re.compile(FIRMS_IN_GENERAL.pattern + r"|公司")
_ASKS_FOR_SELF = re.compile(
    r"(能|可以)(拿|领|申请|享受|获得)|有没有得?(拿|领|份|机会)|有(什么|哪些|啥)[^,，。?？]{0,6}(可以|能)?(拿|领|享受)|有戏|有份|够不够|符不符合|符合"
)
# A year a figure belongs to: the clause reports what happened (to the speaker's firm), not a condition.
_DATED = re.compile(r"今年|去年|前年|旧年|上年|上一年|本年度?|这两年|近两年")
_UNDER_WAY = re.compile(r"打算|准备|计划|正在|已经|已|明年|今年|年底|年内|刚|推进中|进行中|在推进|在搞|在做")
# A request to be told ("麻烦告诉我这个文件的全称和文号") or wanting to know ("想了解东莞那边的申报条件"):
# asking, with no question word.
ASKING_TO_KNOW = r"(告诉|告知|发给?|说给)(我|我们|一下)|(想|要)(了解|知道|咨询)(一下)?[^,，。?？]{2,}"
# A yes/no question put as "A…not" at the end, as owners type without a question mark ("市里有挂牌奖励没",
# "增长补贴还能拿不", "出台了未"): a verb that can be asked, then the negation closing the clause.
_ENDS_NOT = r"(?:有|能|可以|会|是|要|行|够|算|得|肯|了|咗|过)[^,，。;；!！?？\s]{0,15}?(?:没有|没|不|未)(?=$|[,，。;；!！\s])"
_QUESTION = re.compile(
    r"[?？]|吗|么$|呢|多少|什么|啥|哪(?!怕)|怎么|怎样|如何|能否|是否|可否|有没有|能不能|可不可以|还是|"
    rf"是不是|会不会|算不算|够不够|(?<![好{NUMERALS}])几[个万家间项次年月天时耐成厘]|几个点|百分之几|谁|干嘛|干啥|为啥|为何|"
    # 多大, 多久 (not 大多, 差不多); A-not-A of any verb (收不收钱, 批不批, 给不给)
    r"(?<![差大许很好])多(大|长|久|高|远|快)|(?P<verb>[\u4e00-\u9fff])不(?P=verb)|"
    + ASKING_TO_KNOW
    + "|"
    + _ENDS_NOT
)

# --- aspects: what the owner wants to know --------------------------------------------------------
# Order matters: the first that matches wins (a "怎么申请…多少" question is about the procedure).
ASPECTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "procedure",
        re.compile(
            r"(怎么|怎样|如何|咋|咋样)(才能|才可以|去|来|样才能)?(申请|申报|办|领|报|弄|拿|获得|享受|兑现|操作|参加|加入|进入|"
            r"对接|认定|备案|用|使用|注册|登记|提交|填|查|找|联系|争取|评|选|入|进|报名|参与|落实|走|搞到|拿到|弄到|对上|挂上|算)|"
            r"(通过|走)什么(方式|渠道|途径|程序|流程)|什么(方式|渠道|途径|程序)|办理方式|申请方式|申报方式|流程|步骤|"
            r"(?<!代办)(?<!帮办)(?<!代跑)(?<!跑)手续|"  # 代办手续收不收钱: the service, whose fee is asked
            r"(?<!原)(?<!收集)(?<!整理)(?<!汇总)材料|(?<!收集)(?<!整理)(?<!汇总)资料|表格|证明文件|盖章|原件|复印件|要交|要提交|需要提交|需要准备|准备(些|哪些|一些)?什么|需要(些|一些)?什么|(准备|提交|交)(些|哪些|一些)?(什么)?(文件|证件|证明)|"
            r"什么时候|啥时候|何时|几时|几月|哪天|哪一天|几号|多久|多长时间|截止|期限|到期|有效期|周期|窗口期|开放申报|"
            r"还能不能申请|还有没有得?(申请|申报|报)|还(可以|能)(申请|申报|报)(吗|么|不)|今年还有没有|去哪|在哪(里|儿)|在哪(办|申请|交|报|领|下载|提交|填)|在哪(?=$|[?？,，。!！\s呀啊呢])|哪里|哪儿|什么地方|网址|链接|入口|"
            r"下载|登录|登陆|"
            r"标准是|什么标准|怎么算|(?<!云)计算|比例是|按什么|依据什么|定档|档次|分几档|评分|打分|名额|指标|"
            r"怎(么|样)(计|算)出来|怎(么|样)计|越(多|高|大)[^,，。?？]{0,6}越(多|高|大)|进度|审核到|审批(流程|时间|进度|要多久)|审核(进度|结果|要多久)|公示|(入选|获批|立项|认定|通过|拟)[^,，。?？]{0,4}名单|"
            r"名单(什么时候|几时|出来|出了|公布|有没有我)|批下来|批了没|到账|拨付(?![^,，。?？]{0,3}(多少|几多))|发放时间|"
            r"什么时候发|还没(收到|到账|发|批)|迟迟|一直没|"
            r"向谁申请|找谁申请|找哪个部门(?=[^,，。?？]{0,2}(申请|申报|办|报|交|递|审|批|领))|哪个部门(审|批|受理|办)|受理|报名|具体要求|细则(在哪|哪里|怎么)|通知(在哪|哪里)|"
            r"地址|门牌|几楼|周末(?!快乐|愉快|好)|节假日|几点|上班时间|办公时间|还会(继续)?|继续(发|执行|实施|有)|延续|今年还有|明年还有|"
            r"(出台|设立|成立|落地|建成|建好|搞好|弄好|做好|开通|启动|实施|印发|挂牌|运营|投入使用)了?(吗|没|没有|未)|"
            r"停了|取消了|(还)?有没有效|是否有效|还有效|(失效|废止|作废)(了)?(吗|没|没有)|被[^,，。?？]{0,8}取代|"
            r"(有没有|有无|是否|会不会)(调整|变化|变动|改变|修改|变)|调整过|(还是不是|是不是还|仍然是)(这样|咁|按|执行)|"
            r"几天|多少天|几个工作日|多少个工作日|口径|延期|追回|退回|退返|收回|退还|(按|用)[^,，。?？]{0,8}还是|用什么指标|按[^,，。?？]{1,8}(算|计算|核算)[^,，。?？]{0,3}(还是|吗|呢|[?？])"
        ),
    ),
    (
        "name",
        re.compile(
            r"(领导|负责人|联系人|主任|局长|市长|挂点|对接人|工作人员)[^,，。?？]{0,8}(叫什么|是谁|名字|姓名|姓什么)|"
            r"是哪位|哪位领导|哪个领导|(领导|负责人|联系人|主任|局长|市长|对接人)(是|系)?(哪个|哪位|谁)"
        ),
    ),
    # Whether two measures can be had together: the letter never says, unless a record does.
    (
        "combine",
        re.compile(
            # (都要 alone is "must": 每件产品都要有追溯码, 每个部门都要跑几次)
            r"(一起|同时|叠加|兼得|重复)(拿|领|享受|申请|申报|要)|都(拿|领|享受|申请|申报)|(两|几|多)(个|项|样|种)都要|"
            r"能不能(一起|同时|叠加|兼得)|"
            r"可以(叠加|兼得|同时)|(叠加|兼得|同时享受)(吗|么|不)"
        ),
    ),
    (
        "qualify",
        re.compile(
            r"能不能(也|都)?(申请|享受|拿|领|申报|报|参加|获得|入|进)|能否(申请|享受|拿|领|申报|报|获得)|可不可以(申请|享受|拿|领|申报|报)|"
            r"(可以|能)(申请|享受|拿|领|申报|报|获得|参加|进|加入|入|贷|借|用(?![来于在作做]))[^,，。?？]{0,8}(吗|么|不)|"
            # "那个贷款贴息政策我们能用吗", "适用于我们吗": whether the measure is the firm's to use
            r"(我们|我司|我公司|本公司|咱们|我厂|我企)[^,，。?？]{0,4}(能|可以)用(?![来于在作做])|适用(于)?(我们|我司|我公司|我厂)|(我们|我司|我公司|我厂)[^,，。?？]{0,4}适用|可不可以(参加|进|加入|入|贷|借)|有没有资格|有资格|符合|够不够|算不算|"
            r"(我们|我司|我公司|本公司|咱们|我厂|我企)[^,，。?？]{0,12}(能|可以)[^,，。?？]{0,6}(拿|领|享受|申请|获得)|"
            r"有(什么|哪些|啥)[^,，。?？]{0,8}(可以|能)(拿|领|享受|申请|获得)|能享受(哪些|什么|啥)|能拿(什么|哪些|啥|多少)|"
            r"适合(我们|我司)(吗|么|嘛|不|吧)|适不适合|有份|有没有份|轮得到|够格|够资格|有戏|达不达标|达标(吗|么|没有|不)|(拿|领|申请|享受)(得到|不到)|(能|可以)(拿|领)到|"
            r"(?<!要)(?<!需)(够|满足|达到)(条件|要求|标准)(吗|么|不|没|未|呢|[?？])|(够|满足|达)不(够|满足|达)(条件|要求|标准)?|"
            r"是不是拿不到|能不能拿到|符不符合|(我们|我司|我公司)[^,，。?？]{0,4}(对不对|合不合适|合不合|适不适合)|有没有得(拿|领|参加|申请|享受|报|入|进)|也(有|能|可以|可|享受|适用)[^,，。?？]{0,10}(吗|么|嘛)|"
            # A-not-A on getting it ("增长补贴行不行", "我们拿不拿到", "报不报得"): whether the owner can.
            r"(?P<v>拿|领|报|申请|享受|申报|参加)不(?P=v)(得)?(到|了)?|(?<![是对好])(行不行|得不得)|"
            r"(我们|我司|我公司|本公司|咱们|我厂|我企)[^,，。?？]{0,4}(有没有|有无|有份)[吗呢啊]?[?？]?$|"
            # whether the firm falls within what a measure covers ("有没有我们份", "我们在不在范围", "算在里面吗")
            r"有(没有)?(我们|我司|我厂)的?份|(在|属于)[^,，。?？]{0,4}范围(内|里|里面|之内)?(吗|么|不|没有)|在不在[^,，。?？]{0,4}范围|"
            r"算(在|不算在)?(里面|其中|之内|范围内)|包不包括|包括(我们|我司)(吗|么|在内)"
        ),
    ),
    (
        "who",
        re.compile(
            r"找谁|谁负责|哪个部门|什么部门|哪个单位|归谁管|谁管|联系(方式|电话|人)|电话|热线|对接(的)?(人|领导|部门)|"
            r"(有没有|有无|是否有|有)[^,，。?？]{0,6}(对接|挂点|专人|联系)[^,，。?？]{0,4}(领导|人|部门)?|谁来(对接|服务|联系)|"
            r"挂点领导是谁|负责人|"
            # "有冇手机或者微信", "微信号系几多": a way to reach someone
            r"(有没有|有无|留个?|给个?|加)[^,，。?？]{0,6}(手机|微信(?![群公])|邮箱)|(手机|微信|邮箱)(号|号码)?(是|系)?(多少|几多)"
        ),
    ),
    (
        "conditions",
        re.compile(
            r"条件|要求|门槛|哪些企业|什么(样的)?企业|什么(样的)?公司|谁可以|适用(对象|范围|于哪)|对象是|针对(哪些|什么)|资格|"
            r"(要|需要)达到|达到多少|才能(进|入|申请|拿|享受|评)|多少以上|以上才|(怎样|怎么|什么)才算|才算"
        ),
    ),
    # An opinion or advice (值不值得申请, 有没有必要评): the letter states measures, not what a firm should do.
    (
        "advice",
        re.compile(
            r"有没有必要|有必要吗|值不值得|值得(申请|去|搞|做)?(吗|么|不)|划不划算|划算(吗|么|不)|哪个(更|比较)?(好|划算|合适)|"
            r"还是[^,，。?？]{1,20}(比较好|更好|较好|好一点|好些|好点|更划算|更合适)|(应该|应当|(?:^|[,，。?？]))先[^,，。?？]{1,12}还是|"
            r"还是[^,，。?？]{1,20}好(?=$|[,，。?？呢啊呀吖])"
        ),
    ),
    (
        "fee",
        re.compile(
            r"收费|要钱吗|要不要钱|免费|付费|费用(多少|是多少|怎么算)?|交钱|收不收(钱|费)|收钱|用不用(钱|给钱|付钱)|"
            # "担保费几多", "中介费要多少": a fee for a service (经费, 资费 are money given, not charged)
            r"(?:(?![经资旅])[\u4e00-\u9fa5])费[^,，。?？]{0,3}(多少|几多|怎么(收|算)|贵不贵|高不高)"
        ),
    ),
    (
        "amount",
        re.compile(
            r"多少钱|多少万|多少|几多|(?<![十百千万])几万|几百万|几成|"
            rf"(?<![哪举好{NUMERALS}])几(家|个|项|名|位|批|次|场|所|件|笔|人)|"
            r"百分之几|金额|额度|补(贴|助)多少|给多少|奖(励)?多少|最高|上限|封顶|顶格|多大|规模"
        ),
    ),
)
PROCEDURE_TOPICS = {
    "地址": "具体地址和办公时间",
    "周末": "具体地址和办公时间",
    "几点": "具体地址和办公时间",
    "上班": "具体地址和办公时间",
    "了吗": "目前进展",
    "了没": "目前进展",
    "好没": "目前进展",
    "好未": "目前进展",
    "还有没有": "现行安排",
    "还可以申": "现行安排",
    "还能申": "现行安排",
    "还会": "现行安排",
    "继续": "现行安排",
    "延续": "现行安排",
    "口径": "计算标准",
    "指标": "计算标准",
    "材料": "申请材料",
    "资料": "申请材料",
    "表格": "申请材料",
    "截止": "截止时间",
    "期限": "办理期限",
    "什么时候": "时间安排",
    "何时": "时间安排",
    "几月": "时间安排",
    "哪天": "时间安排",
    "哪一天": "时间安排",
    "几号": "时间安排",
    "日期": "时间安排",
    "多久": "办理时长",
    "几天": "办理时长",
    "多少天": "办理时长",
    "工作日": "办理时长",
    "有效": "现行安排",
    "取代": "现行安排",
    "废止": "现行安排",
    "失效": "现行安排",
    "多长时间": "办理时长",
    "延期": "延期安排",
    "追回": "资金追回规定",
    "退回": "资金追回规定",
    "退返": "资金追回规定",
    "收回": "资金追回规定",
    "退还": "资金追回规定",
    "到账": "资金到账时间",
    "发放": "发放安排",
    "流程": "办理流程",
    "步骤": "办理流程",
    "手续": "办理手续",
    "怎么算": "计算标准",
    "怎样计": "计算标准",
    "怎么计": "计算标准",
    "越多": "计算标准",
    "计算": "计算标准",
    "比例": "计算比例",
    "标准": "具体标准",
    "去哪": "办理地点",
    "在哪": "办理地点",
    "哪里": "办理地点",
    "网址": "申报入口",
    "链接": "申报入口",
    "入口": "申报入口",
    "审批": "审批安排",
    "审核": "审核安排",
    "公示": "公示安排",
    "报名": "报名方式",
    "下载": "使用方法",
    "进度": "办理进度",
    "名单": "名单",
    "名额": "名额",
    "有效期": "有效期",
    "受理": "受理部门",
    "注册": "使用方法",
    "登录": "使用方法",
    "登陆": "使用方法",
    "定档": "具体标准",
    "档次": "具体标准",
}
# "我们能享受哪些政策": every rule-bearing policy, not only those the message names.
_MATCH_ALL = re.compile(
    r"(能|可以)(享受|申请|拿|领)(到)?(哪些|什么|啥)(政策|补贴|扶持|优惠|支持|资金|奖励)?|"
    r"(有|有没有)(什么|哪些|啥)(政策|补贴|扶持|优惠|支持|资金|奖励|钱|好处)[^,，。?？]{0,6}(可以|能)?(拿|享受|申请|领)|"
    r"能拿(哪些|什么|啥)(钱|补贴|政策)?|"
    r"(适合|符合)(我们|我司)的(政策|补贴)|帮(我们|我)(看看|查查|匹配|判断)"
)

# --- scope ----------------------------------------------------------------------------------------
# Other places: named cities and provinces, the districts and towns of the cities around 中山 that owners
# name without their city (清溪 is 东莞's, 北滘 佛山's), and the anonymised forms of public message boards
# (A市, 某省).
_REGIONS = "|".join(
    sorted(
        """
深圳 广州 佛山 东莞 珠海 江门 惠州 肇庆 汕头 湛江 茂名 清远 韶关 阳江 河源 梅州 汕尾 潮州 揭阳 云浮 北京 上海 天津 重庆 杭州
苏州 南京 无锡 常州 南通 扬州 镇江 泰州 徐州 盐城 淮安 连云港 宿迁 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水 义乌 武汉
宜昌 襄阳 荆州 黄石 十堰 孝感 成都 绵阳 德阳 宜宾 泸州 南充 乐山 自贡 攀枝花 西安 宝鸡 咸阳 渭南 延安 榆林 汉中 长沙 株洲 湘潭
衡阳 岳阳 常德 郴州 邵阳 益阳 娄底 怀化 郑州 洛阳 开封 新乡 南阳 许昌 安阳 焦作 商丘 信阳 周口 平顶山 驻马店 漯河 厦门 福州 泉州
漳州 莆田 龙岩 三明 南平 宁德 青岛 济南 烟台 潍坊 临沂 淄博 济宁 威海 日照 德州 聊城 泰安 菏泽 枣庄 滨州 东营 合肥 芜湖 蚌埠
淮南 马鞍山 安庆 阜阳 六安 滁州 宿州 南昌 赣州 九江 上饶 宜春 吉安 景德镇 萍乡 抚州 南宁 柳州 桂林 梧州 北海 玉林 钦州 昆明 曲靖
大理 丽江 玉溪 贵阳 遵义 六盘水 海口 三亚 沈阳 大连 鞍山 抚顺 锦州 营口 丹东 长春 吉林市 四平 延边 哈尔滨 大庆 齐齐哈尔 牡丹江 石家庄 唐山
保定 邯郸 廊坊 沧州 秦皇岛 张家口 邢台 承德 衡水 太原 大同 运城 临汾 晋城 长治 忻州 呼和浩特 包头 鄂尔多斯 赤峰 兰州 天水 银川 西宁 乌鲁木齐
克拉玛依 喀什 拉萨 澳门 香港 台湾 浙江 江苏 福建 山东 河南 河北 湖南 湖北 四川 陕西 山西 安徽 江西 广西 云南 贵州 海南 辽宁 吉林省
黑龙江 内蒙古 甘肃 宁夏 青海 新疆 西藏
顺德 南海 禅城 三水 高明 番禺 花都 增城 从化 南沙 虎门 松山湖 宝安 龙岗 龙华 坪山 斗门 金湾 香洲 横琴 台山 开平 恩平 鹤山
昆山 江阴 张家港 常熟 太仓 慈溪 余姚 诸暨 乐清 瑞安 晋江 石狮 兰溪 永康 东阳
清溪 常平 塘厦 厚街 寮步 大朗 大岭山 樟木头 凤岗 黄江 谢岗 石碣 石排 企石 横沥 东坑 麻涌 高埗 望牛墩 洪梅 道滘 万江 莞城
狮山 大沥 西樵 里水 丹灶 北滘 容桂 大良 伦教 勒流 乐从 陈村 均安 杏坛 桂城 黄埔 天河 海珠 荔湾 越秀 福田 罗湖 盐田 蓬江 新会
惠阳 惠东 博罗 四会 高要 唐家湾
""".split(),
        key=len,
        reverse=True,
    )
)
_OTHER_REGION = re.compile(
    rf"({_REGIONS})|(?<![\u4e00-\u9fa5A-Za-z0-9])[A-Za-zＡ-Ｚ某XxＸ][市省县区州盟旗](?!场)|(?<![A-Za-zＡ-Ｚ0-9])[A-Za-zＡ-Ｚ][市省县州](?!场)|某(个)?(地|地方|城市|市|省|县|区)|外地|外省|外市|[\u4e00-\u9fa5]县|县城|县里"
)
# An individual's own matters, and city services: someone else answers those, and the letter is silent.
_PERSONAL = re.compile(
    r"社保|医保|公积金|养老金|养老|退休|工资|欠薪|讨薪|农民工|工伤|劳动合同|辞退|加班费|个税|个人所得税|职称|户口|户籍|"
    r"落户|入户|购房|买房|房贷|租房|廉租房|公租房|离婚|结婚|生育|产假|失业金|低保|驾照|身份证|护照|签证|子女入学|"
    r"上学|学位|高考|中考|孩子|小孩|家长|子女|学生|毕业生|求职|找工作|失业|居住证|暂住证|结婚证|出生证|生育津贴|"
    r"退休金|残疾|养老院|老人|人才房|人才公寓|购房补贴|租房补贴|医保卡|社保卡|我老婆|我老公|我爸|我妈|家属|亲戚"
)
_CITY_SERVICE = re.compile(
    r"医院|看病|挂号|疫苗|道路|马路|修路|路灯|红绿灯|公交|地铁|停车|车位|车道|堵车|拥堵|交通|大桥|桥梁|匝道|(?<!直)通车|"
    r"隧道|路段|路口|坑洼|坑坑洼洼|那条路|这条路|太堵|很堵|好堵|晚高峰|早高峰|塞车|步行街|公园|绿化|小区|物业|业委会|业主|居民|街坊|村民|游客|垃圾|噪音|噪声|扰民|油烟|烧烤|"
    r"摊贩|摆摊|摆卖|地摊|占道|断头路|违建|拆迁|学校|小学|中学|幼儿园|学区|供水|停水|停电|燃气|排水|污水|水浸|内涝|水库|"
    r"博物馆|图书馆|科普馆|体育馆|文化馆|游泳|宠物|电梯|充电桩|出租车|出租汽车|的士|网约车|供暖|暖气|"
    r"毒烟|黑烟|废气|排污|偷排|乱排|污染|呼吸|卫生院|社区|街道办|居委会|村委|派出所|警察|治安|消防|城管|环卫|绿道|河道|臭味|异味|空气|工地|扬尘|渣土|"
    r"夜间施工|广场舞|流浪|菜市场|农贸市场|公厕|厕所|路面|井盖|积水|条路|修路|路修|断水|自来水|水费|燃气费|物业费|房价|楼盘|"
    r"开发商|烂尾|交房|招生|入学|高铁|火车|机场|码头|轮渡|共享单车|电动车|违章|停车费|收费站|"
    r"天气|彩票|股票|基金推荐|炒股|菜价|电影|旅游|景点|外卖"
)
# A school or a road is ours only when a firm asks about a policy: both kinds of word must be there.
_FIRM = re.compile(
    r"企业|公司|工厂|厂|制造|车间|商户|个体户|营业执照|专精特新|小巨人|单项冠军|展会|展位|参展|外贸|出口|订单"
)
_ENTERPRISE = re.compile(
    r"补贴|补助|资助|奖励|奖补|扶持|政策|贴息|融资|贷款|上市|股改|股份制|认定|申报|申请|专精特新|小巨人|单项冠军|"
    r"知识产权|专利|商标|质量奖|学徒|技能等级|招商|数字化|智能化|集群|开办|补(?!缴|交|办|考|课|充|习)|减免|优惠|试点|上云|工业互联网|标杆"
)
OWN_PLACES = re.compile(  # 中山 and its towns: where a firm is, never another place
    r"中山|火炬|翠亨|小榄|古镇|石岐|东区|西区|南区|五桂山|黄圃|东凤|南头|阜沙|三角|民众|"
    r"横栏|港口|沙溪|大涌|板芙|神湾|坦洲|三乡|东升|南朗"
)

# --- courtesy and people --------------------------------------------------------------------------
_GREETING = re.compile(
    r"^(您好|你好|hi|hello|hey|嗨|哈喽|哈啰|早上好|上午好|中午好|下午好|晚上好|早安|早|在吗|在么|在不在|"
    r"在忙吗|忙吗|忙不忙|在线吗|有人没|人呢|[?？!！.。…~～\s]+$|"  # a ping, or a bare "?"
    r"有人吗|有人在吗|老师好|领导好|喂+[,，。!！?？~～\s]*$|(测试|test|testing)[一下]*[\s\d.。!！]*$|"
    r"(新年|节日|春节|元旦|中秋|国庆|端午|元宵|冬至|周末)(快乐|好|愉快)|恭喜发财|新年好)"
)
_THANKS = re.compile(
    r"^打扰(晒|哂|了|啦|你们了|您了|大家了)[!！。~～\s]*$|谢谢|多谢|感谢|感恩|谢了|谢啦|辛苦了|辛苦啦|辛苦[晒哂]|辛苦(你|您|你们|您们|大家)(了|啦)?|thank|thx|3q|唔该|有心了|麻烦你了|"
    # praise of the service is thanks too: 你真棒, 好用, 点赞
    r"^(哈+|嘻+|呵+)?[,，\s]*(你|您|你们|机器人)?(真|好|太|很|挺|蛮)?(棒|厉害|聪明|给力|好用|方便|专业|靠谱)(了|啊|呀|哦|喔)?[!！~～。\s]*$|点赞|👍"
)
_GOODBYE = re.compile(
    r"再见|拜拜|bye|回头见|下次(再)?(来)?(聊|问)?|改天再|回头再|晚安|先这样|就这些|没有了|没事了|88$|"
    r"(就|先)?(问|聊|讲)到这里|我(先)?去(开会|忙)|"
    r"我(再|先)(去)?(看看|研究(一下)?|准备(一下)?|考虑(一下)?|想想|了解(一下)?)[。.!！~～]*$"
)
_BOT = re.compile(
    r"(你|您)是(不是)?(机器人|真人|人工|AI|ai|人工智能|智能客服|自动回复)|机器人吗|是真人吗|你是谁|你叫什么|"
    r"(是|系)(咪|唔系)?(机器人|真人)|"
    # what the bot is for, asked of the bot alone (not "你能帮我查一下股改资助吗")
    r"^(请问)?(你|您)(能|会|可以)(做|干|帮|帮我|帮我们|帮忙)?(做)?(什么|啥|哪些|些什么|咩)(事|忙|事情|工作)?[?？吗呢\s]*$|"
    r"^(你|您)(有|有什么|有啥)(用|功能|作用)[?？吗呢\s]*$|^(你|您)是(哪个|什么|边个)(部门|单位|机构)(的)?[?？吗呢\s]*$"
)
# Acknowledgements only, one or several ("好的收到", "好的,知道了", "嗯嗯 明白").
_ACK_WORD = (
    r"(好的?|好吧|(我|我们)?(知道了?|明白了?|了解了?|懂了|清楚了?|晓得了?)|收到|ok的?|okay|嗯+|噢+|哦+|行|可以了?|没问题|得|"
    r"没事|冇事|无问题|没问题了|没有问题了|冇问题)"
)
# Particles and emoji an acknowledgement may carry (知道啦, 好滴, 👍): removed before it is recognised.
# WeChat sends a sticker or emoji as its name in brackets ([微笑][抱拳], [表情]).
_ACK_NOISE = re.compile(r"[啦啊呀哈咯喔滴吧]+|" + STICKER.pattern)
_ACK = re.compile(rf"^({_ACK_WORD}[,，、。.!！~～\s]*)+$")
# The words of politeness, and with punctuation: what a message that only greets or thanks is made of.
_COURTESY_WORDS = re.compile(
    r"您好|你好|在吗|在不在|打扰(一下|了|您了)?|麻烦(您|你)?(一下)?|请问(一下)?|谢谢(您|你)?(了|啦)?|多谢|感谢(您|你)?|"
    r"辛苦(你|您|你们|您们|大家)?(了|啦)?|不好意思|冒昧|劳驾|再见|拜拜|好的|好|嗯|哦|啊|呀|呢|哈|"
    r"(我|我们)?(想|要)?(咨询|请教|问|了解)(一下|一些|下|问)?(问题|情况|政策)?"
)
_POLITE = re.compile(_COURTESY_WORDS.pattern + r"|[~～!！。.,，?？\s]")
# "您好，打扰一下，贴息 银行 谢谢！": words typed apart as into a search box, between courtesies.
_KEYWORD = re.compile(r"[^\s?？]{1,16}")
_APART_BY_PUNCTUATION = re.compile(r"[,，。.!！~～;；?？]|吗|呢")


def keyword_query(text: str) -> bool:
    """Whether ``text`` without its courtesies is two or more short words typed apart by spaces, as into a
    search box (a sentence, a question or remarks apart by commas are not)."""
    said = without_courtesies(text)
    pieces = said.split()
    return (
        len(pieces) >= 2
        and not _APART_BY_PUNCTUATION.search(said)
        and all(_KEYWORD.fullmatch(p) for p in pieces)
    )


# A request for a person, not a question about the 挂点 service or the contact line.
_STAFF = r"(工作人员|人员|专人|专员|同志|领导|负责人|同事|客服|人工|真人)"
# Asking for someone to be sent or arranged: a request ("能不能安排…", "请派…"), not "会安排领导对接吗".
_ASKING = r"(能不能|能否|可不可以|可唔可以|可否|请|麻烦|帮我|给我|希望|我要|我想|想)"
_WANTS_PERSON = re.compile(
    r"转(一下|下)?人工|人工(客服|服务|坐席)?(在吗|呢)?$|找人工|要人工|接人工|真人(客服)?|人工客服|"
    # "帮我转过去", "帮我转给他", "请工作人员致电本公司", "搵个同事帮我睇下"
    r"(帮我|麻烦|请)转(过去|给(他|她|佢))|致电(本公司|我|我们|我司)|(找|搵)(个|一个|1个)(同事|工作人员|负责人)帮|"
    r"(想|要)(直接)?(跟|和|同|找|搵)[^,，。?？]{0,8}(工作人员|负责人|人工(?!智能)|真人|活人)[^,，。?？]{0,4}(讲|倾|说|谈|聊|沟通)|"
    r"接(个|一个|1个)(工作人员|人工|同事|真人)|"
    r"(?<![难唔不])(叫|喊|找|派)(个|一个|1个)?(负责|管事|懂行)?的?(人|真人|活人|工作人员|同事|同志|负责人)(来|过来|出来)?"
    r"((马上|尽快|立即|立刻|赶紧)?(跟进|处理|对接|联系我)(一下|下)?(处理)?)?(吧|啊|呀|啦)?(?=$|[,，。!！?？~～])|"
    r"派(个|一个|1个|几个)?(人|同事|同志|工作人员)(来|过来|上门|到)|(复|回|覆)(我|返我)?(个)?电话|"
    r"转(给|到)?(你们|贵局|工信局)?的?(领导|负责人|工作人员|人工|客服|真人)|"
    r"(?<!有没有)(?<!是不是)(?<!有无)(?<!已经)(?<!机器)换(个|一个|1个|过)?([\u4e00-\u9fa5]{1,4}的)?(人|真人|人工|客服|工作人员|负责人|领导)(来|吧|啊|呀|啦|得唔得|行不行|可以吗|$|[,，。!！?？])|"
    rf"{_ASKING}[^,，。?？]{{0,6}}(安排|派)[^,，。?？]{{0,12}}{_STAFF}|"
    r"(帮(我|我们|我哋|忙|手)?|麻烦(你|你们|您)?|请)(对接|转接?|跟进)(一下|下)?(?=$|[,，。!！?？~～]|谢谢|唔该|多谢)|"
    r"(转给|转接|转到|帮我转|接通|帮我(联系|联络|找)|我要找|我想找|找一下|联系一下|联络一下|让)[^,，。?？]{0,10}"
    r"(工作人员|客服|挂点领导|领导|专人|专员|同志|负责人|人工|同事)|"
    rf"(请|让|叫|麻烦)[^,，。?？]{{0,12}}{_STAFF}[^,，。?？]{{0,8}}(对接|联系|联络|沟通|跟进|上门|过来|指导)|"
    r"(请|让|叫|麻烦|安排)[^,，。?？]{0,24}(联系我|给我打(个|一个|1个)?电话|打(个|一个|1个)?电话给我|打给我|回电|来电|回个电话|"
    r"加我|电话联系|电话联络)|通知[^,，。?？]{0,10}(领导|挂点|工作人员|负责人)|"
    r"real person|human|talk to|agent|(有没有|有无)[^,，。?？]{0,8}客服|"
    r"(跟|和|同)(工作人员|人|真人|领导)(聊|说|谈|沟通)|"
    rf"(跟|和|同|给)[^,，。?？]{{0,6}}{_STAFF}[^,，。?？]{{0,4}}(通|打)(个|一个|1个|一下)?电话|"
    r"(约|预约)[^,，。?？]{0,6}(见面|上门|走访|面谈|出来|倾|聊|当面)|"
    r"(有没有|有无)(人工|真人)(客服|服务)?(?=$|[,，。!！?？吗呀啊])|"
    r"(让|叫|请|安排)[^,，。?？]{0,10}的?人[^,，。?？]{0,6}(跟|和|同|与)(我|我们)[^,，。?？]{0,4}(对接|联系|沟通|谈|聊)|"
    # Someone to talk to, call back, meet or come: 有冇人可以同我倾下, 叫人打返畀我, 我要见你们领导, 当面聊.
    rf"(有没有|有无)?(人|{_STAFF})(可以|能)?(同|跟|和|与)(我|我们)(倾|聊|讲|说|谈|沟通)|"
    r"(打|回|覆|call)(返|回)(个|一个|1个)?(电话)?给?(我|我们)|有(没有|无)?人在(线|吗)|"
    rf"(我要|我想|想|要求|希望)(见|约|面见)[^,，。?？]{{0,6}}{_STAFF}|当面(聊|谈|沟通|倾|讲|咨询)|"
    rf"转交(给)?[^,，。?？]{{0,6}}{_STAFF}|加[^,，。?？]{{0,4}}{_STAFF}[^,，。?？]{{0,2}}(微信|企业微信|电话)|"
    rf"(需要|要|想要)(专人|人工|真人)|(叫|让)[^,，。?？]{{0,4}}{_STAFF}(出来|过来|来)|"
    r"(有没有|有无)人(能|可以)?上门|找个[^,，。?？]{0,6}的人(来|过来|帮)|找个人(帮|来|问)|接通|"
    # a group chat's own way to ask for one: "拉1个工信局的工作人员进群", "邀请你们领导入群"
    rf"(拉|邀请?|加)[^,，。?？]{{0,12}}{_STAFF}[^,，。?？]{{0,4}}(进|入|加入)(群|来)"
)
# Enterprise matters beyond the policy words: what makes "the letter does not say" the honest reply
# rather than "not a matter for this bot".
# A chore asked of the bot ("帮我写一份年会主持词", "翻译一下这封邮件"): no matter of policy, whatever firm it is for.
_CHORE = re.compile(
    r"(帮|替|同|给)(我|我们|我哋)?(写|起草|拟|翻译|改|润色|算|做)(一)?(份|篇|个|下|一下)?[^,，。?？]{0,12}"
    r"(主持词|讲话稿|发言稿|致辞|稿|文案|邮件|合同|简历|方案|报告|PPT|ppt|表格|海报|广告|祝福语|对联|诗)|"
    r"^(翻译|写)(一下|一份|一篇|个)"
)
_BUSINESS = re.compile(
    r"税|扣除|研发|技改|科技|高新|创新|工业|制造|产业|园区|厂房|用地|招商|投资|营商|执照|开公司|注册公司|人才|培训|技能|"
    r"职业|员工|招工|用工|经营|生产|设备|银行|担保|基金|市场监管|工信|商务局|政务|办事|代办|平台|数字化|智能|上云"
)
# The owner's own application in progress (交上去了, 还没到账, 被驳回): a specific case, for a person.
_OWN_CASE = re.compile(
    # "交上去三个月还没消息", not "报建报了半年…跑到没有晒耐性" (what waited, not a mood)
    r"(交|报|递|提交|申请|申报)(上去|过|了)[^?？。]{0,30}(还没|没有|一直|迟迟|至今|到现在)[^,，。?？]{0,4}"
    r"(到账|收到|批|下来|消息|回复|结果|动静|下文|通过|审|拨|发|到|回音|音讯)|"
    r"(交|报|递|提交|申请|申报)(上去|过|了)[^?？。]{0,30}一分钱|"
    r"(还没|一直没|迟迟没|至今没|到现在都?没)(到账|收到|批|下来|消息|回复|结果)|一分钱(都)?没|被(驳回|退回|拒绝|否决)|"
    r"没(有)?通过(审核|评审)|审核(没|未)通过|催了|"
    # stuck in a procedure ("卡在镇里两个多月", "审批卡住了"), not on a technology ("卡在一个核心技术上")
    r"卡在[^,，。?？]{0,8}(审批|审核|流程|环节|手续|镇里|区里|市里|部门|窗口|那里|那边)|"
    r"(审批|审核|申请|申报|手续|流程|材料)[^,，。?？]{0,10}卡(在|住)"
)
# A complaint is for a person too, but only about a matter of ours: a neighbour's noise is not.
_COMPLAINT = re.compile(r"投诉|我要反映|我要举报|要求(处理|解决|答复)")


def tells_own_case(text: str) -> bool:
    """Whether the text tells of the owner's own application stuck or refused (交上去三个月还没消息)."""
    return bool(_OWN_CASE.search(text))


def complains(text: str) -> bool:
    """Whether the text makes a complaint (投诉, 我要反映)."""
    return bool(_COMPLAINT.search(text))


@dataclass
class Understanding:
    """Everything one message says and asks."""

    text: str
    facts: dict[str, Any] = field(default_factory=dict)
    hypothetical: dict[str, Any] = field(default_factory=dict)
    mentioned: dict[str, Any] = field(default_factory=dict)
    aspect: str | None = None
    procedure_topic: str | None = None
    asks: bool = False
    scope: str = "in"
    courtesy: tuple[str, ...] = ()
    wants_person: bool = False
    complaint: bool = False
    own_case: bool = False
    policy_words: bool = False
    on_topic: bool = False
    match_all: bool = False
    uscc_error: str | None = None
    region: str | None = None
    # Another firm a question asks about ("隔壁的恒达五金有限公司有没有拿到"): the letter names no recipients.
    other_firm: str | None = None
    # A title whose criteria the owner asks for (评专精特新要满足什么条件): not what the letter states.
    becoming: str | None = None
    # Only greetings and remarks on the weather ("早上好，今天天气不错"): small talk, whatever words it has.
    small_talk: bool = False
    # A short follow-up is read against the record just discussed: its title, put before ``text``.
    context: str = ""

    @property
    def said(self) -> str:
        """The owner's own words (``text`` without the record a follow-up was read against)."""
        return self.text[len(self.context) + 1 :] if self.context else self.text

    @property
    def content(self) -> str:
        """The message without politeness and punctuation: empty when it only greets or thanks."""
        return _POLITE.sub("", self.text)


_TRAILING_THANKS = re.compile(
    r"[\s,，]+(谢谢|多谢|感谢|唔该|thx|thanks)(您|你|你们|晒|哂)?(了|啦|晒)?[!！。.~～\s]*$", re.IGNORECASE
)


def without_courtesies(text: str) -> str:
    """``text`` without the clauses at its start and end that only greet or thank ("您好，打扰一下，…谢谢！"):
    what is left is what the owner says, punctuated (or spaced) as they typed it."""
    text = _TRAILING_THANKS.sub("", text)
    cuts = [0, *(m.end() for m in _CLAUSE_END.finditer(text)), len(text)]
    spans = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if text[a:b].strip()]

    def courteous(span: tuple[int, int]) -> bool:
        return not _COURTESY_WORDS.sub("", text[span[0] : span[1]]).strip(" ,，。.!！~～?？")

    while len(spans) > 1 and courteous(spans[0]):
        spans.pop(0)
    while len(spans) > 1 and courteous(spans[-1]):
        spans.pop()
    return text[spans[0][0] : spans[-1][1]].strip() if spans else text


def clauses(text: str) -> list[str]:
    """Normalised text cut at punctuation, the question mark kept with its clause."""
    parts, last = [], 0
    for match in _CLAUSE_END.finditer(text):
        parts.append(text[last : match.end()])
        last = match.end()
    parts.append(text[last:])
    return [p.strip() for p in parts if p.strip()]


# A question word that asks nothing: "whatever" before 都/也 (结果怎样都好, 什么都不懂) and "nothing" after a
# negation (冇咩特别想问, 没什么问题), not "有没有什么补贴".
_INDEFINITE = re.compile(
    r"(什么|啥|怎样|怎么样|怎么|哪里|哪儿|哪个|谁|多少)[^,，。?？吗呢]{0,2}(都|也)(?![^,，。?？]{0,8}(吗|呢|[?？]))|"
    r"(?<!有)(没有|没|冇|无)(什么|啥|咩|多少)"
)


def is_question(clause: str) -> bool:
    """Whether a clause asks something."""
    return bool(_QUESTION.search(_INDEFINITE.sub("", clause)))


def questions_of(text: str) -> list[str]:
    """The clauses of what a message asks (:func:`asking_part`, without lead-ins) that are questions."""
    return [c for c in clauses(asking_part(text, lead_in=False)) if is_question(c)]


# A clause of a story that asks: not "几个工人" or "还是老样子", which tell.
_ASKS_IN_STORY = re.compile(
    r"[?？]|吗|么$|呢|多少|几多|什么|啥|哪(?!怕)|怎么|怎样|如何|能否|是否|可否|有没有|能不能|可不可以|是不是|会不会|"
    r"算不算|够不够|谁|百分之几|几成(?!了)|"
    # 有几家企业拿到: how many; not 五十几个工人, 我哋几个股东, 招了几个本科生, 几家银行都说
    rf"(?<![了们哋这那好{NUMERALS}])几[个家间项名位](?![^,，。?？]{{0,8}}(都|也))|" + ASKING_TO_KNOW
)
# Where a new thought starts in unpunctuated speech: before asking, before the firm speaks of itself.
_NEW_THOUGHT = re.compile(
    r"(?=我想问|想问下|想问一下|请问|想了解|我想知道|另外|还有就是|老板说|我们公司|我们厂|我们是|我们这|但是|不过|所以)"
)
# "成日都不知道政府出了什么政策": what the owner did not know, told in the story, asks nothing.
_NOT_KNOWING = re.compile(r"(不知|不清楚|不晓得|搞不清|唔知)[^,，。?？]{0,10}?(什么|啥|哪|怎么|多少)")
LONG_MESSAGE = 40  # characters: a message longer than this that has questions also tells a story around them


@lru_cache(maxsize=4096)  # (a turn asks it of the same message for every record it weighs)
def asking_part(text: str, *, lead_in: bool = True) -> str:
    """What a long message asks: its questions, each with the clause just before it ("股改资助的材料，能发我
    吗") unless ``lead_in`` is False; the story around them ("五十几个工人", "手续一大堆") says what the firm
    is, not what is asked. A short message, or one with no question clause, is read whole."""
    text = without_courtesies(text)
    parts = clauses(text)
    if len(parts) < 3 and len(text) > LONG_MESSAGE:
        # Voice input ("我想问下那个转型办公室是谁当主任的我们公司在石岐做包装印刷的…") has little or no
        # punctuation: cut where owners start a new thought.
        parts = [p for p in _NEW_THOUGHT.split(text) if p.strip()]
    asking = [i for i, p in enumerate(parts) if _ASKS_IN_STORY.search(_NOT_KNOWING.sub("", p))]
    # (three clauses or more tell a story however short: "做五金20多年了,50几个工人,订单一般。高企认定有奖励吗")
    if (len(text) <= LONG_MESSAGE and len(parts) < 3) or len(parts) < 2 or not asking:
        return text
    keep = sorted({j for i in asking for j in ((i - 1, i) if lead_in else (i,)) if j >= 0})
    return "".join(parts[j] for j in keep)


# Becoming a title ("评专精特新要什么条件", "怎样才能认定为小巨人"): the letter reports measures for firms that
# already hold one and how many did, never the criteria for being rated. "已认定为市级专精特新的企业" holds it.
_TITLES = r"(专精特新|小巨人|单项冠军|高新技术企业|高企|标杆示范|工业设计中心|瞪羚|独角兽)"
_BECOMING = re.compile(
    # (not 已/被认定, nor a year's: "2021年认定为市级专精特新" happened)
    r"(?<![已经被])(?<!\d年)(?<!去年)(?<!前年)(?<!上年)(评|评上|评选|认定|评定|评为|申报|申请|成为|入选|当上|升级|升为|晋升|进入|拿到|确定|判定|冲|冲击|争取)(为|成|上|是)?"
    rf"[“\"‘']?(国家级|省级|市级|国家|省|市)?(的)?{_TITLES}"
    r"(企业|称号|资格|认定)?(?![^,，。?？]{0,3}的(企业|公司|厂)|[^,，。?？]{0,4}(奖励|补贴|资助|补助|奖补|资金|奖))"
)
# "专精特新认定标准", "小巨人，每一级的认定条件": the title, then the criteria of its rating.
_TITLE_CRITERIA = re.compile(
    rf"{_TITLES}[^。?？]{{0,12}}?"
    r"(认定|评定|评选|评审|入选|评上)(的)?(条件|标准|门槛|要求|办法|依据)"
)
# Aiming at a title not yet held ("我们想评专精特新"), not one held since last year ("去年评上市级专精特新").
_AIMING = re.compile(r"想|要|准备|打算|计划|争取|冲|如何|怎样|怎么|能不能|可不可以|能否|才能|有没有可能")
_CRITERIA = re.compile(
    r"条件|门槛|标准|要求|资格|需要满足|要满足|达到|够不够|符合|要(什么|哪些|几多|多少)|(如何|怎么|怎样)(确定|判定|认定|界定)"
)


# What became of a firm: only a list of recipients would say.
_GOT = re.compile(
    r"拿到|拿了|获得|得到|评上|评了|入选|申请到|领到|领了|批了|到账|收到|享受到|享受了|有没有拿|是不是|算不算|属不属于|有没有"
)
# How close after another firm what it got is asked (characters): farther on, the question is the owner's.
_GOT_REACH = 16


def becoming(text: str, aspect: str | None) -> str | None:
    """The title whose criteria a question asks for (专精特新 in "评专精特新要满足什么条件"), or None."""
    rated = _TITLE_CRITERIA.search(text)
    if rated:
        return rated.group(1)
    if aspect == "procedure" or (aspect not in ("conditions", "qualify") and not _CRITERIA.search(text)):
        return None  # 申请专精特新要什么材料 is a procedure
    # (voice input: the criteria asked at the end of one long clause are not of a title its story holds)
    for part in (piece for whole in clauses(text) for piece in spoken_clauses(whole)):
        found = _BECOMING.search(part)
        if found and (_CRITERIA.search(part) or _AIMING.search(part, 0, found.start())):
            return (found.group(3) or "") + found.group(5)
    return None


# A firm named by its brand in capitals (TCL德龙): Latin letters owners use for other things are no firm.
_BRAND_FIRM = re.compile(
    r"(?<![A-Za-z])(([A-Z]{2,})[\u4e00-\u9fa5]{0,4}?)(?=那个|那家|的|这个|有没有|拿|获|得|评|入选|[,，?？])"
)
_NOT_FIRMS = frozenset("AI APP PDF IPO SME GDP OK WIFI CEO ERP MES".split())


def asked_of_other_firm(text: str) -> str | None:
    """The other firm a question clause asks about (隔壁的恒达五金有限公司有没有拿到…, TCL德龙那个项目拿了多少),
    or None."""
    parts = clauses(text)
    # (a clause that ends with the firm's name is read with the next: "隔壁的恒达五金有限公司，有没有拿到")
    ending = [
        a + b
        for a, b in zip(parts, parts[1:], strict=False)
        if (m := _OTHER_FIRM.search(a)) and not a[m.end() :].strip(",， ")
    ]
    for part in [*parts, *ending]:
        found = _OTHER_FIRM.search(part)
        # (what it got follows the firm closely: "被隔壁镇的厂抄了…想问下有没有地方维权" asks of the owner)
        if found and is_question(part) and _GOT.search(part, found.end(), found.end() + _GOT_REACH):
            return found.group(0)
        brand = _BRAND_FIRM.search(part)
        if (
            brand
            and not _FIRST_PERSON.search(part, 0, brand.start())
            and brand.group(2) not in _NOT_FIRMS
            and is_question(part)
            and _GOT.search(part, brand.end())
        ):
            return brand.group(1)
    return None


# A level that names the measure asked about ("那个小巨人400万国家补贴我们可以拿吗"), not the firm's own: it
# stands before the benefit it qualifies, with no 是/我们 before it.
_LEVEL_BEFORE_BENEFIT = re.compile(
    r"(国家级|省级|市级)?(专精特新)?(小巨人|单项冠军|专精特新)[^,，。?？我]{0,8}?"
    r"(补贴|资助|奖励|奖补|资金|政策|贷款|扶持|\d+(?:\.\d+)?\s*(?:万|亿))"
)
_OWN_LEVEL_LEAD = re.compile(r"是|系|为|属于|我们|我司|我公司|咱们|我厂|我企|评上|认定|获评|作为|刚评")


def _level_names_measure(clause: str, level_at: int) -> bool:
    """Whether the level at ``level_at`` in a question clause qualifies the measure asked about rather than
    the firm ("我们是国家级专精特新小巨人…那个小巨人财政补贴能拿吗": the first names the firm, the second the
    measure)."""
    # (a bare 专精特新 before the benefit names the measure, not a level: "我们是市级专精特新…专精特新那个增长补贴")
    return any(
        not _OWN_LEVEL_LEAD.search(clause[max(0, m.start() - 4) : m.start()])
        for m in _LEVEL_BEFORE_BENEFIT.finditer(clause)
        if (m.group(1) or m.group(3) != "专精特新") and m.start() <= level_at < m.end()
    )


# A level counted ("两家小巨人", "多少家省级专精特新"): firms of the city, never the owner's own.
_COUNTED_LEVEL = re.compile(
    r"(?<![\d.])([2-9]|[1-9]\d+|两|几|多少|几多|哪)(家|个|间)[^,，。?？我]{0,4}(国家级|省级|市级|小巨人|单项冠军|专精特新)"
)
# A level the firm aims at ("今年想冲省级", "准备争取小巨人"), not one it holds.
_AIMS_AT_LEVEL = re.compile(
    r"(想|准备|打算|计划|争取|冲|冲击|目标是?)[^,，。?？]{0,4}(国家级|省级|市级|小巨人|单项冠军)"
)


# Where a question starts in speech typed without punctuation ("打算年底前完成股份制改造有钱补吗"): the
# question's own predicate, after a stretch that tells.
_SPOKEN_QUESTION = re.compile(
    r"(?<=[\u4e00-\u9fff\d%]{4})(?=有没有|能不能|可不可以|能否|是否|是不是|够不够|算不算|有钱|有得|"
    r"可以(?:申请|拿|享受|报)|能(?:申请|拿|享受|报)|请问|想问|问下|问一下|"
    # the question put after what it is about ("今年增长了3成五增长补贴行不行", "…增长补贴有戏吗")
    r"(?<=补贴|资助|奖励|贴息|补助)(?:行不行|得不得|有戏|有份|有没有份|够不够格|够格))"
)
VOICE_CLAUSE = 16  # characters: a clause this long without a pause may hold a statement and a question


def spoken_clauses(clause: str) -> list[str]:
    """A long clause typed without punctuation, or a shorter one that tells what happened in a year
    ("今年增长了45%有没有增长补贴"), cut where its question starts; others as they are."""
    if not is_question(clause) or (len(clause) < VOICE_CLAUSE and not _DATED.search(clause)):
        return [clause]
    pieces: list[str] = []
    for piece in _SPOKEN_QUESTION.split(clause):
        if pieces and len(pieces[-1]) < 4:
            pieces[-1] += piece  # (能不|能申请: no cut inside the question's own words)
        elif piece:
            pieces.append(piece)
    return pieces


_SENTENCE_END = re.compile(r"[。.!！?？;；]\s*$")


def split_facts(
    text: str, *, speaking: bool = False
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Facts the owner states about their own firm, facts posed as a condition, and all facts named.

    A clause speaks about the firm when it names the owner's side (我们, 我司 …) or follows a clause
    that did; a declarative message with no question at all ("省级，增长35%") is about the firm too.
    A hypothetical clause (要是, 如果 …) only poses a condition. A question without a first person
    ("省级专精特新有什么补贴？") names the facts of its subject, not of the asker. ``speaking``: earlier
    messages of the conversation already spoke for the firm, so a bare statement ("今年增长了三成五")
    is the firm's too.
    """
    norm = with_pauses(without_chat_markup(normalize(text)))  # (a voice message's clauses)
    # each piece with the clause it was cut from (a measure a question names is read on the whole)
    pieces = [(piece, part) for part in clauses(norm) for piece in spoken_clauses(part)]
    parts = [piece for piece, _ in pieces]
    any_question = any(is_question(p) for p in parts)
    stated: dict[str, Any] = {}
    posed: dict[str, Any] = {}
    named: dict[str, Any] = {}
    about_self = False
    hypothetical_run = False
    other_run = False
    # "市级专精特新，但我们不打算股改": a bare clause before the owner's own is the owner's too.
    speaks = speaking or any(
        _FIRST_PERSON.search(p) and not _HYPOTHETICAL.search(p) and not _OTHER_FIRM.search(p) for p in parts
    )
    # Sentences that ask: "我们厂在小榄做五金…。省级专精特新企业做股份制改造，有冇资助？" speaks of such firms in
    # general after the owner's story, not of the owner's firm.
    sentence, asking_sentences, own_sentences, sentence_of = 0, set(), set(), []
    for part, whole in pieces:
        sentence_of.append(sentence)
        if is_question(part):
            asking_sentences.add(sentence)
        if _FIRST_PERSON.search(part):
            own_sentences.add(sentence)  # "单项冠军培育企业 我们就是": the owner's kind after all
        sentence += whole.endswith(part) and bool(_SENTENCE_END.search(whole))
    for at, (part, whole) in enumerate(pieces):
        # (another firm's run ends with its sentence: "客户主要是家电大厂。今年股东决定做股改" is the owner's)
        ends_sentence = whole.endswith(part) and bool(_SENTENCE_END.search(whole))
        in_general = sentence_of[at] in asking_sentences - own_sentences and bool(
            FIRMS_IN_GENERAL.search(part)
        )
        found = extract_facts(part).values
        found = {k: v for k, v in found.items() if k not in ("firm_name", "uscc", "revenue_wan")}
        named.update(found)
        if "zjtx_level" in found and _COUNTED_LEVEL.search(part):
            found = {k: v for k, v in found.items() if k != "zjtx_level"}  # "两家小巨人拿了400万": others'
        if "zjtx_level" in found and _AIMS_AT_LEVEL.search(part):
            found = {k: v for k, v in found.items() if k != "zjtx_level"}  # "想冲省级": not yet the firm's
        # (in a sentence that asks: "小巨人嗰400万，系每间400万定两间加埋400万？")
        level = first_level(part)
        if (
            level
            and "zjtx_level" in found
            and sentence_of[at] in asking_sentences
            and _level_names_measure(whole, whole.find(part) + level[1])
        ):
            found = {k: v for k, v in found.items() if k != "zjtx_level"}
        first_person = bool(_FIRST_PERSON.search(part)) and not _OTHER_FIRM.search(part)
        # "朋友公司是市级专精特新，今年增长了40%。我们公司还没评上": what follows another firm is its, until
        # the owner's side speaks again
        if _OTHER_FIRM.search(part) or (other_run and not first_person):
            other_run = not ends_sentence
            continue
        other_run = False
        if _HYPOTHETICAL.search(part):
            hypothetical_run = True
            posed.update(found)
            continue
        if hypothetical_run and not first_person:
            posed.update(found)  # "要是增长三成的话，能拿多少？" — still the condition's clauses
            continue
        hypothetical_run = False
        about_self = about_self or first_person
        if (
            first_person
            or (about_self and not is_question(part) and not in_general)
            # (a message that only tells, unless it tells what a measure gives firms: "对专精特新企业较上1年
            # 增长30%的,给予财政资金补贴" is the policy's words, not the firm's)
            or (not any_question and not (_GENERIC_SUBJECT.search(part) and _POLICY_TALK.search(part)))
            or (
                speaks
                and not is_question(part)
                and not (_GENERIC_SUBJECT.search(part) and _POLICY_TALK.search(part))
                and not in_general
            )
        ):
            for key, value in found.items():
                stated.setdefault(key, value)
        elif (
            not is_question(part)
            and not _GENERIC_SUBJECT.search(part)
            and (_ASKS_FOR_SELF.search(norm) or _DATED.search(part))
        ):
            # "市级专精特新，增长三成五，准备股改，能拿哪些钱": bare facts, then "what can I get".
            # "今年增长咗45%，有冇增长补贴": a figure of a given year happened to someone, the speaker.
            for key, value in found.items():
                stated.setdefault(key, value)
        elif not is_question(part) and _UNDER_WAY.search(part):
            # "准备明年搞股改，能申请吗": owners drop the subject; a clause that says a yes/no fact is
            # planned or under way speaks for the firm ("搞数字化转型找银行贷款" only names a purpose).
            for key in BOOL_FACTS:
                if key in found:
                    stated.setdefault(key, found[key])
    if "growth_pct" not in named and not _HYPOTHETICAL.search(norm):
        # "去年营收1000万，今年1400万": the growth lies between two clauses, each a figure of the firm's own.
        growth = extract_facts(norm).values.get("growth_pct")
        if growth is not None:
            named["growth_pct"] = stated["growth_pct"] = growth
    return stated, posed, named


def speaks_for_firm(text: str) -> bool:
    """Whether the message speaks for the owner's own firm (我们, 我司 …) outside a hypothetical."""
    return any(_FIRST_PERSON.search(p) and not _HYPOTHETICAL.search(p) for p in clauses(normalize(text)))


def identity_facts(text: str) -> tuple[dict[str, Any], str | None]:
    """Firm name, credit code and revenue named anywhere in the message, and a credit-code problem."""
    facts = extract_facts(text)
    values = {k: v for k, v in facts.values.items() if k in ("firm_name", "uscc", "revenue_wan")}
    return values, facts.uscc_error


# "有没有人帮忙跑手续" asks whether a service exists, not how the procedure goes.
_SERVICE_Q = re.compile(
    r"有没有(人|谁|部门|机构|平台|地方|服务|专人)[^,，。?？]{0,6}(帮|代|协助|负责|指导)|"
    # "向书记市长反映诉求，有没有什么渠道？": whether a channel exists, which a record naming one answers
    r"有没有(什么|啥|些)?(渠道|途径|平台|窗口)(可以|能)?(?=$|[?？吗呢,，。]|可以|能)"
)


def aspect_of(text: str) -> str | None:
    """The aspect asked: procedure, name, qualify, who, conditions, amount; None for 'what is it'."""
    service = _SERVICE_Q.search(text)
    if service:
        # "有冇人帮手跑审批？收唔收钱？": whether a service exists asks no detail; another clause may.
        rest = [c for c in clauses(text) if is_question(c) and not _SERVICE_Q.search(c)]
        return aspect_of("".join(rest)) if rest else None
    for name, pattern in ASPECTS:
        if pattern.search(text):
            return name
    return None


# "When was it issued / set up" asks the date of something done ("…是什么时候印发的"), which a dated report
# answers; "什么时候出台" without 的/了 asks about the future, which no 2022 letter can.
_WHEN = r"(什么时候|啥时候|何时|几时|哪年|哪一年|几月|哪个月|哪天)"
_DONE = r"(印发|出台|发布|发文|成立|设立|开通|上线|启动|召开|举办|签约|开展|挂牌|建成|实施|推行|实行|施行|推出|出的|发的|搞的|开始的)"
_WHEN_DONE = re.compile(
    rf"{_WHEN}[^,，。?？]{{0,4}}{_DONE}(的|了)|{_WHEN}[^,，。?？]{{0,4}}(发的|出的|搞的|开始的)|{_DONE}(的|了)?(是|系)?(在)?{_WHEN}|{_DONE}的?(时间|日期)"
)


# Where a list or notice is published ("清单在哪里公布"): a record saying it is published does not say where.
_WHERE_PUBLISHED = re.compile(
    r"(在哪|哪里|哪儿|什么地方|哪个网站|什么网站|哪个平台)[^,，。?？]{0,4}(公布|发布|公示|公开|查|查到|查询|看到|下载|找到)|"
    r"(在哪|哪里|哪儿|什么地方|哪个网站|什么网站|哪个平台)[^,，。?？]{0,2}看(?!到)|"
    r"(公布|发布|公示|公开)(在)?(哪|什么地方|哪个网站)|网上(能|可以)?(查|查到|看到|找到)"
)


# Whether what the letter said still holds ("今年有冇变", "有没有调整过金额"): a 2022 letter cannot say.
_CHANGED = re.compile(
    r"(有没有|有无|是否|会不会)(调整|变化|变动|改变|修改|变)|调整过|(还是不是|是不是还|仍然是)(这样|咁|按|执行)"
)


def procedure_topic(text: str) -> str:
    """What kind of procedural detail is asked for, in owners' words."""
    if _WHEN_DONE.search(text):
        return "发生时间"
    if _WHERE_PUBLISHED.search(text):
        return "公布渠道"
    if _CHANGED.search(text):
        return "现行安排"
    for key, topic in PROCEDURE_TOPICS.items():
        if key in text:
            return topic
    return "申请办法、材料和时间"


# An individual asking for themself, or for stock tips: never a firm's policy question, whatever it names.
_FOR_ONESELF = re.compile(
    r"个人(申报|申请|考|办|报名|社保|医保|公积金|所得税|个税|户口)|我个人|本人(申报|申请|想)|中级工|初级工|理财产品|基金推荐"
)
# Short words that are also the middle of other words (那个股改 holds 个股): matched as jieba words.
_FOR_ONESELF_WORDS = frozenset({"个股", "股票", "炒股", "概念股", "买股票", "股民"})


def _for_oneself(text: str) -> bool:
    if _FOR_ONESELF.search(text):
        return True
    # Cut the message only when one of the words is in it at all: this runs on every message.
    return any(w in text for w in _FOR_ONESELF_WORDS) and not _FOR_ONESELF_WORDS.isdisjoint(
        tokenizer().lcut(text)
    )


LETTER_YEAR = 2022  # the letter is dated 2022年6月8日
_YEAR = re.compile(r"(20\d\d)\s*年")


def later_year(text: str, covered: str = "") -> int | None:
    """A year the message asks about that the letter cannot speak of: after the letter's (2023年…), or,
    given the record's text ``covered``, one it does not name (2022年度 of a record counting 2020-2021)."""
    years = [int(y) for y in _YEAR.findall(normalize(text))]
    later = next((y for y in years if y > LETTER_YEAR), None)
    if later or not covered:
        return later
    named = {int(y) for y in re.findall(r"(?<!\d)(20\d\d)(?!\d)", covered)}
    for first, last in re.findall(r"(20\d\d)\s*(?:-|至|到|~|—)\s*(20\d\d)", covered):
        named.update(range(int(first), int(last) + 1))
    return next((y for y in years if y not in named), None)


# Words jieba tags as places that end in 市 or 县 but name no other place.
_NOT_PLACES = frozenset(
    "城市 上市 超市 门市 股市 全市 本市 我市 该市 各市 市县 全县 本县 该县 夜市 早市 街市 菜市 黑市".split()
)


_PLACE_END = re.compile(r"(?<=[\u4e00-\u9fa5]{2})[市县]")
# A town or a development zone of a place jieba knows (长安镇, 固镇开发区): the place before it.
_TOWN_END = re.compile(r"(?<=[\u4e00-\u9fa5]{2})(镇|开发区|高新区|经开区)")


_SENTENCES = re.compile(r"[。!！?？;；\n]+")


def other_region(text: str) -> str | None:
    """The other city, province or anonymised place (A市, 某省, or any place jieba knows as X市/X县,
    such as 汨罗市) a message is about, unless it names 中山."""
    # (per sentence: "我们厂在小榄…。湛江市坡头区…希望领导核实处理" is about 湛江, whatever the story named)
    sentences = [s for s in _SENTENCES.split(text) if s and not OWN_PLACES.search(s)]
    if not sentences:
        return None
    text = "。".join(sentences)
    match = _OTHER_REGION.search(text)
    if match:
        return match.group(0)
    # Look the candidates up in jieba's tag table rather than cut the message: this runs on every message.
    tags = pos_tokenizer().word_tag_tab
    for end in (m.end() for m in _PLACE_END.finditer(text)):
        for start in range(max(0, end - 5), end - 2):
            word = text[start:end]
            if tags.get(word) == "ns" and word not in _NOT_PLACES:
                return word
    for town in _TOWN_END.finditer(text):
        for start in range(max(0, town.start() - 3), town.start() - 1):
            word = text[start : town.start()]
            if tags.get(word) == "ns" and word not in _NOT_PLACES:
                return word + town.group(0)
    return None


# Our own city named in a question ("想问下市里对企业引进人才有没有…"): what it asks is a 中山 matter.
_OUR_CITY = re.compile(r"中山|市里|我市|本市|市政府|市委")


def asked_region(text: str) -> str | None:
    """The other place a message asks about. A long message asks about the place its question names
    ("总部喺中山…想问下佛山顺德区对技改有冇补贴"); a place only its story names (从广州招了几个本科生) is not
    asked about when the question names our own city."""
    questions = asking_part(text, lead_in=False)
    if questions == text:
        return other_region(text)
    return other_region(questions) or (None if _OUR_CITY.search(questions) else other_region(text))


@lru_cache(maxsize=1)
def pos_tokenizer() -> jieba.posseg.POSTokenizer:
    """Part-of-speech cutting with the knowledge base's tokenizer (its user dictionary)."""
    import jieba.posseg  # loads on first use: Rasa's process reads facts without it

    return jieba.posseg.POSTokenizer(tokenizer())


_FAMILY = re.compile(r"我老婆|我老公|我爸|我妈|家属|亲戚")


def scope_of(text: str) -> str:
    """``in``, or why the message is not a 中山 enterprise-policy matter: other_region, personal, city_service,
    other (a chore asked of the bot).

    A message naming a city service or a personal matter is ours only when a firm asks about a policy
    (我们厂的员工社保补贴): a private school's loan or the stalls outside a factory gate are not.
    """
    if asked_region(text):
        return "other_region"
    if _for_oneself(text):
        return "personal"
    if _CHORE.search(text) and not _ENTERPRISE.search(text):
        return "other"  # 帮我写一篇年会致辞: a chore, not a matter of policy, whatever firm it is for
    # "我们开腊味厂…想买套房…公积金贷款最多可以贷多少": the firm is the story, the question a personal matter.
    asked = asking_part(text, lead_in=False)
    if asked != text and _PERSONAL.search(_FAMILY.sub("", asked)):
        if not (_FIRM.search(asked) or _BUSINESS.search(asked)):
            return "personal"
    if _FIRM.search(text) and _ENTERPRISE.search(text):
        return "in"
    # "回去跟我老婆讲", "我老公成日话…": a firm's owner naming family says nothing of a personal matter.
    firm_talk = _FIRM.search(text) or _BUSINESS.search(text) or extract_facts(text).values
    personal = _FAMILY.sub("", text) if firm_talk else text
    if _PERSONAL.search(personal):
        return "personal"
    if _CITY_SERVICE.search(text):
        return "city_service"
    return "in"


# Remarks on the weather or the day beside a greeting ("早上好，今天天气不错", "今天好热啊"): small talk.
_CHITCHAT = re.compile(
    r"^(今天|今日|最近|这几天|这两天|外面)?的?(天气|天)?(真|好|很|挺|太|蛮|有点|特别)?"
    r"(不错|好|热|冷|晒|闷|舒服|凉快|大雨|下雨了?|降温了?|晴)(啊|呀|哦|呢|哈|了|啦)*[!！~～。.\s]*$"
)


# Talk about the conversation itself, not a matter: whether the line works ("喂喂，听得到吗？", "我先试一下这个
# 语音能不能用"), a message sent by mistake ("刚才按错了，不用理"), or a social question ("食咗饭未？").
_PHATIC = re.compile(
    r"听(得|不)?(到|见|清)|信号|试(一)?下|试试|测试|语音|按错|发错|打错|点错|不用理|不使理|不好理|不用管|忽略|撤回|"
    r"(吃|食)(了)?(饭|早餐|早饭|午饭|晚饭)(未|没|了没|了吗|吗)|"
    # a group chat's own talk: greeting everyone, welcoming a member, the day's mood ("今天也是搬砖的1天")
    r"^(各位|大家)[^,，。]{0,6}好$|^大家早晨$|欢迎[^,，。]{0,8}(入群|进群|加入|加群|加入群聊)|搬砖|打工人|摸鱼"
)


def _small_talk(text: str) -> bool:
    """Whether every clause is a greeting, a courtesy, a remark on the weather or talk about the
    conversation itself, one of them one of the latter two, and nothing of enterprise policy is named."""
    parts = [p.strip() for p in re.split(r"[,，。.!！~～\s]+", text.lower()) if p.strip()]
    return (
        any(_CHITCHAT.match(p) or _PHATIC.search(p) for p in parts)
        and all(
            _CHITCHAT.match(p) or _GREETING.search(p) or _PHATIC.search(p) or not _POLITE.sub("", p)
            for p in parts
        )
        and not on_topic(text)
    )


def courtesy_of(text: str) -> tuple[str, ...]:
    """The courtesies a message contains (greet, thanks, goodbye, bot, ack), in that order."""
    if _small_talk(text):
        return ("greet",)
    found = []
    for name, pattern in (
        ("greet", _GREETING),
        ("thanks", _THANKS),
        ("goodbye", _GOODBYE),
        ("bot", _BOT),
        ("ack", _ACK),
    ):
        said = text.lower()
        if name == "ack":
            said = _ACK_NOISE.sub("", said) or ("好" if said.strip() else "")  # an emoji alone: 👍
        if pattern.search(said):
            found.append(name)
    return tuple(found)


# "开一家公司", "注册间公司": the count between the verb and the firm says nothing; the records say 开公司.
_ONE_FIRM = re.compile(r"(开|注册|成立|新开|开办|设立|办)(1|一)?(家|间|个)(新的?)?(?=公司|企业|工厂|厂)")


def on_topic(text: str) -> bool:
    """Whether ``text`` speaks of enterprise policy, firms or business at all."""
    return bool(_ENTERPRISE.search(text) or _FIRM.search(text) or _BUSINESS.search(text))


def understand(raw: str, *, speaking: bool = False) -> Understanding:
    """Read one owner message (any script, width or numerals, homophone typos of our words);
    ``speaking``: earlier messages already stated facts of the owner's firm."""
    text = _ONE_FIRM.sub(
        r"\1", without_interest_topic(correct(with_pauses(without_chat_markup(normalize(raw)))))
    )
    stated, posed, named = split_facts(text, speaking=speaking)
    identity, uscc_error = identity_facts(text)
    # The questions' own aspect first ("我们这种国家级的能享受吗" after "一直没被拉进群"), else their lead-in's.
    questions, asked = asking_part(text, lead_in=False), asking_part(text)
    aspect = aspect_of(questions) or aspect_of(asked)
    if aspect and len(text) > LONG_MESSAGE and not any(is_question(p) for p in clauses(text)):
        aspect = None  # a story with no question in it ("申报材料交上去了…谢谢") asks for no detail
    # "总部喺中山…想问下佛山顺德区对技改有冇补贴": the place a long message asks about, whatever else it names.
    region = asked_region(text)
    scope = "other_region" if region else scope_of(text)
    return Understanding(
        text=text,
        facts={**stated, **identity},
        hypothetical=posed,
        mentioned=named,
        aspect=aspect,
        procedure_topic=procedure_topic(asked) if aspect == "procedure" else None,
        asks=any(is_question(p) for p in clauses(text)) or aspect is not None,
        scope=scope,
        courtesy=courtesy_of(text),
        # clause by clause: "麻烦转一下人工 谢谢！" ends its request before the thanks
        wants_person=any(_WANTS_PERSON.search(c.rstrip(",，。!！~～ ")) for c in [text, *clauses(text)])
        and not _BOT.search(text),
        complaint=complains(text),
        own_case=tells_own_case(text),
        policy_words=bool(_ENTERPRISE.search(text)),
        on_topic=on_topic(text),
        match_all=bool(_MATCH_ALL.search(text)),
        uscc_error=uscc_error,
        region=region,
        other_firm=asked_of_other_firm(text),
        becoming=becoming(text, aspect),
        small_talk=scope == "in" and _small_talk(text),  # "试一下社保怎么交" asks of a matter
    )
