from django.urls import path

from tuidang.lib import health, language, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("language/<str:code>", language.language_choose, name="language"),
]
