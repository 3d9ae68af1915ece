from django.urls import path

from bench.benchapp.views import bare
from tuidang.config.urls import urlpatterns as hotline_urlpatterns

urlpatterns = [path("bench/bare", bare), *hotline_urlpatterns]
