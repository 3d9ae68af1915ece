from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "tuidang.public"
    label = "public"
