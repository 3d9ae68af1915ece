"""statements.jsonl: the published statements as open data, and only those."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from tuidang.declarations.models import Declaration, RevocationReason
from tuidang.declarations.services import declaration_revoke
from tuidang.public.tests.test_statements import published
from tuidang.testing.declaring import declare, person
from tuidang.testing.publication import publish
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def lines(client: Client) -> list[dict[str, object]]:
    response = client.get(reverse("public:data-statements"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    return [json.loads(line) for line in response.content.decode().splitlines()]


def test_the_file_holds_the_published_statements_and_no_other(
    client: Client, lin: Volunteer
) -> None:
    declare(client, person("you", "明心", statement="不愿公开的话", consent=False))
    [statement] = published(
        client,
        lin.user,
        person("you", "甲", region="CN-BJ", statement="全家一起三退。", consent=True),
    )
    publish()
    etag = client.get(reverse("public:data-statements"))["ETag"]
    assert (
        client.get(reverse("public:data-statements"), headers={"if-none-match": etag}).status_code
        == 304
    )
    [line] = lines(client)
    statement.declaration.refresh_from_db()
    assert line == {
        "id": statement.pk,
        "alias": "某人",
        "day": statement.declared_on.isoformat(),
        "region": "CN-BJ",
        "organizations": statement.organizations(),
        "text": "全家一起三退。",
        "published_at": line["published_at"],
        "log_index": statement.declaration.log_index,
    }
    assert line["log_index"] is not None and line["published_at"]

    declaration_revoke(
        declaration=Declaration.objects.get(pk=statement.declaration_id),
        reason=RevocationReason.WITHDRAWN,
        by=lin.user,
    )
    assert lines(client) == []  # withdrawn: it leaves the file at once


def test_a_statement_is_shown_in_the_readers_script_with_the_original_kept(
    client: Client, lin: Volunteer
) -> None:
    published(client, lin.user, person("you", "甲", statement="全家一起退出共产党。", consent=True))
    publish()
    traditional = client.get(reverse("public:statements"), headers={"accept-language": "zh-hant"})
    assert "全家一起退出共產黨。" in traditional.text
    assert 'data-testid="statement-original">全家一起退出共产党。' in traditional.text
    simplified = client.get(reverse("public:statements"), headers={"accept-language": "zh-hans"})
    assert "全家一起退出共产党。" in simplified.text
    assert "statement-original" not in simplified.text
    # The open data keeps the words as they were written.
    assert lines(client)[0]["text"] == "全家一起退出共产党。"
