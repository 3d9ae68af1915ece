from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "tuidang.desk"
    label = "desk"

    def ready(self) -> None:
        from tuidang.desk import poll

        poll.connect()
