"""The closed list of regions: the only values a region may take, anywhere it is kept.

A region is coarse on purpose (docs/privacy.md): a province, municipality or autonomous
region of mainland China by its ISO 3166-2 code (``CN-BJ``), Hong Kong, Macau and
Taiwan, and every other country or territory a phone number can belong to by its ISO
3166-1 code (``US``); ``CN`` is mainland China when the province is not known, and the
empty string a region not known at all (a withheld number). Nothing else is ever stored
or written to the transparency log, so a region typed at the desk or read from a file is
one of these codes or is refused.

Names are shown in the interface's language, English, Simplified or Traditional Chinese:
the mainland's and Hong Kong's, Macau's and Taiwan's from the table below (in Traditional
characters through lib/chinese.py), the countries' from the Unicode CLDR through Babel.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from babel import Locale
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tuidang.lib.chinese import TRADITIONAL, to_traditional

UNKNOWN = ""
MAINLAND_UNKNOWN = "CN"

# ISO 3166-2:CN: the 31 provinces, municipalities and autonomous regions, with the name
# phonenumbers' geocoder gives each (the last part of its English description).
MAINLAND: dict[str, tuple[str, str]] = {
    "CN-AH": ("Anhui", "安徽"),
    "CN-BJ": ("Beijing", "北京"),
    "CN-CQ": ("Chongqing", "重庆"),
    "CN-FJ": ("Fujian", "福建"),
    "CN-GD": ("Guangdong", "广东"),
    "CN-GS": ("Gansu", "甘肃"),
    "CN-GX": ("Guangxi", "广西"),
    "CN-GZ": ("Guizhou", "贵州"),
    "CN-HA": ("Henan", "河南"),
    "CN-HB": ("Hubei", "湖北"),
    "CN-HE": ("Hebei", "河北"),
    "CN-HI": ("Hainan", "海南"),
    "CN-HL": ("Heilongjiang", "黑龙江"),
    "CN-HN": ("Hunan", "湖南"),
    "CN-JL": ("Jilin", "吉林"),
    "CN-JS": ("Jiangsu", "江苏"),
    "CN-JX": ("Jiangxi", "江西"),
    "CN-LN": ("Liaoning", "辽宁"),
    "CN-NM": ("Inner Mongolia", "内蒙古"),
    "CN-NX": ("Ningxia", "宁夏"),
    "CN-QH": ("Qinghai", "青海"),
    "CN-SC": ("Sichuan", "四川"),
    "CN-SD": ("Shandong", "山东"),
    "CN-SH": ("Shanghai", "上海"),
    "CN-SN": ("Shaanxi", "陕西"),
    "CN-SX": ("Shanxi", "山西"),
    "CN-TJ": ("Tianjin", "天津"),
    "CN-XJ": ("Xinjiang", "新疆"),
    "CN-XZ": ("Tibet", "西藏"),
    "CN-YN": ("Yunnan", "云南"),
    "CN-ZJ": ("Zhejiang", "浙江"),
}

# Named here rather than from the CLDR, whose names ("Hong Kong SAR China") are longer
# than a volunteer needs.
NAMED: dict[str, tuple[str, str]] = {
    MAINLAND_UNKNOWN: ("Mainland China, province not known", "中国大陆（省份不详）"),
    "HK": ("Hong Kong", "香港"),
    "MO": ("Macau", "澳门"),
    "TW": ("Taiwan", "台湾"),
}

# Every region a phone number can belong to (phonenumbers' SUPPORTED_REGIONS, 9.0.43),
# written out so the list never changes with a library: a code once in the log stays.
COUNTRIES: tuple[str, ...] = tuple(
    # One string, laid out as a table to read: a list of 241 literals would not be.
    """
    AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BW BY BZ CA CC CD CF CG CH CI CK CL CM CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR
    GT GU GW GY HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP
    KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MP MQ MR
    MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TA TC TD TG TH TJ TK TL TM TN TO TR TT TV TZ UA UG US UY UZ VA VC VE VG VI VN
    VU WF WS XK YE YT ZA ZM ZW
    """.split()  # noqa: SIM905
)

# Every region's code: what a log entry, a declaration, a rollup or a call may hold,
# besides UNKNOWN.
CODES: frozenset[str] = frozenset([*MAINLAND, *NAMED, *COUNTRIES])


def is_region(value: object) -> bool:
    """True for a code of the list, or UNKNOWN."""
    return isinstance(value, str) and (value == UNKNOWN or value in CODES)


@functools.cache
def _locale(chinese: bool, traditional: bool = False) -> Locale:
    return Locale.parse(("zh_Hant" if traditional else "zh_Hans") if chinese else "en")


def region_name(code: str, *, chinese: bool | None = None) -> str:
    """The region's name, in the interface's language unless ``chinese`` says which
    (then English or Simplified Chinese); a value not on the list (never stored) is shown
    as unknown."""
    if chinese is None:
        language = (get_language() or "").lower()
        if language == TRADITIONAL:
            return _traditional_name(code)
        chinese = language.startswith("zh")
    names = MAINLAND.get(code) or NAMED.get(code)
    if names is not None:
        return names[1] if chinese else names[0]
    if code in CODES:
        return str(_locale(chinese).territories.get(code, code))
    return str(_("Unknown"))


def _traditional_name(code: str) -> str:
    names = MAINLAND.get(code) or NAMED.get(code)
    if names is not None:
        return to_traditional(names[1])
    if code in CODES:
        return str(_locale(True, traditional=True).territories.get(code, code))
    return str(_("Unknown"))


def region_choices() -> list[tuple[str, object]]:
    """The list as a form offers it, in the interface's language: unknown, then the
    mainland's provinces, then Hong Kong, Macau and Taiwan, then the other countries,
    each group in the order of its names."""

    def named(codes: Iterable[str]) -> list[tuple[str, str]]:
        pairs = [(code, region_name(code)) for code in codes]
        return sorted(pairs, key=lambda pair: pair[1])

    return [
        (UNKNOWN, str(_("Unknown"))),
        (
            str(_("Mainland China")),
            [
                (MAINLAND_UNKNOWN, region_name(MAINLAND_UNKNOWN)),
                *named(list(MAINLAND)),
            ],
        ),
        (str(_("Hong Kong, Macau and Taiwan")), named(["HK", "MO", "TW"])),
        (str(_("Other countries")), named(iter(COUNTRIES))),
    ]


@functools.cache
def _names() -> dict[str, str]:
    """Every name a region is known by, folded, to its code: both languages' names of the
    table and the CLDR's."""
    names: dict[str, str] = {}
    for code in CODES:
        for chinese in (False, True):
            names[region_name(code, chinese=chinese).casefold()] = code
    for code, (english, chinese_name) in MAINLAND.items():
        names[english.casefold()] = code
        names[chinese_name] = code
        # 北京市, 江苏省: as the geocoder writes them in Chinese.
        names[f"{chinese_name}市"] = names[f"{chinese_name}省"] = code
    # The geocoder's English for a mainland number it places no finer.
    names["china"] = names["中国"] = MAINLAND_UNKNOWN
    return names


def region_named(name: str) -> str | None:
    """The code of the region ``name`` names (in English or Chinese, whatever its case),
    or None when it names none of the list."""
    return _names().get(name.strip().casefold())


def region_from_text(text: str) -> str | None:
    """A region as a file or a person writes it: a code of the list (``CN-BJ``, ``US``),
    or a name of one; UNKNOWN for nothing; None for anything else."""
    cleaned = text.strip()
    if not cleaned:
        return UNKNOWN
    if cleaned.upper() in CODES:
        return cleaned.upper()
    return region_named(cleaned)
