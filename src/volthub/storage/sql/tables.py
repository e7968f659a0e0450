"""SQLAlchemy Core table definitions; Alembic migrations must match them (a test checks)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

class UtcDateTimeType(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC: SQLite keeps no offset, so 10:00+01:00 must become 09:00Z."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


UtcDateTime = UtcDateTimeType()
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

locations = Table(
    "locations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("address", String(255), nullable=False),
    Column("city", String(64), nullable=False),
    Column("postal_code", String(16)),
    Column("country", String(3), nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("time_zone", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

stations = Table(
    "stations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("registration_status", String(16), nullable=False),
    Column("security_profile", Integer, nullable=False, default=0),
    Column("password_hash", String(255)),
    Column("ocpp_version", String(8)),
    Column("vendor", String(50)),
    Column("model", String(50)),
    Column("serial_number", String(50)),
    Column("firmware_version", String(50)),
    Column("charge_box_serial_number", String(50)),
    Column("iccid", String(20)),
    Column("imsi", String(20)),
    Column("meter_type", String(25)),
    Column("meter_serial_number", String(25)),
    Column("location_id", String(36), ForeignKey("locations.id", ondelete="SET NULL")),
    Column("last_seen", UtcDateTime),
    Column("last_boot_at", UtcDateTime),
    Column("local_list_version", Integer, nullable=False, default=0),
    Column("configuration", JSON),
    Column("configuration_at", UtcDateTime),
    Column("firmware_status", String(40)),
    Column("diagnostics_status", String(40)),
    Column("log_status", String(40)),
    Column("publish_firmware_status", String(40)),
    Column("boot_reason", String(40)),
    Column("created_at", UtcDateTime, nullable=False),
)

connectors = Table(
    "connectors",
    metadata,
    Column(
        "station_id",
        String(64),
        ForeignKey("stations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("evse_id", Integer, primary_key=True),
    Column("connector_id", Integer, primary_key=True),
    Column("status", String(20)),
    Column("error_code", String(50)),
    Column("info", String(50)),
    Column("vendor_id", String(255)),
    Column("vendor_error_code", String(50)),
    Column("status_at", UtcDateTime),
    Column("standard", String(40)),
    Column("format", String(16)),
    Column("power_type", String(16)),
    Column("max_voltage", Integer),
    Column("max_amperage", Integer),
    Column("max_electric_power", Integer),
)

id_tokens = Table(
    "id_tokens",
    metadata,
    Column("id_token", String(255), primary_key=True),
    Column("type", String(20), nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", UtcDateTime),
    Column("group_id", String(255)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", String(64), nullable=False),
    Column("station_transaction_id", String(64), nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("id_token", String(255)),
    Column("auth_status", String(16)),
    Column("status", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("stopped_at", UtcDateTime),
    Column("meter_start_wh", BigInteger),
    Column("meter_stop_wh", BigInteger),
    Column("energy_wh", BigInteger),
    Column("stop_reason", String(32)),
    Column("stop_id_token", String(255)),
    Column("reservation_id", BigInteger),
    # Identity of a 1.6 StartTransaction (connector, meterStart, timestamp, idTag): a repeated
    # StartTransaction must get the same transactionId back.
    Column("start_key", String(255)),
    # OCPP 2.x TransactionEvent facts (E01-E15): correlation and the latest reported state.
    Column("remote_start_id", BigInteger),
    Column("id_token_type", String(20)),
    Column("charging_state", String(20)),
    Column("trigger_reason", String(40)),
    Column("number_of_phases", Integer),
    Column("cable_max_current_a", Integer),
    Column("offline", Boolean, nullable=False, default=False),
    Column("last_seq_no", Integer),
    UniqueConstraint("station_id", "station_transaction_id", name="uq_transactions_station_ref"),
    UniqueConstraint("station_id", "start_key", name="uq_transactions_start_key"),
    Index("ix_transactions_status_station", "status", "station_id"),
)

meter_values = Table(
    "meter_values",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", String(64), nullable=False),
    Column("transaction_id", BigInteger),
    Column("evse_id", Integer, nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("measurand", String(64), nullable=False),
    Column("phase", String(8)),
    Column("location", String(8)),
    Column("context", String(32)),
    Column("unit", String(16)),
    Column("value", Float),  # NULL when the value is not a number (signed data)
    Column("raw_value", Text, nullable=False),
    Column("format", String(16)),
    Column("signed_data", Text),
    Index("ix_meter_values_transaction", "transaction_id"),
    Index("ix_meter_values_station_time", "station_id", "timestamp"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", String(64), nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("id_token", String(255), nullable=False),
    Column("parent_id_token", String(255)),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_reservations_status_expires", "status", "expires_at"),
)

charging_profiles = Table(
    "charging_profiles",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("profile_id", Integer, primary_key=True),
    Column("evse_id", Integer, nullable=False),
    Column("stack_level", Integer, nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("transaction_id", BigInteger),
    Column("profile", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

local_list_entries = Table(
    "local_list_entries",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("id_token", String(255), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("expires_at", UtcDateTime),
    Column("group_id", String(255)),
)

security_events = Table(
    "security_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", String(64), nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("type", String(50), nullable=False),
    Column("tech_info", Text),
    Column("source", String(16), nullable=False),
    Index("ix_security_events_station", "station_id", "id"),
)

certificate_requests = Table(
    "certificate_requests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", String(64), nullable=False),
    Column("csr", Text, nullable=False),
    Column("certificate_type", String(32)),
    Column("received_at", UtcDateTime, nullable=False),
    # What the built-in CA made of the CSR (migration 0003) and the station's CertificateSigned
    # answer.
    Column("status", String(16)),
    Column("reason", Text),
    Column("certificate_chain", Text),
    Column("serial_number", String(64)),
    Column("valid_from", UtcDateTime),
    Column("valid_to", UtcDateTime),
    Column("delivery_status", String(255)),
    Column("delivered_at", UtcDateTime),
    Index("ix_certificate_requests_station", "station_id", "id"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", String(64), nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("direction", String(3), nullable=False),
    Column("message_type", String(16), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("action", String(64)),
    Column("payload", Text, nullable=False),
    Index("ix_messages_station_id", "station_id", "id"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


transaction_events = Table(
    "transaction_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", String(64), nullable=False),
    Column("station_transaction_id", String(64), nullable=False),
    Column("seq_no", BigInteger, nullable=False),
    Column("event_type", String(10), nullable=False),
    Column("trigger_reason", String(40), nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("offline", Boolean, nullable=False, default=False),
    Column("received_at", UtcDateTime, nullable=False),
    # 2.0.1 E01.FR.xx: a TransactionEvent is identified by (transactionId, seqNo) per station;
    # a repeated one (lost answer) must not be applied twice.
    UniqueConstraint("station_id", "station_transaction_id", "seq_no",
                     name="uq_transaction_events_seq"),
)

device_model = Table(
    "device_model",
    metadata,
    # 2.0.1 Part 1 §4 device model: a variable attribute per (component, variable, type).
    # evse_id / connector_id 0 and instance "" mean "not given" (EVSE ids start at 1).
    Column("station_id", String(64), ForeignKey("stations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("component", String(50), primary_key=True),
    Column("component_instance", String(50), primary_key=True),
    Column("evse_id", Integer, primary_key=True),
    Column("connector_id", Integer, primary_key=True),
    Column("variable", String(50), primary_key=True),
    Column("variable_instance", String(50), primary_key=True),
    Column("attribute_type", String(8), primary_key=True),
    Column("value", Text),
    Column("mutability", String(10)),
    Column("persistent", Boolean),
    Column("constant", Boolean),
    Column("characteristics", JSON),
    Column("updated_at", UtcDateTime, nullable=False),
)

station_reports = Table(
    "station_reports",
    metadata,
    # What a station reported through a notification (NotifyEvent, NotifyChargingLimit,
    # ReportChargingProfiles, NotifyDisplayMessages, DER alarms, ...), kept verbatim.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("station_id", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("request_id", BigInteger),
    Column("evse_id", Integer),
    Column("received_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Index("ix_station_reports_station_action", "station_id", "action", "id"),
)

tariffs = Table(
    "tariffs",
    metadata,
    # The OCPI 2.2.1 Tariff as a document; the columns beside it are what queries filter on.
    Column("id", String(36), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("type", String(20)),
    Column("start_date_time", UtcDateTime),
    Column("end_date_time", UtcDateTime),
    Column("last_updated", UtcDateTime, nullable=False),
    Column("document", JSON, nullable=False),
)

tariff_assignments = Table(
    "tariff_assignments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tariff_id", String(36), ForeignKey("tariffs.id"), nullable=False),
    Column("location_id", String(36)),
    Column("station_id", String(64)),
    Column("evse_id", Integer),
    Column("group_id", String(255)),
    Column("priority", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_tariff_assignments_tariff", "tariff_id"),
)

price_feeds = Table(
    "price_feeds",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("source_url", Text),
    Column("poll_interval_s", Integer),
    Column("last_fetched_at", UtcDateTime),
    Column("last_error", Text),
)

price_feed_prices = Table(
    "price_feed_prices",
    metadata,
    Column("feed_id", String(36), ForeignKey("price_feeds.id", ondelete="CASCADE"),
           primary_key=True),
    Column("starts_at", UtcDateTime, primary_key=True),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("price", String(40), nullable=False),  # Decimal text: exact, on every database
)

transaction_pricing = Table(
    "transaction_pricing",
    metadata,
    # The tariff (and series prices) a session was priced with, fixed at its start.
    Column("transaction_id", BigInteger, primary_key=True),
    Column("tariff_id", String(36), nullable=False),
    Column("tariff", JSON, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("series", JSON, nullable=False),
    Column("priced_at", UtcDateTime, nullable=False),
)

charge_states = Table(
    "charge_states",
    metadata,
    # Charging / parking changes during a transaction (1.6 StatusNotification, 2.x
    # chargingState): the session timeline the cost engine prices TIME vs PARKING_TIME on.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("transaction_id", BigInteger, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("state", String(20), nullable=False),
    Index("ix_charge_states_transaction", "transaction_id", "at"),
)

cdrs = Table(
    "cdrs",
    metadata,
    # Insert-only: a CDR is never updated; a correction is a credit CDR (mod_cdrs §Credit).
    Column("id", String(39), primary_key=True),
    Column("transaction_id", BigInteger),
    Column("station_id", String(64), nullable=False),
    Column("location_id", String(36)),
    Column("id_token", String(255)),
    Column("start_date_time", UtcDateTime, nullable=False),
    Column("end_date_time", UtcDateTime, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_cost_excl_vat", String(40), nullable=False),
    Column("total_cost_incl_vat", String(40), nullable=False),
    Column("total_energy_kwh", String(40), nullable=False),
    Column("credit", Boolean, nullable=False, default=False),
    Column("credit_reference_id", String(39)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("document", JSON, nullable=False),
    Index("ix_cdrs_transaction", "transaction_id"),
    Index("ix_cdrs_end", "end_date_time"),
)

# OCPI roaming (issue 5) ---------------------------------------------------------------------
ocpi_partners = Table(
    "ocpi_partners",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("status", String(16), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("versions_url", String(512)),
    Column("version", String(16)),
    Column("endpoints", JSON, nullable=False),
    Column("token_out", String(255)),
    Column("token_in_sha256", String(64), unique=True),
    Column("sends_plain_token", Boolean, nullable=False, default=False),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

ocpi_outbox = Table(
    "ocpi_outbox",
    metadata,
    # Pushes stored before they are sent (issue 5: durable outbox); delivered in id order per
    # (partner, object_key).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("partner_id", BigInteger, nullable=False),
    Column("module", String(32), nullable=False),
    Column("role", String(16), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("body", JSON),
    Column("object_key", String(255), nullable=False),
    Column("to_country_code", String(2)),
    Column("to_party_id", String(3)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("failed", Boolean, nullable=False, default=False),
    Index("ix_ocpi_outbox_pending", "delivered_at", "failed", "next_attempt_at"),
)

ocpi_objects = Table(
    "ocpi_objects",
    metadata,
    # OCPI objects partners pushed to us or we pulled (their locations, sessions, CDRs, tariffs;
    # their drivers' tokens), as documents.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("module", String(32), nullable=False),
    Column("country_code", String(2), nullable=False),
    Column("party_id", String(3), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("partner_id", BigInteger),
    Column("last_updated", UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("module", "country_code", "party_id", "object_id",
                     name="uq_ocpi_objects_key"),
    Index("ix_ocpi_objects_uid", "module", "object_id"),
)

ocpi_authorizations = Table(
    "ocpi_authorizations",
    metadata,
    # Real-time authorizations of roaming tokens and START_SESSION grants (mod_tokens
    # §Real-time authorization, mod_commands StartSession.authorization_reference).
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("uid", String(36), nullable=False),
    Column("allowed", String(16), nullable=False),
    Column("authorization_reference", String(36)),
    Column("location_id", String(36)),
    Column("evse_uid", String(36)),
    Column("partner_id", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
    Column("extra", JSON, nullable=False),
    Index("ix_ocpi_authorizations_uid", "uid", "created_at"),
)
