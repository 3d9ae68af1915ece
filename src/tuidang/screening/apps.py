from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "tuidang.screening"
    label = "screening"

    def ready(self) -> None:
        from tuidang.jobs.retention import retention_rule_register
        from tuidang.screening import signals  # noqa: F401
        from tuidang.screening.retention import CALLER_KEYS, WEB_HITS

        retention_rule_register(CALLER_KEYS)
        retention_rule_register(WEB_HITS)
