from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "tuidang.demo"
    label = "demo"
