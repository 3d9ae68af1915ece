from django.urls import path, re_path

from tuidang.tlog import views

app_name = "tlog"

urlpatterns = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    re_path(r"^proof/(?P<index>[0-9]+)$", views.proof, name="proof"),
    re_path(r"^tile/entries/(?P<path>[x0-9/.p]+)$", views.entries, name="entries"),
    re_path(r"^tile/(?P<level>[0-9]{1,2})/(?P<path>[x0-9/.p]+)$", views.tile, name="tile"),
]
