from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tuidang.declarations.models import Organization, Relationship
from tuidang.declarations.services import Person
from tuidang.declarations.statements import MAX_ALIAS, MAX_STATEMENT
from tuidang.lib.regions import MAINLAND, MAINLAND_UNKNOWN, UNKNOWN, region_name


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


# --- Declaring online ----------------------------------------------------------------


def province_choices() -> list[tuple[str, object]]:
    """Where a declarant online is most likely from: the mainland's provinces, then Hong
    Kong, Macau and Taiwan (a short list keeps the page light; each person has one)."""
    return list(_province_choices(get_language() or ""))


@lru_cache(maxsize=8)
def _province_choices(language: str) -> tuple[tuple[str, object], ...]:
    # Sorted by name in ``language`` (the active one): built once per language, not for
    # each of the seven people of every form posted.
    chinese = language.startswith("zh")

    def named(codes: list[str]) -> tuple[tuple[str, str], ...]:
        return tuple(
            sorted(((code, region_name(code, chinese=chinese)) for code in codes), key=_name)
        )

    return (
        (UNKNOWN, str(_("Unknown"))),
        (
            str(_("Mainland China")),
            (
                (MAINLAND_UNKNOWN, region_name(MAINLAND_UNKNOWN, chinese=chinese)),
                *named(list(MAINLAND)),
            ),
        ),
        (str(_("Hong Kong, Macau and Taiwan")), named(["HK", "MO", "TW"])),
    )


def _name(pair: tuple[str, str]) -> str:
    return pair[1]


class PersonForm(forms.Form):
    """One person of a declaration made online: the declarant, or someone they speak for.
    A block left empty is nobody; a block begun must be finished."""

    alias = forms.CharField(
        label=_("Alias or name"),
        max_length=MAX_ALIAS,
        required=False,
        help_text=_("Any name you will remember: you need it to check your receipt."),
    )
    relationship = forms.ChoiceField(
        label=_("Who is this person to you?"), choices=[("", "—")], required=False
    )
    organizations = forms.MultipleChoiceField(
        label=_("Organizations left"),
        choices=Organization.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # A callable: listed only when the block is shown or a province was chosen in it.
    region = forms.ChoiceField(label=_("Province"), choices=province_choices, required=False)
    statement = forms.CharField(
        label=_("Statement (optional)"),
        max_length=MAX_STATEMENT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent = forms.BooleanField(
        label=_("Publish this statement under this alias"),
        required=False,
        help_text=_("Only after a volunteer has removed anything that could identify anyone."),
    )

    def __init__(self, *args: Any, for_self: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.for_self = for_self
        if for_self:
            del self.fields["relationship"]
        else:
            relationship = self.fields["relationship"]
            assert isinstance(relationship, forms.ChoiceField)
            relationship.choices = [("", "—"), *Relationship.choices]

    def has_content(self) -> bool:
        """Whether anything was typed in this block (shown open when the form returns)."""
        return self.is_bound and any(
            value for key, value in self.data.items() if key.startswith(f"{self.prefix}-")
        )

    def is_empty(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not (data.get("alias") or data.get("organizations") or data.get("statement"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_empty():
            return data
        if not (data.get("alias") or "").strip() and "alias" not in self.errors:
            self.add_error("alias", _("Give a name or alias: your receipt is checked with it."))
        if not data.get("organizations") and "organizations" not in self.errors:
            self.add_error("organizations", _("Choose at least one organization."))
        if not self.for_self and not data.get("relationship") and "relationship" not in self.errors:
            self.add_error("relationship", _("Say who this person is to you."))
        return data

    def person(self) -> Person:
        data = self.cleaned_data
        return Person(
            alias=data["alias"].strip(),
            organizations=frozenset(data["organizations"]),
            relationship=data.get("relationship", ""),
            consent_to_publish=bool(data["consent"]),
            statement=data["statement"].strip(),
            region=data["region"],
        )


class DeclarationForm(forms.Form):
    """What the whole form carries besides its people: its token (idempotency, and when
    it was served) and the proof of work its page solved, if scripts ran."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=200)
    work = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)
