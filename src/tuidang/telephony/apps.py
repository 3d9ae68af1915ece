from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "tuidang.telephony"
    label = "telephony"
