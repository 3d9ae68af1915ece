from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tuidang.calls.models import HotlineNumber
from tuidang.lib.phone import normalise

KEYS = "123456789*0#"


class DialForm(forms.Form):
    from_number = forms.CharField(
        label=_("Calling from"),
        max_length=40,
        initial="+86 138 0013 8000",
        help_text=_("The caller's number, as a phone network would present it."),
    )
    to_number = forms.ChoiceField(label=_("Hotline number"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        numbers = HotlineNumber.objects.filter(active=True)
        choices: list[tuple[str, str]] = [
            (n.e164, f"{n.name} ({n.e164}, {n.get_how_heard_display()})") for n in numbers
        ]
        choices.append(("+15555550000", str(_("A number the hotline does not know"))))
        field = self.fields["to_number"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean_from_number(self) -> str:
        raw: str = self.cleaned_data["from_number"]
        if raw.strip().lower() == "anonymous":
            return "anonymous"
        e164 = normalise(raw)
        if e164 is None:
            raise forms.ValidationError(
                _("Enter a number in international format, for example +86 138 0013 8000.")
            )
        return e164


class KeyForm(forms.Form):
    key = forms.CharField(max_length=1)

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"]
        if key not in KEYS:
            raise forms.ValidationError(_("Not a key on a phone."))
        return key
