from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "tuidang.calls"
    label = "calls"

    def ready(self) -> None:
        from tuidang.calls import signals  # noqa: F401
