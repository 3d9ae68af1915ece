"""`tuidang hant_messages`: the Traditional Chinese catalogue, made from the Simplified one.

Every msgid of ``locale/zh_Hans`` gets the same translation in Traditional characters
(OpenCC, ``s2tw``: Taiwan's standard forms of the characters), then the words that Taiwan
and Hong Kong both write otherwise than the mainland (登入 for 登录, 設定 for 设置…) are
replaced from ``REVIEWED``, a table a reader of both checked against the catalogue. The
character conversion alone never changes a word; the table changes only those it lists,
so that 声明 stays 聲明 (a statement), where OpenCC's Taiwan phrase table would make it
宣告. Run it (or `make messages-hant`) whenever the Simplified catalogue changes: a test
fails while a msgid of zh_Hans has no zh_Hant translation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from django.conf import settings
from django.core.management.base import BaseCommand

from tuidang.lib.chinese import to_traditional

# Mainland words, as s2tw writes them, and what readers in Taiwan and Hong Kong write.
REVIEWED = {
    "登錄": "登入",
    "用戶名": "用戶名稱",
    "設置": "設定",
    "密鑰": "金鑰",
    "鏈接": "連結",
    "證明文件": "證明檔案",
    "小文件": "小檔案",
    "此文件": "此檔案",
    "創建": "建立",
    "保存": "儲存",
    "添加": "新增",
    "加載": "載入",
    "刷新": "重新整理",
    "打開": "開啟",
    "隊列": "佇列",
    "菜單": "選單",
    "導出": "匯出",
    "應用程序": "應用程式",
    "字節": "位元組",
    "賬戶": "帳戶",
    "賬號": "帳號",
    "二維碼": "QR 碼",
    "默認": "預設",
    "視頻": "影片",
    "數據": "資料",
    "文本": "文字",
    "聯繫": "聯絡",
}


def traditional(text: str) -> str:
    """A Simplified translation in Traditional characters and Taiwan's and Hong Kong's words."""
    converted = to_traditional(text)
    for mainland, reviewed in REVIEWED.items():
        converted = converted.replace(mainland, reviewed)
    return converted


def locale_dir(name: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / name / "LC_MESSAGES"


def hant_catalogue(simplified: Catalog) -> Catalog:
    hant = Catalog(
        locale="zh_Hant",
        project="tuidang-hotline",
        header_comment=(
            "# Traditional Chinese for the Tuidang Hotline user interface.\n"
            "# Made from zh_Hans by `tuidang hant_messages`: edit zh_Hans, then run it."
        ),
        charset="utf-8",
        fuzzy=False,
        # The Simplified catalogue's dates: the same source makes the same file.
        creation_date=simplified.creation_date,
        revision_date=simplified.revision_date,
        last_translator="Tuidang Hotline",
        language_team="Tuidang Hotline",
    )
    for message in simplified:
        if not message.id:
            continue
        string: str | tuple[str, ...]
        if isinstance(message.string, str):
            string = traditional(message.string)
        else:
            string = tuple(traditional(form) for form in message.string or ())
        hant.add(message.id, string, flags=message.flags, context=message.context)
    return hant


class Command(BaseCommand):
    help = "Make locale/zh_Hant (django.po and django.mo) from locale/zh_Hans."

    def handle(self, *args: Any, **options: Any) -> None:
        with (locale_dir("zh_Hans") / "django.po").open("rb") as source:
            simplified = read_po(source, locale="zh_Hans")
        hant = hant_catalogue(simplified)
        target = locale_dir("zh_Hant")
        target.mkdir(parents=True, exist_ok=True)
        with (target / "django.po").open("wb") as po:
            write_po(po, hant, width=0, omit_header=False, sort_output=False)
        with (target / "django.mo").open("wb") as mo:
            write_mo(mo, hant)
        self.stdout.write(f"{len(hant)} messages written to {target}")
