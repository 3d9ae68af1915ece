from django.apps import AppConfig


class TlogConfig(AppConfig):
    name = "tuidang.tlog"
    label = "tlog"
    verbose_name = "Transparency log"
