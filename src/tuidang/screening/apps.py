from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "tuidang.screening"
    label = "screening"
