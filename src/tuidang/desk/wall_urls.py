"""The wallboard's read-only links, at /wallboard/<token>/: no login, no namespace of the
desk (``desk/views/wallboard.py``)."""

from django.urls import path

from tuidang.desk.views import wallboard

urlpatterns = [
    path("<str:token>/", wallboard.wall, name="wall"),
    path("<str:token>/board", wallboard.wall_board, name="wall-board"),
]
