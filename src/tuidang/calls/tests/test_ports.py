"""The provider port: the provider is a class named in the settings."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings

from tuidang.calls.ports import LegOutcome, voice_provider


class RecordingProvider:
    """A provider that only remembers what it was asked."""

    asked: list[tuple[str, dict[str, object]]] = []

    def ring_offer(self, **kwargs: object) -> str:
        self.asked.append(("ring_offer", kwargs))
        return "LEG1"

    def hang_up(self, **kwargs: object) -> None:
        self.asked.append(("hang_up", kwargs))


def test_the_provider_is_the_class_the_settings_name(settings: Settings) -> None:
    settings.TELEPHONY_PROVIDER_CLASS = f"{__name__}.RecordingProvider"
    provider = voice_provider()
    assert isinstance(provider, RecordingProvider)


def test_an_unknown_provider_class_is_an_error(settings: Settings) -> None:
    settings.TELEPHONY_PROVIDER_CLASS = "tuidang.nowhere.Provider"
    with pytest.raises(ImportError):
        voice_provider()


def test_no_provider_chosen_is_an_error_that_says_how_to_choose(settings: Settings) -> None:
    settings.TELEPHONY_PROVIDER_CLASS = ""
    with pytest.raises(ImproperlyConfigured, match="set TELEPHONY_PROVIDER to twilio or telnyx"):
        voice_provider()


def test_ended_outcomes_are_those_after_which_a_leg_is_gone() -> None:
    ended = {outcome for outcome in LegOutcome if outcome.ended}
    assert ended == {
        LegOutcome.COMPLETED,
        LegOutcome.BUSY,
        LegOutcome.NO_ANSWER,
        LegOutcome.FAILED,
        LegOutcome.CANCELED,
    }
