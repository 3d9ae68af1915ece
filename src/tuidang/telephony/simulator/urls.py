from django.urls import path

from tuidang.telephony.simulator import views

app_name = "simulator"

urlpatterns = [
    path("", views.caller, name="caller"),
    path("calls/<str:sid>", views.call_page, name="call"),
    path("calls/<str:sid>/panel", views.call_panel, name="call-panel"),
    path("calls/<str:sid>/press", views.press, name="press"),
    path("calls/<str:sid>/hang-up", views.hang_up, name="hang-up"),
    path("phone", views.phone, name="phone"),
    path("phone/<str:sid>/answer", views.phone_answer, name="phone-answer"),
    path(
        "2010-04-01/Accounts/<str:account>/Calls/<str:sid>.json",
        views.rest_call,
        name="rest-call",
    ),
]
