from django.urls import path

from tuidang.telephony import views as public_views
from tuidang.telephony.twilio import views

app_name = "telephony"

urlpatterns = [
    # The two URLs configured at the provider.
    path("twilio/voice", views.voice, name="twilio-voice"),
    path("twilio/status", views.status, name="twilio-status"),
    # Reached only through URLs inside our own TwiML.
    path("twilio/language", views.language, name="twilio-language"),
    path("twilio/how-heard", views.how_heard, name="twilio-how-heard"),
    path("twilio/challenge", views.challenge, name="twilio-challenge"),
    path("twilio/wait", views.wait, name="twilio-wait"),
    path("twilio/wait-choice", views.wait_choice, name="twilio-wait-choice"),
    path("twilio/queue-exit", views.queue_exit, name="twilio-queue-exit"),
    path("twilio/voicemail", views.voicemail_done, name="twilio-voicemail"),
    path("twilio/bridge", views.bridge, name="twilio-bridge"),
    path("twilio/offer/<uuid:token>", views.offer, name="twilio-offer"),
    path(
        "twilio/offer/<uuid:token>/respond", views.offer_respond_view, name="twilio-offer-respond"
    ),
    path(
        "twilio/offer/<uuid:token>/dial-ended",
        views.offer_dial_ended_view,
        name="twilio-offer-dial-ended",
    ),
    path("twilio/offer/<uuid:token>/status", views.offer_status, name="twilio-offer-status"),
    path(
        "twilio/callback/<uuid:public_id>/<int:volunteer_id>",
        views.callback,
        name="twilio-callback",
    ),
    path(
        "twilio/callback/<uuid:public_id>/<int:volunteer_id>/done",
        views.callback_done,
        name="twilio-callback-done",
    ),
    path(
        "twilio/callback/<uuid:public_id>/<int:volunteer_id>/status",
        views.callback_status,
        name="twilio-callback-status",
    ),
    # Recorded prompts, fetched by the provider for <Play>: public, like the prompts.
    path("prompts/<int:prompt_id>/audio", public_views.prompt_audio, name="prompt-audio"),
]
