"""Static tables behind the synthetic population: regions, names, sectors and record-type profiles.

Everything here is plain data so that the generators stay vectorised (they index these tables with
numpy arrays) and so that a reader can see at a glance what the synthetic world looks like.

Region codes are the 6-digit administrative division codes that ``python-stdnum`` accepts in a
resident ID for *every* birth year we generate (1925-2012): codes that were created or renamed later
would make an ID invalid for older people, so only long-standing codes are listed. A test holds each
one valid with ``stdnum.cn.ric.is_valid`` at both ends of that range.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Region:
    """A province-level region: English name, one-character abbreviation used in document numbers
    (in pinyin), relative population weight, urban share of residents, and division codes."""

    name: str
    abbr: str
    weight: float
    urban_share: float
    codes: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region("Beijing", "Jing", 22, 0.88, ("110101", "110102", "110105", "110106", "110107", "110108")),
    Region("Tianjin", "Jin", 14, 0.85, ("120101", "120102", "120103", "120104", "120105", "120106")),
    Region("Shanghai", "Hu", 25, 0.89, ("310101", "310104", "310105", "310106", "310107", "310110")),
    Region("Zhejiang", "Zhe", 66, 0.74, ("330122", "330127")),
    Region("Anhui", "Wan", 61, 0.61, ("340121", "340221", "340421", "340621", "340721")),
    Region("Fujian", "Min", 42, 0.71, ("350121",)),
    Region("Jiangxi", "Gan", 45, 0.63, ("360121", "360122")),
    Region("Shanxi", "Jin", 35, 0.64, ("140121", "140122", "140123")),
    Region("Liaoning", "Liao", 42, 0.73, ("210122", "210224", "210321", "210421", "210726")),
    Region("Hunan", "Xiang", 66, 0.61, ("430121", "430221", "430321")),
    Region("Sichuan", "Chuan", 84, 0.59, ("510121", "510122", "510321", "510421", "510422")),
    Region("Guizhou", "Qian", 39, 0.56, ("520201", "520203")),
    Region("Yunnan", "Yun", 47, 0.52, ("530122", "530124")),
    Region("Shaanxi", "Shaan", 40, 0.65, ("610322", "610323", "610324", "610326")),
    Region("Gansu", "Gan", 25, 0.55, ("620121", "620122", "620123")),
)

# Age bands of persons (inclusive years of age at the as-of date) and their population shares.
AGE_BANDS: tuple[tuple[str, int, int, float], ...] = (
    ("18-29", 18, 29, 0.19),
    ("30-44", 30, 44, 0.28),
    ("45-59", 45, 59, 0.28),
    ("60+", 60, 89, 0.25),
)

# Common family names (pinyin) with rough relative frequencies; given names of one or two syllables.
FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Wang", 7.1), ("Li", 7.0), ("Zhang", 6.8), ("Liu", 5.4), ("Chen", 4.5), ("Yang", 3.1),
    ("Huang", 2.5), ("Zhao", 2.3), ("Wu", 2.1), ("Zhou", 2.0), ("Xu", 1.7), ("Sun", 1.5),
    ("Ma", 1.5), ("Zhu", 1.3), ("Hu", 1.3), ("Guo", 1.2), ("He", 1.2), ("Lin", 1.1), ("Gao", 1.1),
    ("Luo", 1.0), ("Zheng", 1.0), ("Liang", 0.9), ("Xie", 0.8), ("Song", 0.7), ("Tang", 0.7),
    ("Han", 0.6), ("Feng", 0.6), ("Deng", 0.6), ("Cao", 0.6), ("Peng", 0.6), ("Zeng", 0.5),
    ("Xiao", 0.5), ("Tian", 0.5), ("Dong", 0.5), ("Pan", 0.5), ("Yuan", 0.4), ("Cai", 0.4),
    ("Jiang", 0.4), ("Yu", 0.4), ("Du", 0.4), ("Ye", 0.4), ("Cheng", 0.4), ("Wei", 0.4),
)
GIVEN_NAMES: tuple[str, ...] = (
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan", "Jie",
    "Tao", "Ming", "Chao", "Xiuying", "Xia", "Ping", "Gang", "Guilan", "Hui", "Jian", "Hong", "Xin",
    "Yu", "Hao", "Bo", "Lin", "Ning", "Dan", "Qing", "Xiaoming", "Jianguo", "Guiying", "Haiyan",
    "Yuxuan", "Zihan", "Haoran", "Yutong", "Xinyi", "Zimo", "Yichen", "Mingzhe", "Shuang", "Kai",
    "Lanying", "Zhiqiang", "Jianhua", "Chunmei", "Wenjie", "Xiaohong", "Yufei", "Ruoxi", "Tingting",
)

# Trade names are built from two syllables; the industry word comes from the sector.
TRADE_SYLLABLES_A: tuple[str, ...] = (
    "Heng", "Xin", "Hua", "Jin", "Rui", "Tian", "Hong", "Zhong", "Long", "Sheng", "Fu", "Kang",
    "Da", "Tai", "Yuan", "Feng", "Cheng", "Bao", "Hai", "Mei", "An", "Guang", "Ding", "Jia",
)
TRADE_SYLLABLES_B: tuple[str, ...] = (
    "tai", "da", "xing", "long", "feng", "yu", "yuan", "cheng", "sheng", "tong", "li", "hua",
    "kang", "rui", "an", "xin", "bang", "chuang", "jie", "hui", "de", "run", "he", "ye",
)

# Sector id, share of organisations, industry word used in the company name.
SECTORS: tuple[tuple[str, float, str], ...] = (
    ("manufacturing", 0.18, "Machinery Manufacturing"),
    ("construction", 0.10, "Construction Engineering"),
    ("wholesale_retail", 0.27, "Trading"),
    ("technology", 0.12, "Technology"),
    ("transport_logistics", 0.07, "Logistics"),
    ("hospitality", 0.08, "Catering Management"),
    ("real_estate", 0.05, "Real Estate Development"),
    ("agriculture", 0.06, "Agricultural Development"),
    ("services", 0.07, "Business Services"),
)
SIZES: tuple[tuple[str, float], ...] = (
    ("micro", 0.72), ("small", 0.20), ("medium", 0.065), ("large", 0.015),
)


@dataclass(frozen=True, slots=True)
class TypeProfile:
    """How a record type shows up in the synthetic population.

    ``rate`` is the expected number of records of the type per eligible subject at the reference
    density (the defaults add up to about 10 records per subject); ``lag`` the range of days from the
    conduct (occurred) to the decision; ``word`` the middle part of its document number; ``amount``
    the median and log-spread of the amount in CNY (the type has an amount unit in the catalogue).
    ``source``, ``kinds``, ``amount`` and ``positive`` mirror ``policies/catalogue.yaml`` for use
    without a catalogue (the bulk generator); a test holds them equal.
    """

    rate: float
    lag: tuple[int, int]
    word: str
    source: str
    kinds: tuple[str, ...] = ("organisation", "person")
    amount: tuple[float, float] | None = None
    positive: bool = False


_BOTH = ("organisation", "person")
_ORG = ("organisation",)
_PERSON = ("person",)

PROFILES: dict[str, TypeProfile] = {
    # Court enforcement: rare and concentrated on few subjects (shared misconduct frailty), so that
    # about 2 % of persons are on the shixin list at any as-of date.
    "court.refuse_perform": TypeProfile(0.020, (60, 720), "Zhi", "court.enforcement", _BOTH, (80_000, 1.2)),
    "court.obstruct_enforcement": TypeProfile(0.002, (30, 365), "Zhi", "court.enforcement"),
    "court.evade_enforcement": TypeProfile(0.004, (60, 720), "Zhi", "court.enforcement"),
    "court.breach_property_report": TypeProfile(0.010, (30, 365), "Zhi", "court.enforcement"),
    "court.breach_consumption_order": TypeProfile(0.004, (10, 365), "Zhi", "court.enforcement"),
    "court.refuse_settlement": TypeProfile(0.004, (30, 365), "Zhi", "court.enforcement"),
    "court.breach_finding": TypeProfile(
        0.05, (90, 720), "Min Chu", "court.enforcement", _BOTH, (50_000, 1.1)),
    # Municipal credit office
    "contract.breach": TypeProfile(0.15, (30, 365), "Xin Jue", "city.credit_office"),
    "admin.damage_public_utilities": TypeProfile(0.02, (7, 120), "Xing Fa Jue", "city.credit_office"),
    # Positive records of persons: volunteering is by far the most frequent record in the population.
    "civic.volunteering": TypeProfile(11.0, (0, 30), "Zhi Yuan", "city.volunteer_federation", _PERSON,
                                      positive=True),
    "civic.blood_donation": TypeProfile(1.0, (0, 7), "Xian Xue", "health.blood_station", _PERSON,
                                        positive=True),
    # Administrative penalties
    "admin.penalty_minor": TypeProfile(1.0, (7, 180), "Shi Jian Fa", "market.regulation", _BOTH, (800, 0.8)),
    "admin.penalty_general": TypeProfile(
        0.12, (14, 270), "Shi Jian Fa", "market.regulation", _BOTH, (20_000, 1.0)),
    "admin.penalty_serious": TypeProfile(
        0.01, (30, 365), "Shi Jian Fa", "market.regulation", _BOTH, (400_000, 1.2)),
    # Taxation (organisations only)
    "tax.registration": TypeProfile(1.0, (0, 30), "Shui Deng", "tax.bureau", _ORG, positive=True),
    "tax.late_filing": TypeProfile(2.5, (1, 90), "Shui Ze Gai", "tax.bureau", _ORG),
    "tax.arrears": TypeProfile(0.25, (30, 365), "Shui Zhui", "tax.bureau", _ORG, (120_000, 1.3)),
    "tax.evasion": TypeProfile(0.008, (180, 1095), "Shui Ji Fa", "tax.bureau", _ORG, (1_500_000, 1.3)),
    # Customs (organisations only)
    "customs.aeo_certification": TypeProfile(0.3, (30, 180), "Guan Ren Zheng", "customs.gacc", _ORG,
                                             positive=True),
    "customs.declaration_violation": TypeProfile(0.5, (7, 180), "Guan Fa", "customs.gacc", _ORG),
    "customs.smuggling_penalty": TypeProfile(
        0.004, (90, 730), "Guan Ji Fa", "customs.gacc", _ORG, (800_000, 1.4)),
    # Public procurement
    "procurement.fraud": TypeProfile(0.005, (60, 540), "Cai Fa", "finance.procurement", _ORG),
}

# Rates for catalogue types without a profile, by polarity and severity.
FALLBACK_RATES: dict[str, float] = {"positive": 0.5, "minor": 0.3, "general": 0.05, "serious": 0.01}

# The deliberate disparity: a rural person has this share of an urban person's volunteering rate.
RURAL_VOLUNTEERING_FACTOR = 0.35

# Heterogeneity: negative records concentrate on few subjects (gamma frailty, mean 1, this shape);
# positive records vary less between subjects.
MISCONDUCT_SHAPE = 0.5
ENGAGEMENT_SHAPE = 2.0

# Decisions fall within this many days before the as-of date.
DECIDED_WINDOW_DAYS = 4 * 365
