from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "tuidang.reports"
    label = "reports"

    def ready(self) -> None:
        from tuidang.jobs.scheduler import PeriodicWork, periodic_work_register
        from tuidang.reports.counting import REPORTS_JOB, reports_run

        periodic_work_register(
            PeriodicWork(
                name=REPORTS_JOB, interval_setting="REPORTS_INTERVAL_SECONDS", run=reports_run
            )
        )
