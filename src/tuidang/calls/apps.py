from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "tuidang.calls"
    label = "calls"
