from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tuidang.lib.zones import time_zone_names
from tuidang.literature.models import Delivery, Title


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
    return [(name, name) for name in sorted(time_zone_names()) if "/" in name or name == "UTC"]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        choices=_zones,
        help_text=_("The desk shows every time in it; callers' times also in China time."),
    )
