from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "tuidang.calls"
    label = "calls"

    def ready(self) -> None:
        from tuidang.calls import retention, signals  # noqa: F401
        from tuidang.calls.recordings import RecordingStore
        from tuidang.calls.services.reconcile import RECONCILE_JOB, reconcile_run
        from tuidang.jobs.retention import retention_rule_register
        from tuidang.jobs.scheduler import PeriodicWork, periodic_work_register
        from tuidang.vault.stores import sealed_store_register

        sealed_store_register(RecordingStore())
        for rule in retention.RULES:
            retention_rule_register(rule)
        from tuidang.calls.metrics import CallsCollector
        from tuidang.lib.metrics import metrics_collector_register

        metrics_collector_register("calls.waiting", CallsCollector())
        periodic_work_register(
            PeriodicWork(
                name=RECONCILE_JOB,
                interval_setting="RECONCILE_INTERVAL_SECONDS",
                run=reconcile_run,
            )
        )
