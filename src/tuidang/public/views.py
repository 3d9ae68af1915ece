from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tuidang.declarations.selectors import public_totals


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html", {"totals": public_totals()})
