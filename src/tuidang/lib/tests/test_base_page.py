"""What every page carries from the base template."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_every_page_has_the_hotlines_icon(client: Client) -> None:
    from django.contrib.staticfiles import finders

    page = client.get("/").text
    assert 'rel="icon"' in page and "tuidang/favicon.svg" in page
    assert finders.find("tuidang/favicon.svg")
