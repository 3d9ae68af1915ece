from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from tuidang.declarations.receipts import Confirmation, Pending, receipt_confirm
from tuidang.declarations.selectors import public_totals
from tuidang.public.forms import ReceiptForm
from tuidang.tlog.selectors import witnessing
from tuidang.tlog.services import verifier_key


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = {"totals": public_totals(), "log_key": verifier_key(), "witnessing": witnessing()}
    return render(request, "public/home.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """A declarant checks with their receipt that their declaration is in the log.
    POST, so that the alias never lands in a URL, a log line or a browser's history."""
    form = ReceiptForm(request.POST or None)
    found: Confirmation | Pending | None = None
    failed = False
    if request.method == "POST" and form.is_valid():
        found = receipt_confirm(
            index=form.cleaned_data["certificate"],
            code=form.cleaned_data["code"],
            alias=form.cleaned_data["alias"],
        )
        failed = found is None
    context = {
        "form": form,
        "confirmation": found if isinstance(found, Confirmation) else None,
        "pending": found if isinstance(found, Pending) else None,
        "hotline_time_zone": settings.HOTLINE_TIME_ZONE,
        "failed": failed,
        "log_key": verifier_key(),
    }
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return render(request, "public/verify.html", context, status=status)
