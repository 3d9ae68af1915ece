from django.urls import path

from tuidang.public import views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("verify", views.verify, name="verify"),
    path("verify/proof", views.verify_bundle, name="verify-proof"),
]
