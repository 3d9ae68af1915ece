from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "tuidang.screening"
    label = "screening"

    def ready(self) -> None:
        from tuidang.screening import signals  # noqa: F401
