from __future__ import annotations

from typing import Any

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.forms.formsets import ManagementForm
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from tuidang.declarations.models import Organization, Relationship
from tuidang.declarations.services import Person
from tuidang.lib.regions import region_choices

MAX_FAMILY_MEMBERS = 30

# A receipt is checked with the name given: without one it could never be confirmed.
ALIAS_NEEDED = _("Ask for a name, even a made-up one: the receipt is checked with it.")


class CallerDeclarationForm(forms.Form):
    renounces = forms.BooleanField(label=_("The caller renounces"), required=False)
    alias = forms.CharField(label=_("Alias"), max_length=80, required=False)
    organizations = forms.MultipleChoiceField(
        label=_("Organizations"),
        choices=Organization.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    consent_to_publish = forms.BooleanField(label=_("Consents to publication"), required=False)
    # A list, never free text: the region goes into the public log, which nothing edits.
    region = forms.ChoiceField(
        label=_("Region"),
        choices=region_choices,
        required=False,
        help_text=_("The province the call came from, unless the caller says otherwise."),
    )
    statement = forms.CharField(
        label=_("Statement (optional)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("renounces") and not data.get("organizations"):
            self.add_error("organizations", _("Choose at least one organization."))
        if data.get("renounces") and not (data.get("alias") or "").strip():
            self.add_error("alias", ALIAS_NEEDED)
        if not data.get("renounces") and data.get("organizations"):
            self.add_error(
                "renounces", _("Tick this if the caller renounces the organizations chosen.")
            )
        return data

    def person(self) -> Person | None:
        if not self.cleaned_data.get("renounces"):
            return None
        return Person(
            alias=self.cleaned_data["alias"],
            organizations=frozenset(self.cleaned_data["organizations"]),
            consent_to_publish=self.cleaned_data["consent_to_publish"],
            statement=self.cleaned_data["statement"],
            region=self.cleaned_data["region"],
        )


class FamilyDeclarationForm(forms.Form):
    relationship = forms.ChoiceField(
        label=_("Relationship"), choices=[("", "—"), *Relationship.choices], required=True
    )
    alias = forms.CharField(
        label=_("Alias"), max_length=80, error_messages={"required": ALIAS_NEEDED}
    )
    organizations = forms.MultipleChoiceField(
        label=_("Organizations"),
        choices=Organization.choices,
        widget=forms.CheckboxSelectMultiple,
        required=True,
        error_messages={"required": _("Choose at least one organization.")},
    )
    asked_for_it = forms.BooleanField(
        label=_("They asked the caller to renounce for them"),
        required=True,
        error_messages={"required": _("Only record family members who asked for it.")},
    )
    consent_to_publish = forms.BooleanField(label=_("Consents to publication"), required=False)

    def person(self) -> Person:
        return Person(
            alias=self.cleaned_data["alias"],
            organizations=frozenset(self.cleaned_data["organizations"]),
            relationship=self.cleaned_data["relationship"],
            consent_to_publish=self.cleaned_data["consent_to_publish"],
        )


class FamilyManagementForm(ManagementForm):
    """How many family rows the page holds: a count from the page, so bounded like any
    other number from outside; a count out of bounds is a broken management form."""

    TOTAL_FORMS = forms.IntegerField(
        widget=forms.HiddenInput, min_value=0, max_value=MAX_FAMILY_MEMBERS
    )
    INITIAL_FORMS = forms.IntegerField(
        widget=forms.HiddenInput, min_value=0, max_value=MAX_FAMILY_MEMBERS
    )


class BaseFamilyFormSet(BaseFormSet[FamilyDeclarationForm]):
    @cached_property
    def management_form(self) -> ManagementForm:
        """Django's, bound to the most family rows one call records."""
        if not self.is_bound:
            return super().management_form
        renderer = self.renderer  # type: ignore[attr-defined]  # set by BaseFormSet, unstubbed
        form = FamilyManagementForm(
            self.data, auto_id=self.auto_id, prefix=self.prefix, renderer=renderer
        )
        form.full_clean()
        return form


FamilyFormSet = formset_factory(
    FamilyDeclarationForm,
    formset=BaseFamilyFormSet,
    extra=1,
    max_num=MAX_FAMILY_MEMBERS,
    validate_max=True,
)
