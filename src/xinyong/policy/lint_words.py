"""The linter's second net: words that name another subject, a prohibited ground or an unaccountable
source, in English and Chinese.

The first net is structural (``charter_bases``): closed sets a catalogue and a policy must map onto. These
lists catch what a structurally valid entry still says it is about, and they are applied only to what a
rule reads or a measure does (ids, names of record types in use, sources, measure actions), never to
prose such as descriptions or legal-basis text, where a policy may rightly *say* that it does not reach
relatives. English text is lower-cased and split into words (``court.Legal_Rep`` reads ``court legal
rep``); Chinese has no spaces, so Chinese terms are matched as substrings. Phrases that contain a term but
name no prohibited ground (a drunk-driving conviction, medical-insurance fund fraud, wages owed to
employees) are removed before matching: those are adjudicated offences in their own right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache, cached_property, lru_cache
from typing import Protocol


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


class _Terms:
    """Chinese terms (regular expressions), matched as substrings, compiled when first needed.

    Text of nothing but ASCII is searched only for the terms that can match it: a term that is a plain
    string with a character beyond ASCII in it never can, so an English policy never compiles the Chinese
    lists; a term written as a pattern, or in ASCII (a hotline number), is always searched."""

    def __init__(self, *terms: str) -> None:
        self.terms = terms

    @cached_property
    def _all(self) -> re.Pattern[str]:
        return re.compile("|".join(self.terms))

    @cached_property
    def _ascii(self) -> re.Pattern[str] | None:
        able = [t for t in self.terms if t.isascii() or re.escape(t) != t]
        return re.compile("|".join(able)) if able else None

    def _for(self, text: str) -> re.Pattern[str] | None:
        return self._ascii if text.isascii() else self._all

    def can_match(self, text: str) -> bool:
        return self._for(text) is not None

    def search(self, text: str) -> re.Match[str] | None:
        pattern = self._for(text)
        return pattern.search(text) if pattern is not None else None

    def sub(self, replacement: str, text: str) -> str:
        pattern = self._for(text)
        return pattern.sub(replacement, text) if pattern is not None else text


def _zh(*terms: str) -> _Terms:
    return _Terms(*terms)


# Phrases that contain a term but name no prohibited ground; removed before matching.
_HARMLESS_EN = _rx(
    r"public health", r"occupational health", r"health and safety", r"good faith", r"bad faith",
    r"high consumption", r"audit opinion", r"drunk(?:en)? driving", r"drink(?:ing)? (?:and )?driving",
    r"driving under the influence(?: of alcohol)?", r"(?:blood )?alcohol (?:content|level|test|limit)",
    r"alcohol impaired driving", r"drinking water", r"medical (?:insurance|security|devices?|institutions?)",
    r"health insurance", r"minority (?:shareholders?|interests?|stakes?)", r"power grid", r"state grid",
    r"(?:employees?|staff|workers?) (?:wages?|pay|salar(?:y|ies)|social insurance|contributions?)",
    r"wages? (?:owed|due) to (?:employees|staff|workers)", r"migrant workers?",
    r"labou?r relationships?", r"employment relationships?", r"health certificates?", r"model workers?",
    r"health (?:foods?|products?|supplements?)", r"(?:driving )?after drinking",
    r"medical (?:practi\w*|services?|waste|advertis\w*)", r"disability employment (?:security )?(?:funds?|levy|quota)",
    r"smoking in (?:a |an )?(?:public|no smoking|non smoking|prohibited)(?: \w+)?", r"(?:no|non) smoking \w+",
    r"(?:online |video )?games? (?:publishing|publication|operators?|operation|approvals?|licen[cs]es?)",
    r"workers? (?:injur\w*|deaths?|safety)",
)
_HARMLESS_ZH = _zh(
    r"醉驾", r"醉酒驾驶", r"酒后驾驶", r"饮酒后驾驶", r"酒驾", r"医保", r"医疗保障", r"医疗保险", r"医疗器械",
    r"医疗机构", r"公共卫生", r"职业健康", r"健康证明", r"健康证", r"限制高消费", r"高消费",
    r"(?:为|给|拖欠|克扣|向)?(?:职工|员工|劳动者|工人|农民工)(?:的|缴纳|缴存|支付|发放|足额|按时)*"
    r"(?:工资|薪酬|社会保险|社保|劳动报酬|养老保险|工伤保险|住房公积金)",
    r"(?:网络)?游戏(?:出版|运营|企业)", r"残疾人就业保障金", r"(?:在)?(?:禁烟|禁止吸烟|公共)场所(?:内)?吸烟", r"禁烟",
)

# Another subject, for ids and actions, where any mention is a reach beyond the assessed subject.
_STAFF_WORDS = (r"employees?", r"staff", r"personnel", r"workers?", r"colleagues?")
_OTHER_WORDS = (
    r"relatives?", r"spouses?", r"husbands?", r"wi(?:fe|ves)", r"child", r"children", r"offspring",
    r"sons?", r"daughters?", r"parents?", r"siblings?", r"brothers?", r"sisters?", r"households?",
    r"famil(?:y|ies)", r"kin", r"kinsfolk", r"dependa?[ae]nts?", r"guardians?", r"in laws?", r"contacts",
    r"friends?", r"acquaintances?", r"associates?", r"neighbou?rs?", r"roommates?", r"classmates?",
    r"legal rep\w*", r"persons? in charge", r"responsible persons?", r"guarantors?", r"co ?signers?",
    r"shareholders?", r"actual controllers?", r"controlling persons?", r"partners?", r"affiliates?",
    r"subsidiar(?:y|ies)", r"related part(?:y|ies)", r"jiashu", r"jiaren", r"zinv", r"zinu", r"qinshu", r"peiou",
    r"fumu", r"yuangong", r"danbaoren", r"qinyou",
)
# One alternation split in two (kin and the like; staff), searched one after the other and the leftmost
# match kept (the first list's on a tie): the same match as the single pattern, and each half is compiled
# once for the three checks that share it.
_OTHER = _rx(*_OTHER_WORDS)
OTHER_SUBJECTS = (_OTHER, _rx(*_STAFF_WORDS))
# In a record type's name another subject counts only as the actor: "a relative's default", "misconduct
# by its staff"; "wages owed to staff" or "an inspection by staff of the bureau" is the subject's own
# conduct. A record type's id and category name kin anywhere, staff only as the actor.
_KIN = (r"(?:relatives?|spouses?|child|children|offspring|sons?|daughters?|parents?|family members?|"
        r"household members?|kin|guarantors?|friends?|neighbou?rs?|contacts?|legal representatives?|shareholders?)")
_STAFF = r"(?:employees?|staff(?: members?)?|workers?|personnel)"
OTHER_ACTOR = re.compile(
    rf"\b(?:{_KIN}|{_STAFF}) s\b|\bby (?:its |the |a |an |their |his |her )?{_KIN}\b|"
    rf"\bby (?:its |their |his |her ){_STAFF}\b|"
    rf"\b(?:{_KIN}|{_STAFF}) (?:defaults?|misconduct|offen[cs]es?|conduct|debts?|violations?|penalt\w*|records?|"
    r"arrears|convictions?|dishonesty|breach\w*)\b"
)
OTHER_SUBJECTS_OF_RECORDS = (_OTHER, OTHER_ACTOR)
OTHER_SUBJECTS_ZH = _zh(
    r"亲属", r"家属", r"家人", r"家庭成员", r"子女", r"儿子", r"女儿", r"孩子", r"配偶", r"父母", r"夫妻",
    r"丈夫", r"妻子", r"亲友", r"朋友", r"好友", r"员工", r"职工", r"雇员", r"担保人", r"保证人",
    r"法定代表人", r"实际控制人", r"股东", r"邻居", r"同住", r"联系人", r"监护人", r"兄弟", r"姐妹", r"亲戚",
)

PROHIBITED_GROUNDS: tuple[tuple[str, re.Pattern[str], _Terms], ...] = (
    ("political opinion and expression", _rx(
        r"politic\w*", r"expression", r"speech", r"petition\w*", r"xinfang", r"shangfang",
        r"letters and visits", r"skip level\w*", r"visits? to (?:higher|superior) \w+", r"abnormal visits?",
        r"collective visits?", r"protest\w*", r"demonstrations?", r"critici[sz]\w*", r"praise\w*",
        r"dissent\w*", r"rumou?r\w*", r"negative (?:comments?|speech|remarks|posts?|content)",
        r"online (?:comments?|posts?|speech|remarks)", r"social media posts?", r"weibo posts?",
        r"party (?:branch\w*|members?\w*|building|activit\w*|loyalty|organi[sz]ation\w*|committee\w*|dues|"
        r"school|spirit|volunteer\w*)", r"communist\w*", r"cpc", r"ccp", r"patriot\w*", r"positive energy",
        r"rights defen[cs]e", r"weiquan", r"sensitive (?:topics?|words?|speech)", r"mass incidents?",
        r"stability maintenance", r"weiwen", r"yuejishangfang", r"dangyuan", r"dangzhibu", r"public opinion\w*",
        r"(?:visits?|appeals?|complaints?|letters?|trips?) to (?:beijing|the capital|higher\w*|superior\w*|the centre|"
        r"central \w+)", r"(?:unauthori[sz]ed|illegal|unlawful) (?:gatherings?|assembl\w*|demonstrations?)",
        r"disloyal\w*"),
     _zh(r"信访", r"上访", r"访民", r"缠访", r"闹访", r"非访", r"集访", r"政治", r"言论", r"谣言",
         r"造谣", r"传谣", r"舆情", r"批评政府", r"抗议", r"游行", r"示威", r"维权人士", r"维权活动", r"党支部",
         r"党员", r"党建", r"党组织", r"党费", r"入党", r"党课", r"共产党", r"正能量",
         r"负面言论", r"负面评论", r"妄议", r"群体性事件",
         r"反动", r"进京上访", r"非正常上访")),
    ("religion or belief", _rx(
        r"religio\w*", r"beliefs?", r"faiths?", r"worship\w*", r"church\w*", r"mosques?", r"temples?",
        r"cults?", r"pray\w*", r"clergy", r"imams?", r"pastors?", r"monks?", r"nuns?", r"bible\w*", r"quran",
        r"koran", r"ramadan", r"falun\w*", r"spiritual\w*", r"pilgrim\w*", r"superstiti\w*", r"qigong",
        r"zongjiao", r"xinyang", r"sects?"),
     _zh(r"宗教", r"信仰", r"教会", r"教堂", r"寺庙", r"寺院", r"清真", r"礼拜", r"祷告", r"祈祷", r"朝觐",
         r"邪教", r"法轮", r"佛教", r"基督", r"伊斯兰", r"天主", r"道观", r"烧香", r"传教", r"迷信")),
    ("ethnicity or national origin", _rx(
        r"ethnic\w*", r"race", r"racial", r"national origin", r"nationality", r"minorit(?:y|ies)",
        r"uy?i?ghurs?", r"tibetans?", r"native place", r"hukou", r"place of origin", r"ancestry", r"immigrant\w*",
        r"foreign born", r"minzu", r"jiguan"),
     _zh(r"民族", r"种族", r"籍贯", r"国籍", r"出身", r"维吾尔", r"藏族", r"回族", r"户籍", r"外来人口", r"外地人")),
    ("biometric data", _rx(
        r"biometric\w*", r"face", r"faces", r"facial", r"fingerprints?", r"iris", r"dna", r"voiceprints?",
        r"gait", r"genetic\w*", r"retina\w*", r"palm ?prints?"),
     _zh(r"人脸", r"面部", r"刷脸", r"指纹", r"虹膜", r"声纹", r"基因", r"步态", r"生物识别", r"生物特征")),
    ("health", _rx(
        r"health (?:status|conditions?|records?|codes?|data|checks?|history|problems?|issues?|scores?)",
        r"(?:mental|physical|poor|ill) health",
        r"medical (?:records?|history|conditions?|status|data|examinations?|checks?)",
        r"diseases?", r"illness\w*", r"disabilit\w*", r"disabled", r"mental",
        r"psychiatr\w*", r"psycholog\w*", r"pregnan\w*", r"hiv",
        r"sick\w*", r"chronic", r"fertility", r"(?:un)?vaccinated", r"vaccination status", r"blood type", r"covid\w*",
        r"hepatitis", r"cancer", r"depression", r"autis\w*", r"addict\w*", r"jiankang", r"jibing"),
     _zh(r"健康", r"疾病", r"患病", r"病史", r"病情", r"精神病", r"心理", r"残疾", r"残障", r"怀孕", r"孕期",
         r"艾滋", r"乙肝", r"体检", r"生育", r"疫苗接种", r"抑郁", r"肝炎", r"癌症", r"成瘾")),
    ("social relationships", _rx(
        r"social (?:relation\w*|network\w*|ties|circles?|connections?|graph)", r"personal relationships?",
        r"relationships?", r"friends?", r"friendships?", r"contacts", r"acquaintances?", r"associations? with",
        r"guanxi"),
     _zh(r"社会关系", r"人际关系", r"社交", r"交友", r"朋友圈", r"关系网", r"亲友", r"圈子", r"人脉")),
    ("lawful consumption and lifestyle", _rx(
        r"gaming", r"video games?", r"online games?", r"games? (?:hours|time)", r"lifestyles?", r"shopping",
        r"alcohol (?:purchases?|consumption|habits?|use|intake)", r"alcoholi\w*", r"(?:heavy )?drinkers?",
        r"drinking (?:habits?|frequency|problems?)", r"heavy (?:drink|smok)\w*", r"smokers?",
        r"smoking (?:habits?|status|history|frequency)", r"(?:cigarette|tobacco) purchases?",
        r"screen time", r"dating", r"spending habits?",
        r"consumption (?:habits?|patterns?|records?)", r"lawful consumption", r"divorc\w*", r"marital",
        r"marriage\w*", r"unmarried", r"cohabit\w*", r"nightlife", r"tattoo\w*", r"diet\w*",
        r"hobb(?:y|ies)", r"mahjong", r"late nights?", r"sexual orientation", r"sexuality", r"lgbt\w*",
        r"homosexual\w*", r"dress(?:ing)? codes?", r"hairstyles?", r"lihun", r"youxi", r"wangyou"),
     _zh(r"游戏", r"网游", r"离婚", r"婚姻", r"结婚", r"婚恋", r"恋爱", r"约会", r"同居", r"单身", r"购物",
         r"消费习惯", r"消费记录", r"饮酒", r"酗酒", r"吸烟", r"抽烟", r"纹身", r"着装", r"熬夜",
         r"作息", r"麻将", r"打牌", r"上网时长", r"生活方式", r"同性恋", r"性取向")),
)

UNACCOUNTABLE = _rx(
    r"cameras?", r"cctv", r"video surveillance", r"face recognition", r"facial recognition", r"anonymous\w*",
    r"denunciation\w*", r"informants?", r"informers?", r"tip ?offs?", r"tip ?lines?", r"hotlines?", r"12345",
    r"grids?", r"grid \w+", r"wanggeyuan", r"neighbou?r\w*", r"citizens?", r"residents? reports?",
    r"public reports?", r"reports? (?:from|by) (?:the )?public", r"crowdsourc\w*", r"crowd reports?",
    r"volunteer (?:patrols?|informants?|monitors?)", r"snitch\w*", r"whistle ?blow\w*", r"algorithm\w*",
    r"inferred", r"predict\w*", r"risk (?:model|score)\w*", r"scrap(?:ed|ing)", r"social media", r"unverified",
    r"unconfirmed", r"alleged\w*", r"suspect\w*", r"under investigation", r"pending (?:trial|investigation|decision)",
    r"accus\w*", r"automat\w* (?:detect\w*|identif\w*|recogn\w*|captur\w*)", r"ai (?:detected|detection|flagged)",
    r"big data", r"smart (?:cameras?|monitoring|sensors?|crossings?)", r"sensors?", r"electronic monitoring",
    r"community (?:assessments?|evaluations?|ratings?|reports?|feedback)", r"public (?:votes?|ratings?|evaluations?)",
    r"moral (?:evaluations?|scores?|assessments?)", r"wangge", r"jubao", r"niming", r"rexian",
)
UNACCOUNTABLE_ZH = _zh(
    r"摄像", r"监控", r"人脸识别", r"天网", r"雪亮", r"匿名", r"举报", r"网格", r"热线", r"12345",
    r"邻居", r"邻里", r"群众举报", r"群众反映", r"群众评议", r"市民举报",
    r"市民反映", r"市民评议", r"居民举报", r"居民反映", r"线人", r"告密", r"信息员", r"楼长", r"算法", r"推断", r"预测",
    r"疑似", r"涉嫌", r"嫌疑", r"未经核实", r"待查", r"巡查志愿者", r"电子抓拍", r"大数据", r"智能识别", r"自动识别",
    r"民主评议", r"社区评议", r"道德评议", r"道德评价",
)


# Who a source must not be, beyond the unaccountable words above: private operators, self-governing
# committees and "activists" decide nothing with statutory power.
SOURCE_ONLY = _rx(
    r"platforms?", r"compan(?:y|ies)", r"corporations?", r"ltd", r"inc", r"apps?", r"private\w*",
    r"property management", r"security guards?", r"residents? committees?", r"village committees?",
    r"owners? committees?", r"mediation committees?", r"activists?", r"vigilant\w*", r"patrols?",
)
SOURCE_ONLY_ZH = _zh(
    r"公司", r"平台", r"物业", r"保安", r"居委会", r"村委会", r"居民委员会", r"村民委员会", r"业主委员会",
    r"调解委员会", r"积极分子", r"热心群众", r"朝阳群众", r"监督员", r"平安志愿者",
)


# Latin look-alikes from Cyrillic and Greek, so "spоuse" with a Cyrillic "о" reads "spouse".
_HOMOGLYPHS = str.maketrans("аеорсухіјѕԁɡοαεικνρτυ", "aeopcyxijsdgoaeikvptu")


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@cache
def _to_simplified() -> _Converter:
    """OpenCC's traditional-to-simplified converter, loaded on first use (CLI start-up stays fast)."""
    import opencc

    converter: _Converter = opencc.OpenCC("t2s")
    return converter


# The same id or name is read by several checks (each prohibited ground, another subject, an
# unaccountable source...): its spellings are computed once per text.
@lru_cache(maxsize=4096)
def _prepare(text: str) -> str:
    """One spelling of the text: compatibility forms folded (full-width letters), invisible format
    characters dropped (a zero-width space inside a word), look-alike letters mapped, traditional
    Chinese read as simplified, lower case."""
    return fold(text).lower().translate(_HOMOGLYPHS)


def fold(text: str) -> str:
    """The text as the word lists and the charter bases compare it (see :func:`_prepare`), case kept."""
    if text.isascii():  # nothing to fold: no compatibility forms, format characters, look-alikes or CJK
        return text
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").translate(_HOMOGLYPHS)
    if any("\u3400" <= ch <= "\u9fff" for ch in text):
        text = _to_simplified().convert(text)
    return text


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    """Every run of non-alphanumerics one space, harmless phrases removed (``text`` prepared)."""
    out = " " + _NOT_ALNUM.sub(" ", text).strip() + " "
    return _HARMLESS_EN.sub(" ", out)


@lru_cache(maxsize=4096)
def _without_harmless_zh(text: str) -> str:
    return _HARMLESS_ZH.sub(" ", text)


def _leftmost(patterns: Sequence[re.Pattern[str]], text: str) -> re.Match[str] | None:
    """What the alternation of ``patterns`` would match: the leftmost match, the earlier pattern's on a tie."""
    best = None
    for pattern in patterns:
        found = pattern.search(text)
        if found is not None and (best is None or found.start() < best.start()):
            best = found
    return best


def _first(en: re.Pattern[str] | Sequence[re.Pattern[str]] | None, zh: _Terms | None, text: str) -> str | None:
    text = _prepare(text)
    if en is not None:
        found = _leftmost([en] if isinstance(en, re.Pattern) else en, _norm(text))
        if found:
            return found.group(0).strip()
    if zh is not None and zh.can_match(text):
        found = zh.search(_without_harmless_zh(text))
        if found:
            return found.group(0)
    return None


def other_subject(text: str) -> str | None:
    """The word by which an id or action reaches someone other than the assessed subject."""
    return _first(OTHER_SUBJECTS, OTHER_SUBJECTS_ZH, text)


def other_subject_of_record(text: str) -> str | None:
    """The word by which a record type's id or category is about someone else's conduct."""
    return _first(OTHER_SUBJECTS_OF_RECORDS, OTHER_SUBJECTS_ZH, text)


def other_actor(name: str) -> str | None:
    """The words by which a record type's name makes someone else the actor ("a relative's default")."""
    return _first(OTHER_ACTOR, OTHER_SUBJECTS_ZH, name)


def prohibited_ground(text: str) -> tuple[str, str] | None:
    """The prohibited ground (charter rule 3) a category, id or name names, and the word that names it."""
    for ground, en, zh in PROHIBITED_GROUNDS:
        word = _first(en, zh, text)
        if word is not None:
            return ground, word
    return None


def unaccountable(text: str) -> str | None:
    """The word by which an id or name says a record or source rests on no adjudicated decision."""
    return _first(UNACCOUNTABLE, UNACCOUNTABLE_ZH, text)


def not_an_authority(text: str) -> str | None:
    """The word by which a source's id or name says it is no authority: an informant, a hotline, a
    grid member, a platform, a company, a residents' committee..."""
    return unaccountable(text) or _first(SOURCE_ONLY, SOURCE_ONLY_ZH, text)
