# A region was free text (the geocoder's English words, or whatever a volunteer typed);
# it is now a code of the closed list in lib/regions.py ("CN-BJ", "HK", "US"). What names
# a region of the list becomes its code; anything else becomes unknown, so nothing that
# is not on the list stays in clear. The rollups' cells of the old words are added into
# the cells of their codes: every count is kept.
#
# The log is not touched: its entries never change, and a receipt is checked against the
# entry in the log, never against the row (declarations/receipts.py).

from collections import Counter

from django.db import migrations
from django.db.models import Case, F, Value, When

from tuidang.lib.regions import CODES, region_named

# Values per UPDATE or DELETE: far below any database's limit on parameters.
CHUNK = 400


def _new_codes(queryset):
    """Each region written in ``queryset`` that is not already a code, to its code."""
    old = set(queryset.exclude(region="").values_list("region", flat=True).distinct()) - CODES
    return {text: region_named(text) or "" for text in sorted(old)}


def declarations_to_codes(apps, schema_editor):
    alias = schema_editor.connection.alias
    declarations = apps.get_model("declarations", "Declaration").objects.using(alias)
    mapping = _new_codes(declarations)
    old = list(mapping)
    for start in range(0, len(old), CHUNK):
        part = old[start : start + CHUNK]
        declarations.filter(region__in=part).update(
            region=Case(
                *(When(region=text, then=Value(mapping[text])) for text in part),
                default=Value(""),
            )
        )


def rollups_to_codes(apps, schema_editor):
    alias = schema_editor.connection.alias
    for name, period in (("Rollup", "day"), ("MonthlyRollup", "month")):
        cells = apps.get_model("declarations", name).objects.using(alias)
        mapping = _new_codes(cells)
        old = list(mapping)
        moved = Counter()
        for start in range(0, len(old), CHUNK):
            part = old[start : start + CHUNK]
            for cell in cells.filter(region__in=part).values(
                period, "organization", "region", "channel", "count"
            ):
                key = (cell[period], cell["organization"], mapping[cell["region"]], cell["channel"])
                moved[key] += cell["count"]
            cells.filter(region__in=part).delete()
        for (when, organization, region, channel), count in moved.items():
            cell, _ = cells.get_or_create(
                **{period: when},
                organization=organization,
                region=region,
                channel=channel,
                defaults={"count": 0},
            )
            cells.filter(pk=cell.pk).update(count=F("count") + count)


class Migration(migrations.Migration):

    dependencies = [
        ('declarations', '0010_rename_source_how_heard'),
        # The region codes of calls, which declarations recorded from now on copy.
        ('calls', '0012_region_codes'),
    ]

    operations = [
        migrations.RunPython(declarations_to_codes, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(rollups_to_codes, migrations.RunPython.noop, elidable=True),
    ]
