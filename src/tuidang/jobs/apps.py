from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "tuidang.jobs"
    label = "jobs"
    verbose_name = "Periodic jobs"

    def ready(self) -> None:
        from tuidang.jobs.heartbeat import WorkerCollector, worker_check
        from tuidang.lib.health import ReadinessCheck, readiness_check_register
        from tuidang.lib.metrics import metrics_collector_register

        readiness_check_register(ReadinessCheck("worker", worker_check, cache_seconds=0.5))
        metrics_collector_register("jobs.workers", WorkerCollector())
