import os
import time
import uuid
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from tuidang.config.urls import urlpatterns as hotline_urlpatterns

# However the test ends, a held thread is let go after this long.
HOLD_AT_MOST_SECONDS = 60


def hold(request: HttpRequest) -> HttpResponse:
    folder = Path(os.environ["HOLD_DIR"])
    (folder / f"held-{uuid.uuid4().hex}").touch()
    deadline = time.monotonic() + HOLD_AT_MOST_SECONDS
    while not (folder / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return HttpResponse("released", content_type="text/plain")


urlpatterns = [path("hold/", hold), *hotline_urlpatterns]
