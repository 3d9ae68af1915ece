from django.db import models


class Ping(models.Model):
    """The row the bare baseline view inserts."""

    token = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.token
