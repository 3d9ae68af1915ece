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


class ProofBundleForm(forms.Form):
    """A proof bundle uploaded to be checked (tlog/bundles.py), at most MAX_BYTES."""

    MAX_BYTES = 16 * 1024  # a bundle is a few hundred bytes per 100,000 entries

    bundle = forms.FileField(
        label=_("Proof file"),
        help_text=_(
            "The proof file (proof-42.txt, say) downloaded from this site or given to you."
        ),
    )

    def clean_bundle(self) -> str:
        upload = self.cleaned_data["bundle"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(
                _("This file is too large to be a proof (at most %(max)s bytes)."),
                params={"max": self.MAX_BYTES},
            )
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError(_("This file is not a proof: it is not text.")) from None
