import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tuidang.testing.personas import PASSWORD, give_second_factor

# The admin's inline form for the number's own prompts, left empty.
NO_PROMPTS = {"prompts-TOTAL_FORMS": "0", "prompts-INITIAL_FORMS": "0"}


@pytest.fixture
def admin_client(client: Client, db: None) -> Client:
    root = get_user_model().objects.create_superuser(username="root", password=PASSWORD)
    give_second_factor(root)  # an administrator cannot use the admin without one
    client.login(username="root", password=PASSWORD)
    return client


def test_an_admin_adds_a_hotline_number(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:calls_hotlinenumber_add"),
        {
            "e164": "+18005550123",
            "name": "Radio line",
            "how_heard": "radio",
            "active": "on",
            **NO_PROMPTS,
        },
    )
    assert response.status_code == 302
    assert "Radio line" in admin_client.get(reverse("admin:calls_hotlinenumber_changelist")).text


def test_calls_are_read_only_in_the_admin(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:calls_call_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:calls_call_add")).status_code == 403


def test_a_hotline_number_not_in_e164_is_refused_next_to_the_field(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:calls_hotlinenumber_add"),
        {
            "e164": "800 555 0123",
            "name": "Radio line",
            "how_heard": "radio",
            "active": "on",
            **NO_PROMPTS,
        },
    )
    assert response.status_code == 200
    assert "international E.164 form" in response.text
    assert 'value="Radio line"' in response.text


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("hold", "Please hold {"),
        ("hold", "Callers ahead: {0}."),
        ("hold", "Callers ahead: {ahead:d}."),
        ("hold", "Callers ahead: {ahead.__class__}."),
        ("hold", "About {minutes} minutes."),  # the estimate's placeholder, not the hold's
        ("greeting", "Hello {ahead}."),
    ],
    ids=["brace", "positional", "format-spec", "attribute", "other-kinds", "none-allowed"],
)
def test_a_prompt_text_with_a_placeholder_its_kind_does_not_know_is_refused(
    admin_client: Client, kind: str, text: str
) -> None:
    from tuidang.calls.models import NumberPrompt

    response = admin_client.post(
        reverse("admin:calls_numberprompt_add"), {"kind": kind, "language": "en", "text": text}
    )
    assert response.status_code == 200
    assert "may only use" in response.text
    assert not NumberPrompt.objects.exists()


def test_a_numbers_own_prompt_is_checked_in_the_numbers_page_too(admin_client: Client) -> None:
    from tuidang.calls.models import HotlineNumber

    response = admin_client.post(
        reverse("admin:calls_hotlinenumber_add"),
        {
            "e164": "+18005550123",
            "name": "Radio line",
            "how_heard": "radio",
            "active": "on",
            "prompts-TOTAL_FORMS": "1",
            "prompts-INITIAL_FORMS": "0",
            "prompts-0-kind": "estimate",
            "prompts-0-language": "en",
            "prompts-0-text": "About {minutes:>{ahead}} minutes.",
        },
    )
    assert response.status_code == 200
    assert "may only use" in response.text
    assert not HotlineNumber.objects.exists()


def test_a_prompt_text_with_its_kinds_placeholders_is_saved(admin_client: Client) -> None:
    from tuidang.calls.models import NumberPrompt

    response = admin_client.post(
        reverse("admin:calls_numberprompt_add"),
        {"kind": "hold", "language": "en", "text": "Callers ahead of you: {ahead}. {{Thanks}}"},
    )
    assert response.status_code == 302
    assert NumberPrompt.objects.get().text == "Callers ahead of you: {ahead}. {{Thanks}}"
