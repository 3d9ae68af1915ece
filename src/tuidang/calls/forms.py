from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tuidang.calls.models import CallType


class CallRecordForm(forms.Form):
    types = forms.MultipleChoiceField(
        label=_("What this call was"),
        choices=CallType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=True,
        error_messages={"required": _("Tick at least one: what was this call?")},
    )
    note = forms.CharField(
        label=_("Note (only you and coordinators read it)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
