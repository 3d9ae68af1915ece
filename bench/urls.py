from django.urls import path

from bench.benchapp.views import bare, bare_page
from tuidang.config.urls import urlpatterns as hotline_urlpatterns

urlpatterns = [
    path("bench/bare", bare),
    path("bench/page", bare_page),
    *hotline_urlpatterns,
]
