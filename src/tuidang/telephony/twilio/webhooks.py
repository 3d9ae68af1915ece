"""Twilio's webhooks, served under /telephony/twilio/ (see telephony/urls.py).

The views are TwiML's (telephony/twiml/views.py), behind Twilio's signature check; their
URL names are "twilio-" and the step of calls.ivr.Next they serve ("twilio-voice").
"""

from tuidang.telephony.twilio.signature import is_signed_by_twilio
from tuidang.telephony.twiml.views import TwimlWebhooks

webhooks = TwimlWebhooks("twilio", is_signed=is_signed_by_twilio)
urlpatterns = webhooks.urlpatterns
