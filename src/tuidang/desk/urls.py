"""The desk's pages, at the paths they have always had: /desk/, /screening/, /literature/."""

from django.urls import path

from tuidang.desk.views import (
    books,
    callbacks,
    cases,
    desk,
    profile,
    reports,
    screening,
    shifts,
    statements,
    team,
    wallboard,
)

app_name = "desk"

urlpatterns = [
    # The volunteer's desk.
    path("desk/", desk.desk, name="desk"),
    path("desk/live", desk.live, name="live"),
    path("desk/presence", desk.presence, name="presence"),
    path("desk/settings", profile.profile, name="profile"),
    path(
        "desk/calls/<int:call_id>/declarations",
        desk.record_declarations,
        name="record-declarations",
    ),
    path("desk/calls/<int:call_id>/hang-up", desk.hang_up, name="hang-up"),
    path("desk/calls/<int:call_id>/record", desk.record_call, name="record-call"),
    path("desk/calls/<int:call_id>/transfer", desk.transfer, name="transfer"),
    path("desk/calls/<int:call_id>/hand-over", desk.hand_over, name="hand-over"),
    path("desk/team/", team.team, name="team"),
    path("desk/team/live", team.team_live, name="team-live"),
    path("desk/team/calls/<int:call_id>/listen", team.listen_in, name="listen-in"),
    path("desk/team/listening/<int:listen_in_id>/whisper", team.whisper, name="whisper"),
    path("desk/team/listening/<int:listen_in_id>/stop", team.stop_listening, name="stop-listening"),
    path("desk/cases/", cases.open_case, name="open-case"),
    path("desk/declarations/<int:declaration_id>/revoke", cases.revoke, name="revoke"),
    path("desk/callbacks/", callbacks.callback_list, name="callbacks"),
    path("desk/callbacks/<uuid:public_id>/audio", callbacks.callback_audio, name="callback-audio"),
    path(
        "desk/callbacks/<uuid:public_id>/handled",
        callbacks.callback_handled,
        name="callback-handled",
    ),
    path(
        "desk/callbacks/<uuid:public_id>/call", callbacks.callback_call_back, name="callback-call"
    ),
    # Shifts: a volunteer's schedule and calendar feed; coordinators' slots and coverage.
    path("desk/shifts/", shifts.schedule, name="shifts"),
    path("desk/shifts/new", shifts.shift_new, name="shift-new"),
    path("desk/shifts/slots/<int:slot_id>", shifts.slot_detail, name="slot"),
    path("desk/shifts/slots/<int:slot_id>/sign-up", shifts.sign_up, name="slot-sign-up"),
    path("desk/shifts/slots/<int:slot_id>/assign", shifts.slot_assign_view, name="slot-assign"),
    path("desk/shifts/slots/<int:slot_id>/cancel", shifts.slot_cancel_view, name="slot-cancel"),
    path("desk/shifts/<int:shift_id>/edit", shifts.shift_edit, name="shift-edit"),
    path("desk/shifts/<int:shift_id>/delete", shifts.shift_delete_view, name="shift-delete"),
    path("desk/shifts/assignments/<int:assignment_id>/drop", shifts.drop, name="shift-drop"),
    path("desk/shifts/feed", shifts.feed_new, name="feed-new"),
    path("desk/shifts/feed/revoke", shifts.feed_revoke, name="feed-revoke"),
    # The calendar app asks without a login: the secret in the URL is the key.
    path("shifts/feed/<str:token>.ics", shifts.feed, name="feed"),
    path("desk/coverage/", shifts.coverage_page, name="coverage"),
    path("desk/coverage.csv", shifts.coverage_csv, name="coverage-csv"),
    path("desk/coverage/queue", shifts.queue_setting, name="queue-shifts"),
    # Screening: the coordinators' page, and the flag on the desk.
    path("screening/", screening.dashboard, name="screening"),
    path("screening/blocks", screening.block, name="screening-block"),
    path("screening/blocks/<int:block_id>/lift", screening.lift, name="screening-lift"),
    path("screening/calls/<int:call_id>/flag", screening.flag, name="flag"),
    # Books: asked for on the desk, sent by coordinators.
    path("literature/calls/<int:call_id>/books", books.request_books, name="books-request"),
    path("literature/requests/", books.queue, name="books"),
    path("literature/requests/<uuid:public_id>/sent", books.mark_sent, name="books-sent"),
    # Statements: the coordinators' moderation before publication.
    path("desk/statements/", statements.queue, name="statements"),
    path("desk/statements/<int:statement_id>", statements.decide, name="statement-decide"),
    # Reports from the kept counts, and the wallboard.
    path("desk/reports/", reports.reports, name="reports"),
    path("desk/reports.csv", reports.reports_csv, name="reports-csv"),
    path("desk/occupancy/", reports.volunteer_occupancy, name="occupancy"),
    path("desk/wallboard/", wallboard.wallboard, name="wallboard"),
    path("desk/wallboard/board", wallboard.wallboard_board, name="wallboard-board"),
    path("desk/wallboard/links", wallboard.link_create, name="wallboard-link-create"),
    path(
        "desk/wallboard/links/<int:link_id>/revoke",
        wallboard.link_revoke,
        name="wallboard-link-revoke",
    ),
]
