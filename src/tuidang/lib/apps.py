from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "tuidang.lib"
    label = "lib"
    verbose_name = "Shared helpers"
