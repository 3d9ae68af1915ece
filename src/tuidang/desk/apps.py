from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "tuidang.desk"
    label = "desk"
