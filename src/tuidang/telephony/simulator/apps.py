from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "tuidang.telephony.simulator"
    label = "simulator"
    verbose_name = "Simulated phone network"
