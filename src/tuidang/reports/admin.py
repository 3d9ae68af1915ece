from django.contrib import admin

from tuidang.reports.models import ServiceLevel
from tuidang.volunteers.admin import CoordinatorAdmin


@admin.register(ServiceLevel)
class ServiceLevelAdmin(CoordinatorAdmin[ServiceLevel]):
    """Each queue's service-level threshold: a change counts from the next rebuild on
    (``tuidang backfill-reports`` counts earlier days again)."""

    list_display = ["language", "threshold_seconds"]
