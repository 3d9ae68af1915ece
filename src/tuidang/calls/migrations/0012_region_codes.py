# A call's region was the geocoder's English words ("Beijing", "Hong Kong"); it is now a
# code of the closed list in lib/regions.py ("CN-BJ", "HK"). What names a region of the
# list becomes its code; anything else becomes unknown: nothing that is not on the list
# stays in clear.

from django.db import migrations
from django.db.models import Case, Value, When

from tuidang.lib.regions import CODES, region_named

# Rows per UPDATE's list of values: far below any database's limit on parameters.
CHUNK = 400


def to_codes(apps, schema_editor):
    Call = apps.get_model("calls", "Call")
    calls = Call.objects.using(schema_editor.connection.alias)
    old = sorted(set(calls.exclude(region="").values_list("region", flat=True).distinct()) - CODES)
    for start in range(0, len(old), CHUNK):
        part = old[start : start + CHUNK]
        calls.filter(region__in=part).update(
            region=Case(
                *(When(region=text, then=Value(region_named(text) or "")) for text in part),
                default=Value(""),
            )
        )


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0011_rename_channel_how_heard'),
    ]

    operations = [
        migrations.RunPython(to_codes, migrations.RunPython.noop, elidable=True),
    ]
