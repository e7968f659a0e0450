"""OCPI 2.2.1 object models (pydantic v2) for every module volthub speaks, plus PATCH validation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

# The OCPI Tariff model and its shared types are reused as they are (and re-exported).
from volthub.domain.tariffs import TIME_OF_DAY_PATTERN, Number
from volthub.domain.tariffs import DisplayText as DisplayText
from volthub.domain.tariffs import Price as Price
from volthub.domain.tariffs import Tariff as Tariff

# --- primitive types (types.asciidoc) ------------------------------------------------------

# types §CiString: case-insensitive, "only printable ASCII allowed" (no CR, tab, line break).
CiString = Annotated[str, StringConstraints(pattern=r"^[\x20-\x7E]*$")]
# types §string: case-sensitive, "only printable UTF-8 allowed" (no control characters).
String = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1F\x7F-\x9F]*$")]
# types §URL: string(255); a URL never holds whitespace or non-ASCII characters.
Url = Annotated[str, StringConstraints(max_length=255, pattern=r"^[!-~]+$")]
# country_code is CiString(2) (ISO 3166 alpha-2), party_id CiString(3) (ISO 15118 party id).
CountryCode = Annotated[CiString, StringConstraints(min_length=2, max_length=2)]
PartyId = Annotated[CiString, StringConstraints(min_length=3, max_length=3)]
CiString36 = Annotated[CiString, StringConstraints(max_length=36)]
CustomModuleID = Annotated[CiString, StringConstraints(min_length=1)]
# ISO 4217 currency and ISO 3166-1 alpha-3 country, both string(3).
CURRENCY_PATTERN: Final = r"^[A-Z]{3}$"
COUNTRY_ALPHA3_PATTERN: Final = r"^[A-Z]{3}$"
LATITUDE_PATTERN: Final = r"^-?[0-9]{1,2}\.[0-9]{5,7}$"
LONGITUDE_PATTERN: Final = r"^-?[0-9]{1,3}\.[0-9]{5,7}$"

# JSON `int` and `boolean`: no coercion from strings ("16") or floats (16.0) from partners.
Int = StrictInt
Bool = StrictBool


def _json_number(value: object) -> object:
    """types §number is a JSON number: refuse strings ("2.50") and booleans."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a JSON number")
    return value


# OCPI `number`: volthub's Decimal-backed Number (domain.tariffs), refusing non-numbers on input.
Num = Annotated[Number, BeforeValidator(_json_number)]

_HAS_TIME = re.compile(r"^\d{4}-?\d{2}-?\d{2}[Tt ]\d{2}")


def parse_ocpi_datetime(value: object) -> datetime:
    """Any ISO 8601 date-time; naive means UTC (types §DateTime), an offset is converted to UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        if not _HAS_TIME.match(value):
            raise ValueError("must be an ISO 8601 date and time, e.g. 2015-06-29T20:39:09Z")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "must be an ISO 8601 date and time, e.g. 2015-06-29T20:39:09Z") from None
    else:
        raise ValueError("must be an ISO 8601 date-time string")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_ocpi_datetime(value: datetime) -> str:
    """UTC with `Z` (types §DateTime: "+00:00 is not the same as UTC"); milliseconds if any."""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = utc.replace(microsecond=0, tzinfo=None).isoformat()
    millis = utc.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


# types §DateTime. Held as an aware UTC datetime; written as YYYY-MM-DDTHH:MM:SS[.fff]Z
# (sub-millisecond digits are dropped on the wire, which keeps the value within string(25)).
OcpiDateTime = Annotated[
    datetime,
    BeforeValidator(parse_ocpi_datetime),
    PlainSerializer(format_ocpi_datetime, return_type=str, when_used="json"),
]


class OcpiModel(BaseModel):
    """Base of the OCPI objects: lenient on unknown fields, strict on the ones OCPI defines.

    Unknown fields are ignored. OCPI 2.2.1 has no clause on unknown JSON fields (neither
    transport_and_format nor types says a receiver must reject or must ignore them); the closest
    text is version_information_endpoint §Custom Modules ("Parties are allowed to create custom
    modules or customized versions of the existing modules"), and transport_and_format §GET
    asks clients to process what is correct rather than give up. Ignoring them is therefore a
    volthub robustness policy that the spec permits, not a rule it states. Note that the reused
    tariff models (Tariff, Price, DisplayText in volthub.domain.tariffs) forbid unknown fields.

    Optional fields default to None (transport_and_format §PUT: "Optional fields that are not
    included will revert to their default value which is either specified in the protocol or
    NULL"), so `model_dump(mode="json", exclude_none=True)` writes back what was received.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


# --- enums ---------------------------------------------------------------------------------


class Role(StrEnum):
    """types §Role."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class VersionNumber(StrEnum):
    V2_0 = "2.0"
    V2_1 = "2.1"  # deprecated
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"  # deprecated
    V2_2_1 = "2.2.1"


class ModuleID(StrEnum):
    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class InterfaceRole(StrEnum):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class Capability(StrEnum):
    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CHARGING_PREFERENCES_CAPABLE = "CHARGING_PREFERENCES_CAPABLE"
    CHIP_CARD_SUPPORT = "CHIP_CARD_SUPPORT"
    CONTACTLESS_CARD_SUPPORT = "CONTACTLESS_CARD_SUPPORT"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    DEBIT_CARD_PAYABLE = "DEBIT_CARD_PAYABLE"
    PED_TERMINAL = "PED_TERMINAL"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    START_SESSION_CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"
    TOKEN_GROUP_CAPABLE = "TOKEN_GROUP_CAPABLE"
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ConnectorFormat(StrEnum):
    SOCKET = "SOCKET"
    CABLE = "CABLE"


class ConnectorType(StrEnum):
    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    IEC_60309_2_single_16 = "IEC_60309_2_single_16"
    IEC_60309_2_three_16 = "IEC_60309_2_three_16"
    IEC_60309_2_three_32 = "IEC_60309_2_three_32"
    IEC_60309_2_three_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class EnergySourceCategory(StrEnum):
    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(StrEnum):
    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


class Facility(StrEnum):
    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BIKE_SHARING = "BIKE_SHARING"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAM_STOP = "TRAM_STOP"
    METRO_STATION = "METRO_STATION"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    PARKING_LOT = "PARKING_LOT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class ImageCategory(StrEnum):
    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


class ParkingRestriction(StrEnum):
    EV_ONLY = "EV_ONLY"
    PLUGGED = "PLUGGED"
    DISABLED = "DISABLED"
    CUSTOMERS = "CUSTOMERS"
    MOTORCYCLES = "MOTORCYCLES"


class ParkingType(StrEnum):
    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class PowerType(StrEnum):
    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class Status(StrEnum):
    """mod_locations §Status: the status of an EVSE."""

    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class WhitelistType(StrEnum):
    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class AllowedType(StrEnum):
    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class ProfileType(StrEnum):
    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class ChargingPreferencesResponse(StrEnum):
    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


class AuthMethod(StrEnum):
    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    CURRENT = "CURRENT"  # Sessions only
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"  # Sessions only
    ENERGY_IMPORT = "ENERGY_IMPORT"  # Sessions only
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"  # Sessions only
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"  # Sessions only
    TIME = "TIME"


# mod_cdrs §CdrDimensionType: these "SHALL therefor only be used in Sessions".
SESSION_ONLY_DIMENSIONS: Final = frozenset({
    CdrDimensionType.CURRENT, CdrDimensionType.ENERGY_EXPORT, CdrDimensionType.ENERGY_IMPORT,
    CdrDimensionType.POWER, CdrDimensionType.STATE_OF_CHARGE,
})


class CommandType(StrEnum):
    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CommandResponseType(StrEnum):
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


class ChargingRateUnit(StrEnum):
    W = "W"
    A = "A"


class ChargingProfileResponseType(StrEnum):
    ACCEPTED = "ACCEPTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TOO_OFTEN = "TOO_OFTEN"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class ChargingProfileResultType(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


# --- versions (version_information_endpoint) -----------------------------------------------


class Version(OcpiModel):
    version: VersionNumber
    url: Url


class Endpoint(OcpiModel):
    # §Custom Modules: "the ModuleID enum can be extended with additional custom moduleIDs"
    # (e.g. "nltnm-tokens"), so an identifier outside ModuleID is kept as a plain string.
    identifier: ModuleID | CustomModuleID = Field(union_mode="left_to_right")
    role: InterfaceRole
    url: Url


class VersionDetails(OcpiModel):
    version: VersionNumber
    endpoints: list[Endpoint] = Field(min_length=1)


# --- locations (mod_locations) -------------------------------------------------------------


class Image(OcpiModel):
    url: Url
    thumbnail: Url | None = None
    category: ImageCategory
    type: CiString = Field(max_length=4)
    width: Int | None = Field(default=None, ge=0, le=99999)  # int(5)
    height: Int | None = Field(default=None, ge=0, le=99999)  # int(5)


class BusinessDetails(OcpiModel):
    name: String = Field(max_length=100)
    website: Url | None = None
    logo: Image | None = None


class GeoLocation(OcpiModel):
    latitude: str = Field(max_length=10, pattern=LATITUDE_PATTERN)
    longitude: str = Field(max_length=11, pattern=LONGITUDE_PATTERN)


class AdditionalGeoLocation(OcpiModel):
    latitude: str = Field(max_length=10, pattern=LATITUDE_PATTERN)
    longitude: str = Field(max_length=11, pattern=LONGITUDE_PATTERN)
    name: DisplayText | None = None


class PublishTokenType(OcpiModel):
    uid: CiString | None = Field(default=None, max_length=36)
    type: TokenType | None = None
    visual_number: String | None = Field(default=None, max_length=64)
    issuer: String | None = Field(default=None, max_length=64)
    group_id: CiString | None = Field(default=None, max_length=36)

    @model_validator(mode="after")
    def _identifies_a_token(self) -> PublishTokenType:
        # mod_locations §PublishTokenType: three SHALL rules on which fields go together.
        if self.uid is None and self.visual_number is None and self.group_id is None:
            raise ValueError("at least one of uid, visual_number or group_id SHALL be set")
        if self.uid is not None and self.type is None:
            raise ValueError("when uid is set, type SHALL also be set")
        if self.visual_number is not None and self.issuer is None:
            raise ValueError("when visual_number is set, issuer SHALL also be set")
        return self


class EnergySource(OcpiModel):
    source: EnergySourceCategory
    percentage: Num = Field(ge=0, le=100)


class EnvironmentalImpact(OcpiModel):
    category: EnvironmentalImpactCategory
    amount: Num


class EnergyMix(OcpiModel):
    is_green_energy: Bool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String | None = Field(default=None, max_length=64)
    energy_product_name: String | None = Field(default=None, max_length=64)


class RegularHours(OcpiModel):
    weekday: Int = Field(ge=1, le=7)  # int(1): Monday (1) till Sunday (7)
    period_begin: str = Field(max_length=5, pattern=TIME_OF_DAY_PATTERN)
    period_end: str = Field(max_length=5, pattern=TIME_OF_DAY_PATTERN)

    @model_validator(mode="after")
    def _end_after_begin(self) -> RegularHours:
        # "HH:MM" strings compare in time order; period_end "Must be later than period_begin".
        if self.period_end <= self.period_begin:
            raise ValueError("period_end must be later than period_begin")
        return self


class ExceptionalPeriod(OcpiModel):
    period_begin: OcpiDateTime
    period_end: OcpiDateTime


class Hours(OcpiModel):
    twentyfourseven: Bool
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _regular_hours_iff_not_247(self) -> Hours:
        # regular_hours: "Only to be used if twentyfourseven=false, then this field needs to
        # contain at least one RegularHours object."
        if self.twentyfourseven and self.regular_hours:
            raise ValueError("regular_hours is only to be used when twentyfourseven is false")
        if not self.twentyfourseven and not self.regular_hours:
            raise ValueError("regular_hours needs at least one entry when twentyfourseven is false")
        return self


class StatusSchedule(OcpiModel):
    period_begin: OcpiDateTime
    period_end: OcpiDateTime | None = None
    status: Status


class Connector(OcpiModel):
    id: CiString = Field(max_length=36)
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: Int
    max_amperage: Int
    max_electric_power: Int | None = None
    tariff_ids: list[CiString36] | None = None
    terms_and_conditions: Url | None = None
    last_updated: OcpiDateTime


class EVSE(OcpiModel):
    uid: CiString = Field(max_length=36)
    evse_id: CiString | None = Field(default=None, max_length=48)
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    connectors: list[Connector] = Field(min_length=1)
    floor_level: String | None = Field(default=None, max_length=4)
    coordinates: GeoLocation | None = None
    physical_reference: String | None = Field(default=None, max_length=16)
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: OcpiDateTime


class Location(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: CiString = Field(max_length=36)
    publish: Bool
    publish_allowed_to: list[PublishTokenType] | None = None
    name: String | None = Field(default=None, max_length=255)
    # 255 and 45: the d2 text notes that earlier releases wrongly gave 45 and 20 for these two.
    address: String = Field(max_length=255)
    city: String = Field(max_length=45)
    postal_code: String | None = Field(default=None, max_length=10)
    state: String | None = Field(default=None, max_length=45)
    country: str = Field(max_length=3, pattern=COUNTRY_ALPHA3_PATTERN)
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: String = Field(max_length=255)
    opening_times: Hours | None = None
    charging_when_closed: Bool | None = None  # absent means the spec default: true
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: OcpiDateTime

    @model_validator(mode="after")
    def _publish_allowed_to_only_unpublished(self) -> Location:
        # publish_allowed_to: "This field may only be used when the publish field is set to
        # false."
        if self.publish and self.publish_allowed_to:
            raise ValueError("publish_allowed_to may only be used when publish is false")
        return self


# --- tokens (mod_tokens) -------------------------------------------------------------------


class EnergyContract(OcpiModel):
    supplier_name: String = Field(max_length=64)
    contract_id: String | None = Field(default=None, max_length=64)


class Token(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    uid: CiString = Field(max_length=36)
    type: TokenType
    contract_id: CiString = Field(max_length=36)
    visual_number: String | None = Field(default=None, max_length=64)
    issuer: String = Field(max_length=64)
    group_id: CiString | None = Field(default=None, max_length=36)
    valid: Bool
    whitelist: WhitelistType
    language: String | None = Field(default=None, min_length=2, max_length=2)  # ISO 639-1
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: OcpiDateTime


class LocationReferences(OcpiModel):
    location_id: CiString = Field(max_length=36)
    evse_uids: list[CiString36] | None = None


class AuthorizationInfo(OcpiModel):
    allowed: AllowedType
    token: Token
    location: LocationReferences | None = None
    authorization_reference: CiString | None = Field(default=None, max_length=36)
    info: DisplayText | None = None


# --- sessions and CDRs (mod_sessions, mod_cdrs) --------------------------------------------


class CdrToken(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    uid: CiString = Field(max_length=36)
    type: TokenType
    contract_id: CiString = Field(max_length=36)


class CdrDimension(OcpiModel):
    type: CdrDimensionType
    volume: Num


class ChargingPeriod(OcpiModel):
    start_date_time: OcpiDateTime
    dimensions: list[CdrDimension] = Field(min_length=1)
    tariff_id: CiString | None = Field(default=None, max_length=36)


class Session(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: CiString = Field(max_length=36)
    start_date_time: OcpiDateTime
    end_date_time: OcpiDateTime | None = None
    kwh: Num
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString | None = Field(default=None, max_length=36)
    location_id: CiString = Field(max_length=36)
    evse_uid: CiString = Field(max_length=36)  # may be "#NA" for a reservation
    connector_id: CiString = Field(max_length=36)  # may be "#NA" for a reservation
    meter_id: String | None = Field(default=None, max_length=255)
    currency: str = Field(max_length=3, pattern=CURRENCY_PATTERN)
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
    status: SessionStatus
    last_updated: OcpiDateTime


class ChargingPreferences(OcpiModel):
    profile_type: ProfileType
    departure_time: OcpiDateTime | None = None
    energy_need: Num | None = None
    discharge_allowed: Bool | None = None  # absent means the spec default: false


class CdrLocation(OcpiModel):
    id: CiString = Field(max_length=36)
    name: String | None = Field(default=None, max_length=255)
    address: String = Field(max_length=45)  # string(45) here, string(255) in Location
    city: String = Field(max_length=45)
    postal_code: String | None = Field(default=None, max_length=10)
    state: String | None = Field(default=None, max_length=20)
    country: str = Field(max_length=3, pattern=COUNTRY_ALPHA3_PATTERN)
    coordinates: GeoLocation
    evse_uid: CiString = Field(max_length=36)
    evse_id: CiString = Field(max_length=48)
    connector_id: CiString = Field(max_length=36)
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class SignedValue(OcpiModel):
    nature: CiString = Field(max_length=32)
    plain_data: String = Field(max_length=5000)
    signed_data: String = Field(max_length=5000)


class SignedData(OcpiModel):
    encoding_method: CiString = Field(max_length=36)
    encoding_method_version: Int | None = None
    public_key: String | None = Field(default=None, max_length=512)
    signed_values: list[SignedValue] = Field(min_length=1)
    # The table links CiString but prints "string(512)"; a URL, read as string(512).
    url: String | None = Field(default=None, max_length=512)


class TotalCost(OcpiModel):
    """OCPI Price as used in CDR.total_cost, where amounts may be negative.

    volthub's tariffs.Price refuses negative amounts, but mod_cdrs §Credit CDRs: "Only the
    values in the total_cost field SHALL contain the negative amounts of the original CDR".
    """

    excl_vat: Num
    incl_vat: Num | None = None


class CDR(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: CiString = Field(max_length=39)  # 39 only for credit CDRs, otherwise 36 (checked below)
    start_date_time: OcpiDateTime
    end_date_time: OcpiDateTime
    session_id: CiString | None = Field(default=None, max_length=36)
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString | None = Field(default=None, max_length=36)
    cdr_location: CdrLocation
    meter_id: String | None = Field(default=None, max_length=255)
    currency: str = Field(max_length=3, pattern=CURRENCY_PATTERN)
    tariffs: list[Tariff] | None = None
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    signed_data: SignedData | None = None
    total_cost: TotalCost
    total_fixed_cost: Price | None = None
    total_energy: Num
    total_energy_cost: Price | None = None
    total_time: Num
    total_time_cost: Price | None = None
    total_parking_time: Num | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: String | None = Field(default=None, max_length=255)
    invoice_reference_id: CiString | None = Field(default=None, max_length=39)
    credit: Bool | None = None
    credit_reference_id: CiString | None = Field(default=None, max_length=39)
    home_charging_compensation: Bool | None = None
    last_updated: OcpiDateTime

    @model_validator(mode="after")
    def _cdr_rules(self) -> CDR:
        if self.credit and self.credit_reference_id is None:
            raise ValueError("a Credit CDR (credit=true) needs credit_reference_id")
        if not self.credit and len(self.id) > 36:
            raise ValueError("a normal (non-credit) CDR id SHALL be at most 36 characters")
        for period in self.charging_periods:
            for dimension in period.dimensions:
                if dimension.type in SESSION_ONLY_DIMENSIONS:
                    raise ValueError(f"dimension {dimension.type} SHALL only be used in Sessions")
        return self


# --- credentials and hub client info (credentials, mod_hub_client_info) --------------------


class CredentialsRole(OcpiModel):
    role: Role
    business_details: BusinessDetails
    party_id: PartyId
    country_code: CountryCode


class Credentials(OcpiModel):
    # "It should only contain printable non-whitespace ASCII characters" (U+0021..U+007E): it
    # travels in the Authorization header, so volthub enforces it.
    token: str = Field(max_length=64, pattern=r"^[!-~]+$")
    url: Url
    roles: list[CredentialsRole] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_roles(self) -> Credentials:
        # "Every role needs a unique combination of: role, party_id and country_code"
        # (party_id and country_code are CiStrings: compared case-insensitively).
        seen = set()
        for entry in self.roles:
            key = (entry.role, entry.party_id.upper(), entry.country_code.upper())
            if key in seen:
                raise ValueError(f"duplicate role {key[0]} {key[2]}/{key[1]}")
            seen.add(key)
        return self


class ClientInfo(OcpiModel):
    party_id: PartyId
    country_code: CountryCode
    role: Role
    status: ConnectionStatus
    last_updated: OcpiDateTime


# --- commands (mod_commands) ---------------------------------------------------------------


class CancelReservation(OcpiModel):
    response_url: Url
    reservation_id: CiString = Field(max_length=36)


class CommandResponse(OcpiModel):
    result: CommandResponseType
    timeout: Int
    message: list[DisplayText] | None = None


class CommandResult(OcpiModel):
    result: CommandResultType
    message: list[DisplayText] | None = None


class ReserveNow(OcpiModel):
    response_url: Url
    token: Token
    expiry_date: OcpiDateTime
    reservation_id: CiString = Field(max_length=36)
    location_id: CiString = Field(max_length=36)
    evse_uid: CiString | None = Field(default=None, max_length=36)
    authorization_reference: CiString | None = Field(default=None, max_length=36)


class StartSession(OcpiModel):
    response_url: Url
    token: Token
    location_id: CiString = Field(max_length=36)
    evse_uid: CiString | None = Field(default=None, max_length=36)
    connector_id: CiString | None = Field(default=None, max_length=36)
    authorization_reference: CiString | None = Field(default=None, max_length=36)

    @model_validator(mode="after")
    def _evse_for_connector(self) -> StartSession:
        # evse_uid: "Required when connector_id is set."
        if self.connector_id is not None and self.evse_uid is None:
            raise ValueError("evse_uid is required when connector_id is set")
        return self


class StopSession(OcpiModel):
    response_url: Url
    session_id: CiString = Field(max_length=36)


class UnlockConnector(OcpiModel):
    response_url: Url
    location_id: CiString = Field(max_length=36)
    evse_uid: CiString = Field(max_length=36)
    connector_id: CiString = Field(max_length=36)


# --- charging profiles (mod_charging_profiles) ---------------------------------------------


class ChargingProfilePeriod(OcpiModel):
    start_period: Int
    limit: Num = Field(decimal_places=1)  # "Accepts at most one digit fraction (e.g. 8.1)"


class ChargingProfile(OcpiModel):
    start_date_time: OcpiDateTime | None = None
    duration: Int | None = None
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: Num | None = Field(default=None, decimal_places=1)
    charging_profile_period: list[ChargingProfilePeriod] | None = None


class ActiveChargingProfile(OcpiModel):
    start_date_time: OcpiDateTime
    charging_profile: ChargingProfile


class SetChargingProfile(OcpiModel):
    charging_profile: ChargingProfile
    response_url: Url


class ChargingProfileResponse(OcpiModel):
    result: ChargingProfileResponseType
    timeout: Int


class ActiveChargingProfileResult(OcpiModel):
    result: ChargingProfileResultType
    profile: ActiveChargingProfile | None = None


class ChargingProfileResult(OcpiModel):
    result: ChargingProfileResultType


class ClearProfileResult(OcpiModel):
    result: ChargingProfileResultType


# --- PATCH bodies --------------------------------------------------------------------------


@cache
def _field_adapter(model_cls: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """A validator for one field of a model: its type and Field constraints, not its default."""
    info = model_cls.model_fields[name]
    field_type: Any = info.annotation
    if info.metadata:
        field_type = Annotated[(field_type, *info.metadata)]
    return TypeAdapter(field_type)


def validate_patch(model_cls: type[BaseModel], data: Mapping[str, Any], *,
                   require_last_updated: bool = True) -> dict[str, Any]:
    """Validate a PATCH body: each given field against `model_cls`'s type for that field.

    transport_and_format §PATCH: only the fields to be updated are present, "Any fields (both
    required or optional) that are left out remain unchanged", so absent required fields are
    not an error. A given field is checked exactly as in a full object (type, enum, length,
    nested objects; `null` only where the field is optional). Unknown fields follow the model's
    `extra` policy: dropped for the OCPI models, an error for the (forbidding) tariff models.
    Cross-field rules (model validators) need the whole object and are not applied here; apply
    the patch to the stored object and validate the result for those.

    mod_locations, mod_sessions and mod_tokens §PATCH: "Any request to the PATCH method SHALL
    contain the last_updated field" -- enforced unless `require_last_updated` is false (for
    validating a fragment of an object rather than a PATCH body).

    Returns the parsed values (models, enums, aware datetimes, Decimals) keyed by field name;
    raises pydantic.ValidationError listing every problem, located by field name.
    """
    title = f"{model_cls.__name__} (PATCH)"
    if not isinstance(data, Mapping):
        raise ValidationError.from_exception_data(
            title, [InitErrorDetails(type="dict_type", loc=(), input=data)])
    fields = model_cls.model_fields
    forbid = model_cls.model_config.get("extra") == "forbid"
    errors: list[InitErrorDetails] = []
    parsed: dict[str, Any] = {}
    for name, value in data.items():
        if name not in fields:
            if forbid:
                errors.append(InitErrorDetails(type="extra_forbidden", loc=(name,), input=value))
            continue
        try:
            parsed[name] = _field_adapter(model_cls, name).validate_python(value)
        except ValidationError as exc:
            for err in exc.errors():
                detail = InitErrorDetails(type=err["type"], loc=(name, *err["loc"]),
                                          input=err["input"])
                if "ctx" in err:
                    detail["ctx"] = err["ctx"]
                errors.append(detail)
    if require_last_updated and "last_updated" in fields and "last_updated" not in data:
        errors.append(InitErrorDetails(type="missing", loc=("last_updated",), input=dict(data)))
    if errors:
        raise ValidationError.from_exception_data(title, errors)
    return parsed


def dump_patch(model_cls: type[BaseModel], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON form of a validated PATCH body (as returned by validate_patch)."""
    return {name: _field_adapter(model_cls, name).dump_python(value, mode="json",
                                                             exclude_none=True)
            for name, value in patch.items()}
