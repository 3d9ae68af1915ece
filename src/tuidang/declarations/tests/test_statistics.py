"""Statistics from daily and monthly rollups equal a count over the declarations."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuidang.declarations.models import Organization
from tuidang.declarations.selectors import counts_by_region, public_totals
from tuidang.declarations.services import Tally

START = date(2023, 11, 20)
days = st.integers(min_value=0, max_value=500).map(lambda n: START + timedelta(days=n))
declarations = st.lists(
    st.tuples(
        days,
        st.sets(st.sampled_from(Organization.values), min_size=1),
        st.sampled_from(["Jilin", "Hebei", ""]),
        st.sampled_from(["hotline", "fax"]),
    ),
    max_size=40,
)


class Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=declarations, since=days, length=st.integers(min_value=0, max_value=400))
def test_counts_by_region_over_any_span_match_the_declarations(
    rows: list[tuple[date, set[str], str, str]], since: date, length: int
) -> None:
    until = since + timedelta(days=length)
    try:
        with transaction.atomic():
            tally = Tally()
            for day, organizations, region, channel in rows:
                tally.add(
                    day=day, organizations=organizations, region=region, channel=channel, step=1
                )
            tally.save()
            for organization in Organization.values:
                expected: dict[str, int] = {}
                for day, organizations, region, _channel in rows:
                    if since <= day <= until and organization in organizations:
                        expected[region] = expected.get(region, 0) + 1
                found = counts_by_region(since=since, until=until, organization=organization)
                assert found == expected
            totals = public_totals()
            assert totals.total == len(rows)
            assert totals.party == sum("party" in orgs for _d, orgs, _r, _c in rows)
            raise Rollback
    except Rollback:
        pass
