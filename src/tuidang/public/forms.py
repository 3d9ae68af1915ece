from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ReceiptForm(forms.Form):
    certificate = forms.IntegerField(
        label=_("Certificate number"),
        min_value=0,
        required=False,
        help_text=_("If you have one: a receipt given at the hotline is found by its code."),
    )
    code = forms.CharField(label=_("Code"), max_length=40)
    alias = forms.CharField(
        label=_("The name you gave"),
        max_length=80,
        help_text=_("As you gave it when you renounced. It is not stored or sent anywhere."),
    )
