from django.urls import path

from tuidang.screening import views

app_name = "screening"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("blocks", views.block, name="block"),
    path("blocks/<int:block_id>/lift", views.lift, name="lift"),
    path("calls/<int:call_id>/flag", views.flag, name="flag"),
]
