from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("", include("tuidang.public.urls")),
    path("desk/", include("tuidang.volunteers.urls")),
    path("telephony/", include("tuidang.telephony.urls")),
    path("screening/", include("tuidang.screening.urls")),
    path("literature/", include("tuidang.literature.urls")),
    path("log/", include("tuidang.tlog.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.TELEPHONY_PROVIDER == "simulated":
    urlpatterns.append(path("sim/", include("tuidang.telephony.simulator.urls")))
