from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "tuidang.lib"
    label = "lib"
    verbose_name = "Shared helpers"

    def ready(self) -> None:
        from tuidang.lib import checks  # noqa: F401  (registers the deployment checks)
