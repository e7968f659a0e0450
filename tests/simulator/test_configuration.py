"""The configuration store: reading, changing with the 1.6 status rules, and validation."""

from volthub.simulator.configuration import (
    ChangeStatus,
    ConfigKey,
    ConfigStore,
    KeyValue,
    default_v16_configuration,
    integer,
)


def v16(password: str | None = None) -> ConfigStore:
    return default_v16_configuration(
        connector_count=2, heartbeat_interval_s=300, meter_interval_s=10, authorization_key_value=password
    )


def test_reading_without_keys_lists_every_key() -> None:
    known, unknown = v16().read()
    names = {kv.key for kv in known}
    assert unknown == []
    # The keys 1.6 §9 marks required for the profiles the station announces.
    for required in (
        "AuthorizeRemoteTxRequests",
        "ClockAlignedDataInterval",
        "ConnectionTimeOut",
        "GetConfigurationMaxKeys",
        "HeartbeatInterval",
        "MeterValuesSampledData",
        "MeterValueSampleInterval",
        "NumberOfConnectors",
        "StopTxnSampledData",
        "SupportedFeatureProfiles",
        "LocalAuthListMaxLength",
        "ChargeProfileMaxStackLevel",
        "ChargingScheduleAllowedChargingRateUnit",
        "ChargingScheduleMaxPeriods",
        "MaxChargingProfilesInstalled",
    ):
        assert required in names


def test_reading_named_keys_splits_known_and_unknown_case_insensitively() -> None:
    known, unknown = v16().read(["heartbeatinterval", "NoSuchKey"])
    assert known == [KeyValue("HeartbeatInterval", False, "300")]
    assert unknown == ["NoSuchKey"]


def test_unknown_keys_are_cut_to_the_schema_length() -> None:
    _, unknown = v16().read(["K" * 80])
    assert unknown == ["K" * 50]


def test_a_valid_change_is_accepted_and_stored() -> None:
    config = v16()
    assert config.change("MeterValueSampleInterval", "30") is ChangeStatus.ACCEPTED
    assert config.get_int("MeterValueSampleInterval", 0) == 30


def test_unknown_keys_are_not_supported_and_read_only_keys_rejected() -> None:
    config = v16()
    assert config.change("NoSuchKey", "1") is ChangeStatus.NOT_SUPPORTED
    assert config.change("NumberOfConnectors", "5") is ChangeStatus.REJECTED
    assert config.get("NumberOfConnectors") == "2"


def test_out_of_range_or_malformed_values_are_rejected_unchanged() -> None:
    config = v16()
    assert config.change("HeartbeatInterval", "-5") is ChangeStatus.REJECTED
    assert config.change("HeartbeatInterval", "soon") is ChangeStatus.REJECTED
    assert config.change("StopTransactionOnInvalidId", "maybe") is ChangeStatus.REJECTED
    assert config.get("HeartbeatInterval") == "300"


def test_booleans_are_normalised() -> None:
    config = v16()
    assert config.change("LocalPreAuthorize", "TRUE") is ChangeStatus.ACCEPTED
    assert config.get("LocalPreAuthorize") == "true"
    assert config.get_bool("LocalPreAuthorize", False) is True


def test_a_measurand_list_with_one_unsupported_entry_is_rejected_whole() -> None:
    config = v16()
    before = config.get("MeterValuesSampledData")
    assert (
        config.change("MeterValuesSampledData", "Energy.Active.Import.Register,RPM") is ChangeStatus.REJECTED
    )
    assert config.get("MeterValuesSampledData") == before
    assert config.change("MeterValuesSampledData", "power.active.import, SoC") is ChangeStatus.ACCEPTED
    assert config.get_list("MeterValuesSampledData") == ["Power.Active.Import", "SoC"]


def test_the_authorization_key_is_write_only() -> None:
    config = v16("an-initial-secret-key")
    known, _ = config.read(["AuthorizationKey"])
    assert known == [KeyValue("AuthorizationKey", False, None)]
    assert config.change("AuthorizationKey", "short") is ChangeStatus.REJECTED
    assert config.change("AuthorizationKey", "0123456789abcdef0123") is ChangeStatus.ACCEPTED
    assert config.get("AuthorizationKey") == "0123456789abcdef0123"


def test_the_security_profile_only_goes_up_and_only_to_basic_auth() -> None:
    without_key = v16()
    assert without_key.change("SecurityProfile", "1") is ChangeStatus.REJECTED
    with_key = v16("an-initial-secret-key")
    assert with_key.get("SecurityProfile") == "1"
    assert with_key.change("SecurityProfile", "0") is ChangeStatus.REJECTED
    assert with_key.change("SecurityProfile", "2") is ChangeStatus.REJECTED  # needs TLS
    no_profile = v16()
    no_profile.set("AuthorizationKey", "an-initial-secret-key")
    assert no_profile.change("SecurityProfile", "1") is ChangeStatus.ACCEPTED


def test_reboot_required_keys_say_so() -> None:
    assert v16().change("WebSocketPingInterval", "30") is ChangeStatus.REBOOT_REQUIRED


def test_listeners_hear_accepted_changes_only() -> None:
    config = ConfigStore([ConfigKey("Interval", "1", validate=integer(1, 10))])
    heard: list[tuple[str, str]] = []
    config.on_change(lambda name, value: heard.append((name, value)))
    config.change("interval", "5")
    config.change("Interval", "50")
    assert heard == [("Interval", "5")]
