from django.apps import AppConfig


class LiteratureConfig(AppConfig):
    name = "tuidang.literature"
    label = "literature"
