"""The numbers to call, the total's history and the open data.

Everything here is read from the registry's kept rollups (the daily totals and the daily
and monthly cells, ``declarations.selectors``), never from the declarations themselves,
and served from the cache (public/cache.py). Each file of the open data is described on
``/data/`` and in docs/open-data.md, and each of its figures can be recomputed from the
transparency log with ``tuidang verify-log --figures``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import phonenumbers
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tuidang.calls.models import HotlineNumber, HowHeard
from tuidang.declarations.models import (
    DeclarationChannel,
    Organization,
    Statement,
    StatementStatus,
)
from tuidang.declarations.selectors import (
    daily_cells,
    people_by_day,
    people_by_how_heard,
    public_totals,
    renunciations_by,
)
from tuidang.declarations.services import hotline_today
from tuidang.lib.chinese import in_reader_script
from tuidang.lib.languages import Language
from tuidang.lib.regions import region_name
from tuidang.public import charts
from tuidang.public.cache import DataFile, cached, data_response, page
from tuidang.tlog.services import verifier_key
from tuidang.tlog.verify import daily_csv


@dataclass(frozen=True)
class NumberToCall:
    number: str  # as dialled from abroad: +1 800 555 0100
    e164: str
    name: str
    languages: list[str]
    hours: str


def numbers_to_call() -> list[NumberToCall]:
    """The active numbers a coordinator marked public, in the page's language."""
    every_language = [str(label) for label in Language.labels]
    shown = []
    for number in HotlineNumber.objects.filter(active=True, public=True).order_by("name"):
        parsed = phonenumbers.parse(number.e164)
        shown.append(
            NumberToCall(
                number=phonenumbers.format_number(
                    parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
                ),
                e164=number.e164,
                name=in_reader_script(number.name),
                languages=(
                    [str(Language(number.language).label)] if number.language else every_language
                ),
                hours=in_reader_script(number.hours) or _("Around the clock"),
            )
        )
    return shown


def public_numbers() -> list[NumberToCall]:
    return cached("numbers", numbers_to_call)


def _channel_label(channel: str) -> str:
    if channel in DeclarationChannel.values:
        return str(DeclarationChannel(channel).label)
    return channel


def _how_heard_bars() -> list[charts.Bar]:
    """People by how they heard of the number, each with its share of those who said."""
    counts = people_by_how_heard()
    told = sum(n for key, n in counts.items() if key not in ("", HowHeard.UNKNOWN)) or 1
    bars = []
    for key, n in counts.items():
        if key in ("", HowHeard.UNKNOWN):
            label = _("Not told, or not by phone")
        else:
            name = str(HowHeard(key).label) if key in HowHeard.values else key
            label = f"{name} ({n / told:.0%})"
        bars.append(charts.Bar(key or "none", label, n))
    return bars


def history_charts() -> dict[str, SafeString]:
    """Every chart of the history page, in the page's language, by name."""

    def build() -> dict[str, SafeString]:
        days = people_by_day()
        regions = renunciations_by("region")
        organizations = renunciations_by("organization")
        channels = renunciations_by("channel")
        return {
            "total_over_time": charts.total_over_time(days, title=_("The total over time")),
            "per_day": charts.per_day(days, title=_("People counted per day")),
            "by_region": charts.ranked_bars(
                [charts.Bar(code, region_name(code), n) for code, n in regions.items()],
                title=_("Renunciations by province or region"),
                name="by-region",
            ),
            "by_organization": charts.ranked_bars(
                [
                    charts.Bar(org, str(Organization(org).label), n)
                    for org, n in organizations.items()
                    if org in Organization.values
                ],
                title=_("Renunciations by organization"),
                name="by-organization",
            ),
            "by_channel": charts.ranked_bars(
                [charts.Bar(key, _channel_label(key), n) for key, n in channels.items()],
                title=_("Renunciations by channel"),
                name="by-channel",
            ),
            "by_how_heard": charts.ranked_bars(
                _how_heard_bars(),
                title=_("People by how they heard of the number they called"),
                name="by-how-heard",
            ),
        }

    return cached("charts", build)


@require_GET
def numbers(request: HttpRequest) -> HttpResponse:
    return render(request, "public/numbers.html", {"numbers": public_numbers()})


@require_GET
def history(request: HttpRequest) -> HttpResponse:
    return page(request, "history", "public/history.html", lambda: {"charts": history_charts()})


@require_GET
def data_index(request: HttpRequest) -> HttpResponse:
    return render(request, "public/data.html", {"log_key": verifier_key()})


def _totals_file() -> DataFile:
    totals = public_totals()
    document = {
        "total": totals.total,
        "today": totals.today,
        "day": hotline_today().isoformat(),
        "people_by_organization": {
            "party": totals.party,
            "youth_league": totals.youth_league,
            "young_pioneers": totals.young_pioneers,
        },
        "renunciations_by_channel": renunciations_by("channel"),
        "renunciations_by_region": renunciations_by("region"),
        "people_by_how_heard": people_by_how_heard(),
    }
    body = json.dumps(document, ensure_ascii=False, indent=1).encode() + b"\n"
    return DataFile.of(body, "application/json")


def _daily_file() -> DataFile:
    body = "".join(daily_csv(daily_cells())).encode()
    return DataFile.of(body, "text/csv; charset=utf-8")


@require_GET
def totals_json(request: HttpRequest) -> HttpResponseBase:
    return data_response(request, "totals.json", _totals_file)


@require_GET
def daily_counts_csv(request: HttpRequest) -> HttpResponseBase:
    return data_response(request, "daily.csv", _daily_file)


def _statements_file() -> DataFile:
    published = (
        Statement.objects.filter(status=StatementStatus.PUBLISHED)
        .select_related("declaration")
        .order_by("id")
    )
    lines = []
    for statement in published.iterator(chunk_size=2000):
        record = {
            "id": statement.pk,
            "alias": statement.alias,
            "day": statement.declared_on.isoformat(),
            "region": statement.region,
            "organizations": statement.organizations(),
            "text": statement.text,
            "published_at": statement.published_at.isoformat() if statement.published_at else None,
            "log_index": statement.declaration.log_index,
        }
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    return DataFile.of("".join(lines).encode(), "application/jsonl; charset=utf-8")


@require_GET
def statements_jsonl(request: HttpRequest) -> HttpResponseBase:
    """The published statements, a JSON object a line. Moderation publishes and withdraws
    them outside the statistics' publications, so the file is keyed by what the published
    ones are now (how many, the last id, the last publication: one read of an index)."""
    state = Statement.objects.filter(status=StatementStatus.PUBLISHED).aggregate(
        n=Count("id"), last=Max("id"), at=Max("published_at")
    )
    version = f"{state['n']}.{state['last']}.{state['at'].timestamp() if state['at'] else 0}"
    return data_response(request, f"statements.jsonl:{version}", _statements_file)
