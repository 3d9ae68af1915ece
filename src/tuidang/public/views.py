from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tuidang.declarations.selectors import public_totals
from tuidang.tlog.services import verifier_key


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = {"totals": public_totals(), "log_key": verifier_key()}
    return render(request, "public/home.html", context)
