from django.apps import AppConfig


class TlogConfig(AppConfig):
    name = "tuidang.tlog"
    label = "tlog"
    verbose_name = "Transparency log"

    def ready(self) -> None:
        from tuidang.jobs.scheduler import PeriodicWork, periodic_work_register
        from tuidang.lib.health import ReadinessCheck, readiness_check_register
        from tuidang.lib.metrics import metrics_collector_register
        from tuidang.tlog import checks  # noqa: F401  (registers the witnesses' check)
        from tuidang.tlog.health import (
            LogCollector,
            checkpoint_check,
            signing_key_check,
            witnessed_check,
        )
        from tuidang.tlog.services import CATCH_UP_JOB, log_checkpoint_catch_up

        periodic_work_register(
            PeriodicWork(
                name=CATCH_UP_JOB,
                interval_setting="TLOG_CATCH_UP_INTERVAL_SECONDS",
                run=log_checkpoint_catch_up,
                at_start=True,
            )
        )
        for check in (
            ReadinessCheck("signing_key", signing_key_check, cache_seconds=60),
            ReadinessCheck("checkpoint", checkpoint_check, cache_seconds=5),
            ReadinessCheck("witnessed", witnessed_check, required=False, cache_seconds=5),
        ):
            readiness_check_register(check)
        metrics_collector_register("tlog.log", LogCollector())
