"""Declaring online as a browser does: fetch the form, solve its proof of work (as the
page's script does), and post it with the people filled in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from altcha.v1 import Payload, solve_challenge
from django.test import Client
from django.urls import reverse

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

ADDRESS = "203.0.113.9"


def person(
    prefix: str,
    alias: str,
    *,
    organizations: tuple[str, ...] = ("party",),
    region: str = "CN-GD",
    relationship: str = "",
    statement: str = "",
    consent: bool = False,
) -> dict[str, Any]:
    """One person's block of the form: ``you`` for the declarant, ``p1``… for others."""
    fields: dict[str, Any] = {
        f"{prefix}-alias": alias,
        f"{prefix}-organizations": list(organizations),
        f"{prefix}-region": region,
        f"{prefix}-statement": statement,
    }
    if relationship:
        fields[f"{prefix}-relationship"] = relationship
    if consent:
        fields[f"{prefix}-consent"] = "on"
    return fields


def form_fields(client: Client, *, solve: bool = True, address: str = ADDRESS) -> dict[str, str]:
    """The form's hidden fields as served, with the proof of work solved (or not)."""
    page = client.get(reverse("public:declare"), REMOTE_ADDR=address)
    token = page.context["form"].initial["token"]
    challenge = page.context["challenge"]
    return {"token": token, "work": solved_work(challenge) if solve else ""}


def solved_work(challenge: dict[str, Any]) -> str:
    """The form's ``work`` field as the page's script fills it: the challenge solved."""
    solution = solve_challenge(
        challenge["challenge"], salt=challenge["salt"], max_number=challenge["maxNumber"]
    )
    assert solution is not None
    return str(
        Payload(
            "SHA-256",
            challenge["challenge"],
            solution.number,
            challenge["salt"],
            challenge["signature"],
        ).to_base64()
    )


def declare(
    client: Client,
    *people: dict[str, Any],
    hidden: dict[str, str] | None = None,
    address: str = ADDRESS,
) -> _MonkeyPatchedWSGIResponse:
    """Post the form with ``people``, from ``address``."""
    data: dict[str, Any] = dict(hidden or form_fields(client, address=address))
    for fields in people:
        data.update(fields)
    return client.post(reverse("public:declare"), data, REMOTE_ADDR=address)
