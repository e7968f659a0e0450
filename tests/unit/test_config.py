"""Settings from environment and flags."""

from __future__ import annotations

import pytest

from volthub.config import Settings
from volthub.domain.enums import Admission


def test_env_then_flags() -> None:
    env = {"VOLTHUB_PORT": "9000", "VOLTHUB_STATION_ADMISSION": "Pending",
           "VOLTHUB_CALL_TIMEOUT_S": "2.5", "VOLTHUB_LOG_JSON": "false"}
    settings = Settings.from_env(env, port=None, host="0.0.0.0")
    assert settings.port == 9000 and settings.host == "0.0.0.0"
    assert settings.station_admission is Admission.PENDING
    assert settings.call_timeout_s == 2.5 and settings.log_json is False
    assert Settings.from_env(env, port=7000).port == 7000


def test_bad_admission_names_the_variable() -> None:
    with pytest.raises(ValueError, match="VOLTHUB_STATION_ADMISSION"):
        Settings.from_env({"VOLTHUB_STATION_ADMISSION": "maybe"})
