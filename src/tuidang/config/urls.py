from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

# The admin's own login form checks only a password; send it through the accounts' login,
# with its lockout and second factor, like every other login.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    # First: Django tries the patterns in order, and the webhooks are the hot path (the
    # public pages and the desk before them were some seventy patterns tried per webhook).
    path("telephony/", include("tuidang.telephony.urls")),
    path("", include("tuidang.public.urls")),
    # The desk's pages: /desk/, /screening/ and /literature/.
    path("", include("tuidang.desk.urls")),
    # The wallboard through a read-only link, for a screen on a wall (no login).
    path("wallboard/", include("tuidang.desk.wall_urls")),
    path("log/", include("tuidang.tlog.urls")),
    path("accounts/", include("tuidang.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # /healthz, /readyz and /metrics (lib/health.py, lib/metrics.py).
    path("", include("tuidang.lib.urls")),
]

if settings.TELEPHONY_PROVIDER == "simulated":
    urlpatterns.append(path("sim/", include("tuidang.telephony.simulator.urls")))
