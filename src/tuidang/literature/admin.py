from django.contrib import admin

from tuidang.literature.models import Title
from tuidang.volunteers.admin import CoordinatorAdmin


@admin.register(Title)
class TitleAdmin(CoordinatorAdmin[Title]):
    list_display = ["name", "language", "format", "active"]
    list_filter = ["language", "format", "active"]
