"""Twilio's webhooks, served under /telephony/twilio/ (see telephony/urls.py)."""

from django.urls import path

from tuidang.telephony.twilio import views

# The names are those calls.ivr.Next leads to, prefixed "twilio-" (see views._URL_NAMES).
urlpatterns = [
    # The two URLs configured at the provider.
    path("voice", views.incoming_call, name="twilio-voice"),
    path("status", views.call_status_changed, name="twilio-status"),
    # Reached only through URLs inside our own TwiML.
    path("language", views.language_chosen, name="twilio-language"),
    path("how-heard", views.how_heard_answered, name="twilio-how-heard"),
    path("challenge", views.challenge_answered, name="twilio-challenge"),
    path("wait", views.on_hold, name="twilio-wait"),
    path("wait-choice", views.hold_key_pressed, name="twilio-wait-choice"),
    path("queue-exit", views.queue_left, name="twilio-queue-exit"),
    path("voicemail", views.voicemail_recorded, name="twilio-voicemail"),
    path("bridge", views.caller_bridged, name="twilio-bridge"),
    path("offer/<uuid:token>", views.offer_answered, name="twilio-offer"),
    path("offer/<uuid:token>/respond", views.offer_key_pressed, name="twilio-offer-respond"),
    path("offer/<uuid:token>/dial-ended", views.offer_dial_ended, name="twilio-offer-dial-ended"),
    path("offer/<uuid:token>/status", views.offer_leg_status, name="twilio-offer-status"),
    path(
        "callback/<uuid:public_id>/<int:volunteer_id>",
        views.callback_answered,
        name="twilio-callback",
    ),
    path(
        "callback/<uuid:public_id>/<int:volunteer_id>/done",
        views.callback_dialled,
        name="twilio-callback-done",
    ),
    path(
        "callback/<uuid:public_id>/<int:volunteer_id>/status",
        views.callback_leg_status,
        name="twilio-callback-status",
    ),
]
