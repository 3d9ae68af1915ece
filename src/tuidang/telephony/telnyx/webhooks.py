"""Telnyx's TeXML webhooks, served under /telephony/telnyx/ (see telephony/urls.py).

TeXML sends Twilio's parameters and executes the same documents, so the views are
TwiML's (telephony/twiml/views.py), behind Telnyx's Ed25519 signature check; their URL
names are "telnyx-" and the step of calls.ivr.Next they serve ("telnyx-voice").
"""

from tuidang.telephony.telnyx.signature import is_signed_by_telnyx
from tuidang.telephony.twiml.views import TwimlWebhooks

webhooks = TwimlWebhooks("telnyx", is_signed=is_signed_by_telnyx)
urlpatterns = webhooks.urlpatterns
