"""What every provider that speaks TwiML shares: its webhooks, statuses and rendering.

Twilio and Telnyx (TeXML) send the same webhook parameters and execute the same
documents; they differ in how they sign their requests and in their REST APIs. So the
webhook views (views.py), the call statuses (status.py) and the rendering of the calls
domain's steps as TwiML (render.py) live here once, and a provider's folder holds only
what is its own: its signature check, its REST client and its ``webhooks.py``, which
serves ``TwimlWebhooks(name, is_signed=…).urlpatterns`` under ``/telephony/<name>/``.
"""
