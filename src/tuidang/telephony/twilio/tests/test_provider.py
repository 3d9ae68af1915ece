"""Twilio as the calls domain's provider: chosen by the settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings


@pytest.mark.parametrize(
    ("named", "loaded"),
    [
        ("twilio", "tuidang.telephony.twilio.client.TwilioProvider"),
        ("simulated", "tuidang.telephony.simulator.provider.SimulatedProvider"),
        ("example.voice.Provider", "example.voice.Provider"),
    ],
)
def test_telephony_provider_names_the_class_by_name_or_by_dotted_path(
    tmp_path: Path, named: str, loaded: str
) -> None:
    probe = "from tuidang.config import settings; print(settings.TELEPHONY_PROVIDER_CLASS)"
    env = dict(os.environ, VAR_DIR=str(tmp_path), TELEPHONY_PROVIDER=named)
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == loaded


def test_the_named_classes_load(settings: Settings) -> None:
    from tuidang.calls.ports import voice_provider

    for path in settings.TELEPHONY_PROVIDERS.values():
        settings.TELEPHONY_PROVIDER_CLASS = path
        assert type(voice_provider()).__name__ in path
