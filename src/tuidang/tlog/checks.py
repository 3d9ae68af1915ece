"""The witnesses' settings are checked when the hotline starts, not when a page needs them."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def check_witnesses(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from tuidang.tlog.witnessing import configured_witnesses, witness_quorum

    try:
        witness_quorum(configured_witnesses())
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="tuidang.E101")]
    return []
