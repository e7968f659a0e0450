"""OCPI 2.2.1 locations, eMSP role: the Receiver interface CPOs push Locations, EVSEs and
Connectors to (mod_locations §Receiver interface)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from volthub.domain.roaming import RoamingObject
from volthub.ocpi import schemas
from volthub.ocpi.emsp import (
    dump,
    modify,
    parse,
    parse_patch,
    replace_object,
    require_party,
    same_id,
    stored_document,
    stored_response,
)
from volthub.ocpi.envelope import not_found, ocpi_response
from volthub.ocpi.http import ModuleCaller, roaming

router = APIRouter()
MODULE = "locations"
LOCATION = "/locations/{country_code}/{party_id}/{location_id}"
EVSE = LOCATION + "/{evse_uid}"
CONNECTOR = EVSE + "/{connector_id}"

Json = dict[str, Any]


# --- GET: the object as we store it --------------------------------------------------------


@router.get(LOCATION)
async def get_location(request: Request, caller: ModuleCaller, country_code: str,
                       party_id: str, location_id: str) -> JSONResponse:
    return ocpi_response(await _stored(request, caller, country_code, party_id, location_id))


@router.get(EVSE)
async def get_evse(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                   location_id: str, evse_uid: str) -> JSONResponse:
    location = await _stored(request, caller, country_code, party_id, location_id)
    return ocpi_response(_evse(location, evse_uid))


@router.get(CONNECTOR)
async def get_connector(request: Request, caller: ModuleCaller, country_code: str,
                        party_id: str, location_id: str, evse_uid: str,
                        connector_id: str) -> JSONResponse:
    location = await _stored(request, caller, country_code, party_id, location_id)
    return ocpi_response(_connector(_evse(location, evse_uid), connector_id, location_id))


async def _stored(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                  location_id: str) -> Json:
    return await stored_document(roaming(request), caller, MODULE, country_code, party_id,
                                 location_id, "location")


# --- PUT: a new or replaced object ---------------------------------------------------------


@router.put(LOCATION)
async def put_location(request: Request, caller: ModuleCaller, country_code: str,
                       party_id: str, location_id: str, body: Any = Body(...)) -> JSONResponse:
    party = require_party(caller, country_code, party_id)
    location = parse(schemas.Location, body)
    return await replace_object(roaming(request), caller, MODULE, party, location_id, location,
                                location.last_updated)


@router.put(EVSE)
async def put_evse(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                   location_id: str, evse_uid: str, body: Any = Body(...)) -> JSONResponse:
    party = require_party(caller, country_code, party_id)
    evse = parse(schemas.EVSE, body)
    same_id("uid", evse_uid, evse.uid)
    document = dump(evse)

    def change(obj: RoamingObject) -> tuple[Json, datetime, bool]:
        location = dict(obj.data)
        evses, created = _replace(location.get("evses") or [], "uid", evse_uid, document)
        location["evses"] = evses
        # mod_locations §PUT: an EVSE's new last_updated is also its Location's.
        location["last_updated"] = document["last_updated"]
        return location, evse.last_updated, created

    created = await modify(roaming(request), MODULE, party, location_id, caller.partner.id,
                           change, f"unknown location {location_id!r}")
    return stored_response(created)


@router.put(CONNECTOR)
async def put_connector(request: Request, caller: ModuleCaller, country_code: str,
                        party_id: str, location_id: str, evse_uid: str, connector_id: str,
                        body: Any = Body(...)) -> JSONResponse:
    party = require_party(caller, country_code, party_id)
    connector = parse(schemas.Connector, body)
    same_id("id", connector_id, connector.id)
    document = dump(connector)

    def change(obj: RoamingObject) -> tuple[Json, datetime, bool]:
        location = dict(obj.data)
        evse = dict(_evse(location, evse_uid))
        connectors, created = _replace(evse.get("connectors") or [], "id", connector_id,
                                       document)
        evse["connectors"] = connectors
        # mod_locations §PUT: a Connector's new last_updated is also its EVSE's and
        # Location's.
        evse["last_updated"] = location["last_updated"] = document["last_updated"]
        location["evses"], _ = _replace(location["evses"], "uid", evse_uid, evse)
        return location, connector.last_updated, created

    created = await modify(roaming(request), MODULE, party, location_id, caller.partner.id,
                           change, f"unknown location {location_id!r}")
    return stored_response(created)


# --- PATCH: some fields of an object -------------------------------------------------------


@router.patch(LOCATION)
async def patch_location(request: Request, caller: ModuleCaller, country_code: str,
                         party_id: str, location_id: str,
                         body: Any = Body(...)) -> JSONResponse:
    party = require_party(caller, country_code, party_id)
    patch = parse_patch(schemas.Location, body)
    same_id("country_code", party[0], patch.get("country_code"))
    same_id("party_id", party[1], patch.get("party_id"))
    same_id("id", location_id, patch.get("id"))

    def change(obj: RoamingObject) -> tuple[Json, datetime, bool]:
        # A field given replaces the stored one (a list too: transport_and_format §PATCH);
        # the result must still be a valid Location (cross-field rules).
        location = parse(schemas.Location, {**obj.data, **patch})
        return dump(location), location.last_updated, False

    await modify(roaming(request), MODULE, party, location_id, caller.partner.id, change,
                 f"unknown location {location_id!r}")
    return ocpi_response(None)


@router.patch(EVSE)
async def patch_evse(request: Request, caller: ModuleCaller, country_code: str, party_id: str,
                     location_id: str, evse_uid: str, body: Any = Body(...)) -> JSONResponse:
    party = require_party(caller, country_code, party_id)
    patch = parse_patch(schemas.EVSE, body)
    same_id("uid", evse_uid, patch.get("uid"))

    def change(obj: RoamingObject) -> tuple[Json, datetime, bool]:
        location = dict(obj.data)
        evse = dump(parse(schemas.EVSE, {**_evse(location, evse_uid), **patch}))
        location["evses"], _ = _replace(location["evses"], "uid", evse_uid, evse)
        # mod_locations §PATCH: a PATCH on an EVSE sets its Location's last_updated too.
        location["last_updated"] = patch["last_updated"]
        return location, schemas.parse_ocpi_datetime(patch["last_updated"]), False

    await modify(roaming(request), MODULE, party, location_id, caller.partner.id, change,
                 f"unknown location {location_id!r}")
    return ocpi_response(None)


@router.patch(CONNECTOR)
async def patch_connector(request: Request, caller: ModuleCaller, country_code: str,
                          party_id: str, location_id: str, evse_uid: str, connector_id: str,
                          body: Any = Body(...)) -> JSONResponse:
    party = require_party(caller, country_code, party_id)
    patch = parse_patch(schemas.Connector, body)
    same_id("id", connector_id, patch.get("id"))

    def change(obj: RoamingObject) -> tuple[Json, datetime, bool]:
        location = dict(obj.data)
        evse = dict(_evse(location, evse_uid))
        stored = _connector(evse, connector_id, location_id)
        connector = dump(parse(schemas.Connector, {**stored, **patch}))
        evse["connectors"], _ = _replace(evse["connectors"], "id", connector_id, connector)
        # mod_locations §PATCH: a PATCH on a Connector sets its EVSE's and Location's
        # last_updated too.
        evse["last_updated"] = location["last_updated"] = patch["last_updated"]
        location["evses"], _ = _replace(location["evses"], "uid", evse_uid, evse)
        return location, schemas.parse_ocpi_datetime(patch["last_updated"]), False

    await modify(roaming(request), MODULE, party, location_id, caller.partner.id, change,
                 f"unknown location {location_id!r}")
    return ocpi_response(None)


# --- the tree inside a stored Location -----------------------------------------------------


def _find(items: list[Json], key: str, value: str) -> Json | None:
    # uid and id are CiStrings: compared without case.
    return next((i for i in items if str(i.get(key, "")).upper() == value.upper()), None)


def _evse(location: Json, evse_uid: str) -> Json:
    evse = _find(location.get("evses") or [], "uid", evse_uid)
    if evse is None:
        raise not_found(f"unknown EVSE {evse_uid!r} at location {location.get('id')!r}")
    return evse


def _connector(evse: Json, connector_id: str, location_id: str) -> Json:
    connector = _find(evse.get("connectors") or [], "id", connector_id)
    if connector is None:
        raise not_found(f"unknown connector {connector_id!r} of EVSE {evse.get('uid')!r} at "
                        f"location {location_id!r}")
    return connector


def _replace(items: list[Json], key: str, value: str, new: Json) -> tuple[list[Json], bool]:
    """`items` with the one whose `key` is `value` replaced by `new` (appended when absent);
    and whether it was appended."""
    result = [new if str(i.get(key, "")).upper() == value.upper() else i for i in items]
    if _find(items, key, value) is None:
        return [*result, new], True
    return result, False

