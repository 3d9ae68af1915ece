"""The published statements: only consented and approved ones, newest first, a page at a
time, by province, organization and day, searchable in Chinese, each with a permalink
that proves its declaration is in the log."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tuidang.declarations import statements as listing
from tuidang.declarations.models import Declaration, RevocationReason, Statement
from tuidang.declarations.services import declaration_revoke
from tuidang.declarations.statements import PAGE, statement_approve
from tuidang.testing.declaring import declare, person
from tuidang.testing.publication import publish
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

ADDRESSES = itertools.count(1)
PUBLIC_PAGES = ["public:home", "public:statements", "public:verify", "public:declare"]


def published(client: Client, coordinator: User, *people: dict[str, object]) -> list[Statement]:
    # Each from an address of its own, as many declarants are: none reaches a limit.
    declare(client, *people, address=f"198.51.100.{next(ADDRESSES)}")
    statements = []
    for statement in Statement.objects.filter(status="pending").order_by("pk"):
        text = statement.declaration.statement
        statements.append(
            statement_approve(statement=statement, text=text, alias="某人", by=coordinator)
        )
    return statements


def test_an_unconsented_statement_never_reaches_a_public_page(
    client: Client, lin: Volunteer
) -> None:
    declare(client, person("you", "明心", statement="不愿公开的话", consent=False))
    assert not Statement.objects.exists()
    publish()
    pages = [client.get(reverse(name)).text for name in PUBLIC_PAGES]
    assert not any("不愿公开的话" in page for page in pages)


def test_a_consented_statement_is_not_public_before_a_coordinator_approves_it(
    client: Client,
) -> None:
    declare(client, person("you", "明心", statement="等待审核的话", consent=True))
    assert "等待审核的话" not in client.get(reverse("public:statements")).text


def test_the_list_is_newest_first_a_page_at_a_time(client: Client, lin: Volunteer) -> None:
    for n in range(PAGE + 3):
        published(client, lin.user, person("you", f"人{n}", statement=f"第{n}号声明", consent=True))
    first = client.get(reverse("public:statements"))
    texts = [s.text for s in first.context["statements"]]
    assert texts[0] == f"第{PAGE + 2}号声明" and len(texts) == PAGE
    second = client.get(reverse("public:statements") + "?" + first.context["next_query"])
    assert [s.text for s in second.context["statements"]] == ["第2号声明", "第1号声明", "第0号声明"]
    assert second.context["following"] is None


def test_chinese_words_are_found_without_spaces(client: Client, lin: Volunteer) -> None:
    published(
        client,
        lin.user,
        person("you", "甲", statement="我今天退出少先队，心里踏实。", consent=True),
    )
    published(client, lin.user, person("you", "乙", statement="全家一起三退。", consent=True))
    found = client.get(reverse("public:statements"), {"q": "心里踏实"})
    assert [s.text for s in found.context["statements"]] == ["我今天退出少先队，心里踏实。"]
    one = client.get(reverse("public:statements"), {"q": "家"})
    assert [s.text for s in one.context["statements"]] == ["全家一起三退。"]
    none = client.get(reverse("public:statements"), {"q": "踏实心里"})
    assert none.context["statements"] == []


@pytest.mark.parametrize(("rare", "window"), [(1, 2), (2, 3), (1_000, 1_000)])
def test_a_search_finds_every_match_page_by_page_whichever_way_it_reads(
    client: Client, lin: Volunteer, monkeypatch: pytest.MonkeyPatch, rare: int, window: int
) -> None:
    """Common bigrams are read newest first a window of ids at a time, rare ones from
    their few statements: followed page by page, the matches are the same either way."""
    monkeypatch.setattr(listing, "RARE_GRAM", rare)
    monkeypatch.setattr(listing, "SEARCH_WINDOW", window)
    monkeypatch.setattr(listing, "PAGE", 2)
    texts = ["心里踏实", "九评", "心里踏实，九评", "平安", "九评心里", "心里踏实了", "踏实"]
    for n, text in enumerate(texts):
        published(client, lin.user, person("you", f"人{n}", statement=text, consent=True))
    query = "?q=心里踏实"
    found: list[str] = []
    for _ in range(len(texts) + 1):  # a page at least per statement: the walk must end
        page = client.get(reverse("public:statements") + query)
        found.extend(s.text for s in page.context["statements"])
        if page.context["following"] is None:
            break
        query = "?" + page.context["next_query"]
    assert found == ["心里踏实了", "心里踏实，九评", "心里踏实"]


def test_the_list_filters_by_province_and_organization(client: Client, lin: Volunteer) -> None:
    published(
        client,
        lin.user,
        person(
            "you", "甲", region="CN-BJ", organizations=("party",), statement="北京", consent=True
        ),
    )
    published(
        client,
        lin.user,
        person(
            "you",
            "乙",
            region="CN-GD",
            organizations=("young_pioneers",),
            statement="广东",
            consent=True,
        ),
    )
    by_region = client.get(reverse("public:statements"), {"region": "CN-GD"})
    assert [s.text for s in by_region.context["statements"]] == ["广东"]
    by_org = client.get(reverse("public:statements"), {"organization": "party"})
    assert [s.text for s in by_org.context["statements"]] == ["北京"]
    unknown = client.get(reverse("public:statements"), {"region": "CN-XX"})
    assert unknown.status_code == 400
    assert "Choose a province from the list." in unknown.text


def test_html_in_a_statement_is_shown_as_text(client: Client, lin: Volunteer) -> None:
    (statement,) = published(
        client,
        lin.user,
        person("you", "甲", statement='<script>alert("x")</script><b>粗</b>', consent=True),
    )
    for page in (
        client.get(reverse("public:statements")).text,
        client.get(reverse("public:statement", args=[statement.pk])).text,
    ):
        assert "<script>alert" not in page and "<b>粗</b>" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;粗&lt;/b&gt;" in page


def test_a_withdrawn_declaration_leaves_the_list(client: Client, lin: Volunteer) -> None:
    (statement,) = published(
        client, lin.user, person("you", "甲", statement="会撤回", consent=True)
    )
    publish()
    assert "会撤回" in client.get(reverse("public:statements")).text
    declaration_revoke(
        declaration=Declaration.objects.get(), reason=RevocationReason.WITHDRAWN, by=lin.user
    )
    assert "会撤回" not in client.get(reverse("public:statements")).text
    assert client.get(reverse("public:statement", args=[statement.pk])).status_code == 404
    assert client.get(reverse("public:statements"), {"q": "撤回"}).context["statements"] == []


def test_the_permalink_proves_the_declaration_is_in_the_log(client: Client, lin: Volunteer) -> None:
    (statement,) = published(
        client, lin.user, person("you", "甲", region="CN-SC", statement="我的声明", consent=True)
    )
    before = client.get(reverse("public:statement", args=[statement.pk]))
    assert 'data-testid="log-pending"' in before.text
    publish()
    page = client.get(reverse("public:statement", args=[statement.pk]))
    index = Declaration.objects.get().log_index
    assert index is not None
    assert reverse("tlog:proof", args=[index]) in page.text
    assert client.get(reverse("tlog:proof", args=[index])).status_code == 200
    assert "Sichuan" in page.text and "某人" in page.text and "我的声明" in page.text
