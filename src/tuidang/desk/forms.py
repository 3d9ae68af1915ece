from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tuidang.literature.models import Delivery, Title
from tuidang.volunteers.models import Volunteer


class TransferForm(forms.Form):
    """To whom a call is handed, and whether the two volunteers talk first."""

    to = forms.TypedChoiceField(
        label=_("Transfer to"),
        coerce=int,
        error_messages={"invalid_choice": _("That colleague is no longer free: choose again.")},
    )
    warm = forms.TypedChoiceField(
        label=_("How"),
        choices=[
            ("1", _("Warm: talk with them first while the caller holds")),
            ("0", _("Cold: hand the caller over at once")),
        ],
        coerce=lambda value: value == "1",
        initial="1",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, colleagues: list[Volunteer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        to = self.fields["to"]
        assert isinstance(to, forms.ChoiceField)  # nosec B101 - declared above
        to.choices = [("", _("Choose a colleague"))] + [
            (colleague.pk, _label(colleague)) for colleague in colleagues
        ]


def _label(colleague: Volunteer) -> str:
    """Their name, the languages they speak, and the groups they are in."""
    parts = [", ".join(entry.get_language_display() for entry in colleague.languages.all())]
    if colleague.is_coordinator:
        parts.append(str(_("coordinator")))
    if colleague.screener:
        parts.append(str(_("screening group")))
    return f"{colleague.display_name} ({' · '.join(part for part in parts if part)})"


class BookRequestForm(forms.Form):
    titles = forms.ModelMultipleChoiceField(
        label=_("Books"),
        queryset=Title.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one book.")},
    )
    delivery = forms.ChoiceField(
        label=_("Delivery"), choices=Delivery.choices, widget=forms.RadioSelect
    )
    address = forms.CharField(
        label=_("Address (sealed, deleted once sent)"),
        help_text=_("By post: the postal address. A link: where to send it."),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("delivery") == Delivery.POST and not (data.get("address") or "").strip():
            self.add_error("address", _("A book sent by post needs an address."))
        if data.get("delivery") == Delivery.LINK and not (data.get("address") or "").strip():
            self.add_error("address", _("A link needs somewhere to be sent: an email or account."))
        return data


def _zones() -> list[tuple[str, str]]:
    return [
        (name, name)
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name or name == "UTC"
    ]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        choices=_zones,
        help_text=_("The desk shows every time in it; callers' times also in China time."),
    )
