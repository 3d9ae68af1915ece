from django.urls import path

from tuidang.volunteers import callbacks, cases, team, views

app_name = "volunteers"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("live", views.live, name="live"),
    path("presence", views.presence, name="presence"),
    path("calls/<int:call_id>/declarations", views.record_declarations, name="record"),
    path("calls/<int:call_id>/hang-up", views.hang_up, name="hang-up"),
    path("calls/<int:call_id>/record", views.record_call, name="record-call"),
    path("team/", team.team, name="team"),
    path("team/live", team.team_live, name="team-live"),
    path("cases/", cases.open_case, name="open-case"),
    path("declarations/<int:declaration_id>/revoke", cases.revoke, name="revoke"),
    path("callbacks/", callbacks.callback_list, name="callbacks"),
    path("callbacks/<uuid:public_id>/audio", callbacks.callback_audio, name="callback-audio"),
    path("callbacks/<uuid:public_id>/handled", callbacks.callback_handled, name="callback-handled"),
    path("callbacks/<uuid:public_id>/call", callbacks.callback_call_back, name="callback-call"),
]
