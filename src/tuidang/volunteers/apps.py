from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "tuidang.volunteers"
    label = "volunteers"

    def ready(self) -> None:
        from tuidang.lib.metrics import metrics_collector_register
        from tuidang.volunteers.metrics import PresenceCollector

        metrics_collector_register("volunteers.presence", PresenceCollector())
