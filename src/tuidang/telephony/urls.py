"""The telephony providers' webhooks: one folder per provider, its URLs under its name."""

from django.urls import include, path

from tuidang.telephony import views as public_views

app_name = "telephony"

urlpatterns = [
    path("twilio/", include("tuidang.telephony.twilio.urls")),
    # Recorded prompts, fetched by the provider for <Play>: public, like the prompts.
    path("prompts/<int:prompt_id>/audio", public_views.prompt_audio, name="prompt-audio"),
]
