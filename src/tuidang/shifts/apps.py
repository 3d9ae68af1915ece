from django.apps import AppConfig


class ShiftsConfig(AppConfig):
    name = "tuidang.shifts"
    label = "shifts"

    def ready(self) -> None:
        from tuidang.jobs.scheduler import PeriodicWork, periodic_work_register
        from tuidang.shifts.services import (
            SHIFT_CHANGES_JOB,
            SLOTS_JOB,
            shift_changes_run,
            slots_materialise_run,
        )

        periodic_work_register(
            PeriodicWork(
                name=SLOTS_JOB,
                interval_setting="SHIFT_SLOTS_INTERVAL_SECONDS",
                run=slots_materialise_run,
            )
        )
        periodic_work_register(
            PeriodicWork(
                name=SHIFT_CHANGES_JOB,
                interval_setting="SHIFT_CHANGES_INTERVAL_SECONDS",
                run=shift_changes_run,
            )
        )
