"""A volunteer's shifts as an iCalendar feed: their own slots, each with a reminder.

Nothing else goes in: no caller, no other volunteer's name, not even how many others are
on the slot. Times are UTC instants, which every calendar shows in its own zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event

from tuidang.shifts.selectors import schedule_of
from tuidang.volunteers.models import Volunteer

REMINDER_BEFORE = timedelta(minutes=30)
# Shifts already over stay in the feed this long, so a calendar does not drop them at once.
KEPT_AFTER = timedelta(days=7)


def feed_calendar(volunteer: Volunteer, *, now: datetime, host: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Tuidang Hotline//shifts//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Hotline shifts"))
    for assignment in schedule_of(volunteer, now - KEPT_AFTER):
        slot = assignment.slot
        event = Event()
        event.add("uid", f"slot-{slot.pk}-{volunteer.public_id}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", assignment.starts_at)
        event.add("dtend", assignment.ends_at)
        summary = _("Hotline shift: %(language)s") % {"language": slot.get_language_display()}
        event.add("summary", summary)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -REMINDER_BEFORE)
        event.add_component(alarm)
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
