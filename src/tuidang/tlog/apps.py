from django.apps import AppConfig


class TlogConfig(AppConfig):
    name = "tuidang.tlog"
    label = "tlog"
    verbose_name = "Transparency log"

    def ready(self) -> None:
        from tuidang.tlog import checks  # noqa: F401  (registers the witnesses' check)
