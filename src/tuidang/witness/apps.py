from django.apps import AppConfig


class WitnessConfig(AppConfig):
    name = "tuidang.witness"
    label = "witness"
    verbose_name = "Witness"
