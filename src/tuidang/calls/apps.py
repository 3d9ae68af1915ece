from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "tuidang.calls"
    label = "calls"

    def ready(self) -> None:
        from tuidang.calls import retention, signals  # noqa: F401
        from tuidang.calls.recordings import RecordingStore
        from tuidang.jobs.retention import retention_rule_register
        from tuidang.vault.stores import sealed_store_register

        sealed_store_register(RecordingStore())
        for rule in retention.RULES:
            retention_rule_register(rule)
