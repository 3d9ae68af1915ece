"""Declaring online, without an account: the form, its receipts, and what it refuses."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
from django.contrib.staticfiles import finders
from django.forms import Select
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from tuidang.declarations.models import (
    Declaration,
    DeclarationChannel,
    OnlineSubmission,
    Statement,
    StatementStatus,
)
from tuidang.declarations.receipts import Pending, receipt_confirm
from tuidang.declarations.selectors import public_totals
from tuidang.jobs.retention import retention_purge
from tuidang.screening.models import WebHit
from tuidang.testing.declaring import declare, form_fields, person
from tuidang.testing.publication import publish

pytestmark = pytest.mark.django_db


def test_a_declarant_renounces_for_themselves_and_three_family_members(client: Client) -> None:
    before = public_totals().total
    response = declare(
        client,
        person("you", "明心", statement="我退出共青团。", consent=True),
        person("p1", "大山", relationship="parent", organizations=("party", "youth_league")),
        person("p2", "小红", relationship="sibling", organizations=("young_pioneers",)),
        person("p3", "阿明", relationship="friend", region="CN-BJ"),
    )
    assert response.status_code == 201
    codes = [receipt["code"] for receipt in response.context["receipts"]]
    assert len(codes) == 4 and len(set(codes)) == 4
    assert "offline" in response.content.decode()
    declarations = list(Declaration.objects.order_by("pk"))
    assert {d.channel for d in declarations} == {DeclarationChannel.WEB}
    assert [d.alias for d in declarations] == ["明心", "大山", "小红", "阿明"]
    # Checkable as soon as it is recorded (pending), and counted with the next batch.
    assert isinstance(receipt_confirm(index=None, code=codes[1], alias="大山"), Pending)
    publish()
    assert public_totals().total == before + 4
    # Only the consented statement waits for moderation.
    assert Statement.objects.get().status == StatementStatus.PENDING


def test_the_same_form_posted_twice_counts_once(client: Client) -> None:
    hidden = form_fields(client)
    first = declare(client, person("you", "明心"), hidden=hidden)
    second = declare(client, person("you", "明心"), hidden=hidden)
    assert first.status_code == second.status_code == 201
    assert Declaration.objects.count() == 1
    assert first.context["receipts"] == second.context["receipts"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (person("you", "x" * 81), "you-alias", "at most 80"),
        (person("you", "", statement="我退出"), "you-alias", "Give a name or alias"),
        (person("you", "明心", organizations=()), "you-organizations", "at least one"),
        (person("you", "明心", region="CN-XX"), "you-region", "valid choice"),
        (person("you", "明心", statement="字" * 2001), "you-statement", "at most 2000"),
        (person("p1", "大山"), "p1-relationship", "who this person is"),
    ],
)
def test_bad_input_is_answered_beside_the_field_with_the_text_kept(
    client: Client, fields: dict[str, object], field: str, message: str
) -> None:
    response = declare(client, fields)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-testid="error-{field}"' in page
    assert message in page
    alias = str(fields.get(field.split("-")[0] + "-alias", ""))
    assert f'value="{alias}"' in page or not alias
    assert Declaration.objects.count() == 0


def test_an_empty_form_asks_for_someone(client: Client) -> None:
    response = declare(client)
    assert response.status_code == 400
    assert "Fill in at least one person" in response.content.decode()


def test_a_tampered_challenge_is_refused_and_the_form_kept(client: Client) -> None:
    hidden = form_fields(client)
    other = form_fields(client)
    # A solution of another form's challenge.
    response = declare(
        client,
        person("you", "明心", statement="我的话"),
        hidden={"token": hidden["token"], "work": other["work"]},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-work"' in page
    assert "我的话" in page and 'value="明心"' in page
    assert Declaration.objects.count() == 0


def test_a_tampered_token_is_refused(client: Client) -> None:
    hidden = form_fields(client)
    hidden["token"] = hidden["token"][:-2] + "xx"
    response = declare(client, person("you", "明心"), hidden=hidden)
    assert response.status_code == 400
    assert 'data-testid="error-token"' in response.content.decode()
    assert Declaration.objects.count() == 0


def test_without_scripts_a_form_sent_at_once_is_asked_to_wait(
    client: Client, settings: Settings
) -> None:
    settings.ONLINE_NO_SCRIPT_DELAY_SECONDS = 3600
    response = declare(client, person("you", "明心"), hidden=form_fields(client, solve=False))
    assert response.status_code == 429
    assert "Wait" in response.content.decode()
    assert Declaration.objects.count() == 0


def test_without_scripts_a_form_is_accepted_and_its_statement_held(
    client: Client, settings: Settings
) -> None:
    settings.ONLINE_NO_SCRIPT_DELAY_SECONDS = 0
    response = declare(
        client,
        person("you", "明心", statement="我退出", consent=True),
        hidden=form_fields(client, solve=False),
    )
    assert response.status_code == 201
    assert Statement.objects.get().status == StatementStatus.HELD


def test_an_address_over_its_limit_is_told_when_to_come_back(
    client: Client, settings: Settings
) -> None:
    settings.ONLINE_PER_ADDRESS_HOUR = 2
    for alias in ("一", "二"):
        assert declare(client, person("you", alias)).status_code == 201
    refused = declare(client, person("you", "三", statement="留下的话"))
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "send this form again after" in page
    assert "留下的话" in page
    # Another address is not held back.
    assert declare(client, person("you", "四"), address="198.51.100.20").status_code == 201
    assert Declaration.objects.count() == 3


def test_the_page_with_its_assets_weighs_under_100_kb(client: Client) -> None:
    page = client.get(reverse("public:declare"))
    html = page.content.decode()
    assert 'name="viewport"' in html
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert "public/declare.js" in assets
    sizes = [Path(str(finders.find(asset))).stat().st_size for asset in assets]
    assert len(page.content) + sum(sizes) <= 100 * 1024
    # Nothing from anywhere else: no third-party script, font or CDN.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)


def test_a_forms_token_and_its_rate_counts_are_forgotten_after_a_day(
    client: Client, settings: Settings
) -> None:
    settings.REDIS_URL = ""  # the embedded counter: rows in the database
    declare(client, person("you", "明心"))
    assert OnlineSubmission.objects.exists()
    assert WebHit.objects.exists()
    retention_purge(now=timezone.now() + timedelta(hours=23), dry_run=False)
    assert OnlineSubmission.objects.exists()
    retention_purge(now=timezone.now() + timedelta(days=1, hours=1), dry_run=False)
    assert not OnlineSubmission.objects.exists()
    assert not WebHit.objects.exists()
    # The declarations stay: only the form's token went.
    assert Declaration.objects.count() == 1


def test_a_form_posted_again_past_the_limit_still_shows_its_receipts(
    client: Client, settings: Settings
) -> None:
    settings.ONLINE_PER_ADDRESS_HOUR = 1
    hidden = form_fields(client)
    first = declare(client, person("you", "明心"), hidden=hidden)
    again = declare(client, person("you", "明心"), hidden=hidden)
    assert again.status_code == 201
    assert again.context["receipts"] == first.context["receipts"]
    assert Declaration.objects.count() == 1


def test_a_form_without_its_token_gets_a_new_one_and_keeps_the_text(client: Client) -> None:
    response = declare(
        client, person("you", "明心", statement="我的话"), hidden={"token": "", "work": ""}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-token"' in page
    assert "我的话" in page
    token = response.context["form"].data["token"]
    resent = declare(client, person("you", "明心"), hidden=form_fields(client) | {"token": token})
    # The new token is good: only the proof of work (for another token) is refused now.
    assert 'data-testid="error-token"' not in resent.content.decode()


def test_a_refused_form_renders_anew_only_the_blocks_typed_in(
    client: Client, settings: Settings
) -> None:
    """A flood's refused forms are many: the blocks left empty come from the page kept
    in memory, so that a refusal costs about what a declaration does."""
    settings.ONLINE_PER_ADDRESS_HOUR = 1
    assert declare(client, person("you", "一")).status_code == 201
    hidden = form_fields(client)
    with patch.object(Select, "render", autospec=True, side_effect=Select.render) as rendered:
        refused = declare(client, person("you", "二", statement="留下的话"), hidden=hidden)
    assert refused.status_code == 429
    # The declarant's province, and no other list of provinces or relationships.
    assert [call.kwargs["name"] for call in rendered.call_args_list] == ["you-region"]
    page = refused.content.decode()
    assert "留下的话" in page
    assert page.count('<fieldset class="person"') == 7
    assert 'name="p6-relationship"' in page


def test_the_empty_blocks_kept_in_memory_speak_the_pages_language(client: Client) -> None:
    english = client.get(reverse("public:declare")).content.decode()
    chinese = client.get(reverse("public:declare"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    english_again = client.get(reverse("public:declare")).content.decode()
    assert "A family member or friend" in english
    assert "家人或朋友" in chinese.content.decode()
    assert "A family member or friend" not in chinese.content.decode()
    assert "家人或朋友" not in english_again
    assert english_again.count('<fieldset class="person"') == 7


def test_a_block_typed_in_comes_back_open_with_its_errors(client: Client) -> None:
    refused = declare(
        client, person("you", "本人"), {"p3-alias": "表弟", "p3-organizations": ["party"]}
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'value="表弟"' in page
    assert 'data-testid="error-p3-relationship"' in page
    # The first block of others is open, the third (typed in) too, the rest closed.
    assert page.count("<details open>") == 2


def test_the_provinces_are_listed_in_the_pages_language(client: Client) -> None:
    """Each language's list is built once and kept: a list in Chinese is never shown to
    an English reader, nor the other way round."""
    chinese = client.get(reverse("public:declare"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.get(reverse("public:declare"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<option value="CN-GD">广东</option>' in chinese.content.decode()
    assert '<option value="CN-GD">Guangdong</option>' in english.content.decode()
    # A province from the list is taken, whichever language the list was built in.
    response = declare(client, person("you", "阿广", region="CN-GD"))
    assert response.status_code == 201
    assert Declaration.objects.get().region == "CN-GD"
