from django.apps import AppConfig


class LiteratureConfig(AppConfig):
    name = "tuidang.literature"
    label = "literature"

    def ready(self) -> None:
        from tuidang.jobs.retention import retention_rule_register
        from tuidang.literature.retention import ADDRESSES

        retention_rule_register(ADDRESSES)
