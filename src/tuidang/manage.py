"""The ``tuidang`` console command: the project's manage.py.

Commands are typed as users know them, hyphenated (``tuidang verify-log``), and live in
modules of importable names (``verify_log.py``), which mypy checks: a name that is not a
command is looked up again with underscores for hyphens, also after ``help``.
"""

from __future__ import annotations

import os
import sys

from django.core.management import BaseCommand, ManagementUtility, get_commands

from tuidang.config.env import private_files


def command_name(typed: str) -> str:
    """The command's name for what was typed: ``verify-log`` is ``verify_log``, unless
    a command of that very name exists."""
    if "-" not in typed or typed in get_commands():
        return typed
    underscored = typed.replace("-", "_")
    return underscored if underscored in get_commands() else typed


class Utility(ManagementUtility):
    def fetch_command(self, subcommand: str) -> BaseCommand:
        return super().fetch_command(command_name(subcommand))


def main() -> None:
    # Before anything is created: the database, its WAL and var/ are the owner's alone.
    private_files()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuidang.config.settings")
    Utility(sys.argv).execute()


if __name__ == "__main__":
    main()
