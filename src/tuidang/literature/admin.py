from django.contrib import admin

from tuidang.literature.models import Title


@admin.register(Title)
class TitleAdmin(admin.ModelAdmin[Title]):
    list_display = ["name", "language", "format", "active"]
    list_filter = ["language", "format", "active"]
