from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "tuidang.jobs"
    label = "jobs"
    verbose_name = "Periodic jobs"
