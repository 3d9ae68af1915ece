"""The charts say the numbers they are drawn from, and draw a larger number larger."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tuidang.public.charts import Bar, per_day, ranked_bars, total_over_time

BAR = re.compile(
    r'<g class="bar" data-key="(?P<key>[^"]*)">.*?<rect [^>]*width="(?P<width>\d+)"'
    r'.*?data-count="(?P<count>\d+)">(?P<label>[\d,]+)</text></g>',
    re.S,
)

bars = st.lists(
    st.builds(
        Bar,
        key=st.from_regex(r"[a-z]{2,8}", fullmatch=True),
        label=st.text(min_size=1, max_size=12),
        value=st.integers(min_value=0, max_value=10**9),
    ),
    min_size=1,
    max_size=40,
    unique_by=lambda bar: bar.key,
)


@given(bars)
def test_every_bar_says_its_count_and_a_larger_count_is_longer(shown: list[Bar]) -> None:
    svg = ranked_bars(shown, title="t", name="n")
    drawn = [match.groupdict() for match in BAR.finditer(svg)]
    assert [d["key"] for d in drawn] == [bar.key for bar in shown]
    for bar, d in zip(shown, drawn, strict=True):
        assert int(d["count"]) == bar.value
        assert int(d["label"].replace(",", "")) == bar.value
    pairs = [(bar.value, int(d["width"])) for bar, d in zip(shown, drawn, strict=True)]
    for value, width in pairs:
        for other_value, other_width in pairs:
            if value > other_value:
                assert width >= other_width


def test_a_label_is_text_not_markup() -> None:
    svg = ranked_bars([Bar("x", "<script>alert(1)</script>", 3)], title="<b>", name="n")
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=60))
def test_the_total_over_time_ends_at_the_sum_of_the_days(people: list[int]) -> None:
    first = date(2024, 1, 1)
    points = [(first + timedelta(days=i), n) for i, n in enumerate(people)]
    svg = total_over_time(points, title="t")
    assert f'data-count="{sum(people)}"' in svg
    columns = per_day(points, title="t")
    shown = re.findall(r'data-count="(\d+)"', columns)
    assert [int(n) for n in shown] == people[-30:]
