from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"simulated_network": settings.TELEPHONY_PROVIDER == "simulated"}
