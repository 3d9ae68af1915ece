from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    """The refusals are read in English here, whatever language a page before left active."""
    with translation.override("en"):
        yield
