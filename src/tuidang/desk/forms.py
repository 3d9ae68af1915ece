from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tuidang.calls.models import HotlineNumber
from tuidang.declarations.models import RejectionReason
from tuidang.declarations.statements import MAX_ALIAS, MAX_STATEMENT
from tuidang.lib.languages import Language
from tuidang.lib.zones import time_zone_names
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
    return [(name, name) for name in sorted(time_zone_names()) if "/" in name or name == "UTC"]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        choices=_zones,
        help_text=_("The desk shows every time in it; callers' times also in China time."),
    )


class ShiftForm(forms.Form):
    """A coordinator's new shift, in the wall clock of a zone."""

    language = forms.ChoiceField(label=_("Language queue"), choices=Language.choices)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_zones,
        help_text=_("The shift's times are in this zone's clock, daylight saving included."),
    )
    weekly = forms.BooleanField(label=_("Every week"), required=False, initial=True)
    first_date = forms.DateField(
        label=_("Date (the first, for a weekly shift)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    last_date = forms.DateField(
        label=_("Last date (weekly, optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    start_time = forms.TimeField(
        label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end_time = forms.TimeField(
        label=_("Ends"),
        help_text=_("At or before the start: the next day."),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    min_heads = forms.IntegerField(label=_("Minimum volunteers"), min_value=0, max_value=50)
    target_heads = forms.IntegerField(label=_("Target volunteers"), min_value=1, max_value=50)
    notice_hours = forms.IntegerField(
        label=_("Notice to drop (hours)"),
        min_value=0,
        max_value=24 * 60,
        initial=24,
        help_text=_("Closer to the start than this, only a coordinator takes a volunteer off."),
    )
    number = forms.ChoiceField(
        label=_("Hotline number"),
        required=False,
        help_text=_(
            "Calls on this number ring volunteers on its shifts first; leave empty for every "
            "number."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        numbers = HotlineNumber.objects.filter(active=True).order_by("name")
        self.fields["number"].choices = [("", _("Every number"))] + [  # type: ignore[attr-defined]
            (number.e164, f"{number.name} ({number.e164})") for number in numbers
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start_time") is not None and data.get("start_time") == data.get("end_time"):
            self.add_error("end_time", _("A shift cannot start and end at the same time."))
        minimum, target = data.get("min_heads"), data.get("target_heads")
        if minimum is not None and target is not None and target < minimum:
            self.add_error("target_heads", _("The target cannot be below the minimum."))
        first, last = data.get("first_date"), data.get("last_date")
        if first is not None and last is not None and last < first:
            self.add_error("last_date", _("The last date cannot come before the first."))
        return data


class ShiftEditForm(forms.Form):
    """A coordinator's change to a shift: its times, head-counts, notice and last date."""

    start_time = ShiftForm.base_fields["start_time"]
    end_time = ShiftForm.base_fields["end_time"]
    last_date = ShiftForm.base_fields["last_date"]
    min_heads = ShiftForm.base_fields["min_heads"]
    target_heads = ShiftForm.base_fields["target_heads"]
    notice_hours = ShiftForm.base_fields["notice_hours"]


class AssignForm(forms.Form):
    volunteer = forms.TypedChoiceField(label=_("Volunteer"), coerce=int)

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].choices = choices  # type: ignore[attr-defined]


class StatementModerationForm(forms.Form):
    """A coordinator's decision on a statement: publish this copy, or reject it."""

    text = forms.CharField(
        label=_("Text to publish"), max_length=MAX_STATEMENT, required=False, widget=forms.Textarea
    )
    alias = forms.CharField(label=_("Published under"), max_length=MAX_ALIAS, required=False)
    decision = forms.ChoiceField(choices=[("approve", _("Publish")), ("reject", _("Reject"))])
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[("", "—"), *RejectionReason.choices], required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "approve":
            if not (data.get("text") or "").strip():
                self.add_error("text", _("Write the text to publish."))
            if not (data.get("alias") or "").strip():
                self.add_error("alias", _("Give the alias to publish it under."))
        elif data.get("decision") == "reject" and not data.get("reason"):
            self.add_error("reason", _("Choose why it is rejected."))
        return data
