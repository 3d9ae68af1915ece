from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls.models import Call
from tuidang.literature.models import BookRequest, Delivery, Title
from tuidang.volunteers.models import Volunteer

logger = logging.getLogger(__name__)


class AddressRequired(ValueError):
    pass


@transaction.atomic
def book_request_create(
    *, call: Call, titles: list[Title], delivery: str, address: str, volunteer: Volunteer
) -> BookRequest:
    if delivery == Delivery.POST and not address.strip():
        raise AddressRequired("a postal address is needed to send a book by post")
    if delivery == Delivery.LINK and not address.strip():
        raise AddressRequired("a link needs somewhere to be sent")
    request = BookRequest(call=call, delivery=delivery, requested_by=volunteer)
    # Kept for posting, or where to send a link; a book read over the phone needs none.
    request.address = address.strip() if delivery in (Delivery.POST, Delivery.LINK) else ""
    request.save()
    request.titles.set(titles)
    audit_record(actor=volunteer.user, action=Action.CREATE, target=request)
    logger.info("Book request %s on call %s", request.pk, call.case_code)
    return request


@transaction.atomic
def book_request_mark_sent(*, request: BookRequest, coordinator: Volunteer) -> BookRequest:
    """The book is on its way: the address is deleted now, not at some later purge."""
    locked = BookRequest.objects.select_for_update().get(pk=request.pk)
    if locked.state != BookRequest.State.SENT:
        locked.state = BookRequest.State.SENT
        locked.sent_at = timezone.now()
        locked.sent_by = coordinator
        locked.address_sealed = b""
        locked.save(update_fields=["state", "sent_at", "sent_by", "address_sealed"])
        audit_record(actor=coordinator.user, action=Action.CHANGE, target=locked)
    return locked
