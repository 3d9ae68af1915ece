from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "tuidang.declarations"
    label = "declarations"

    def ready(self) -> None:
        from tuidang.declarations.publication import PUBLICATION_JOB, publication_run
        from tuidang.declarations.retention import FORM_TOKENS
        from tuidang.jobs.retention import retention_rule_register
        from tuidang.jobs.scheduler import PeriodicWork, periodic_work_register

        periodic_work_register(
            PeriodicWork(
                name=PUBLICATION_JOB,
                interval_setting="PUBLICATION_INTERVAL_SECONDS",
                run=publication_run,
            )
        )
        retention_rule_register(FORM_TOKENS)
