from django.urls import path

from tuidang.literature import views

app_name = "literature"

urlpatterns = [
    path("calls/<int:call_id>/books", views.request_books, name="request"),
    path("requests/", views.queue, name="queue"),
    path("requests/<uuid:public_id>/sent", views.mark_sent, name="sent"),
]
