from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "tuidang.volunteers"
    label = "volunteers"
