"""create_app(settings): the ASGI application with the OCPP endpoint, admin API and health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from volthub.api.errors import install_error_handlers
from volthub.api.router import build_router
from volthub.config import Settings
from volthub.ocpi.app import create_ocpi_app
from volthub.ocpp.endpoint import ocpp_endpoint
from volthub.services.ports import Clock, utc_now
from volthub.storage.interface import Repositories
from volthub.wiring import Container, build_container, close_container

log = logging.getLogger("volthub")


async def _housekeeping(container: Container) -> None:
    """Expire reservations whose time has passed (they are also checked at use)."""
    services = container.services
    while True:
        await asyncio.sleep(container.settings.reservation_check_interval_s)
        try:
            now = services.clock()
            await services.storage.write(partial(_expire, now=now))
        except Exception:
            log.exception("housekeeping failed")


async def _billing(container: Container) -> None:
    """CDRs for finished sessions that have none (e.g. stopped while the server was down, or
    closed late), at start and then periodically; due price-feed refreshes."""
    services = container.services
    while True:
        try:
            issued = await services.billing.sweep()
            if issued:
                log.info("CDRs issued by sweep", extra={"count": issued})
            await services.price_feeds.poll_due()
        except Exception:
            log.exception("billing sweep failed")
        await asyncio.sleep(container.settings.cdr_sweep_interval_s)


async def _expire(repos: Repositories, now: datetime) -> int:
    return await repos.expire_reservations(now)


def create_app(settings: Settings, clock: Clock = utc_now) -> FastAPI:
    """The whole server on one port: /ocpp/{station_id}, /api/v1, /healthz."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = await build_container(settings, clock)
        app.state.container = container
        for extra in app.state.extra_apps:
            extra.state.container = container
        housekeeping = asyncio.create_task(_housekeeping(container))
        billing = asyncio.create_task(_billing(container))
        outbox = asyncio.create_task(container.roaming.outbox.run(), name="ocpi-outbox")
        app.state.ready = True
        log.info("volthub ready", extra={"database": container.services.storage.engine.url
                                          .render_as_string(hide_password=True)})
        try:
            yield
        finally:
            app.state.ready = False
            housekeeping.cancel()
            billing.cancel()
            outbox.cancel()
            await close_container(container)
            log.info("volthub stopped")

    app = FastAPI(
        title="volthub admin API",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.ready = False
    app.state.extra_apps = []
    install_error_handlers(app)
    app.include_router(build_router())
    app.add_api_websocket_route("/ocpp/{station_id}", ocpp_endpoint)
    ocpi_app = create_ocpi_app()
    app.state.extra_apps.append(ocpi_app)
    app.mount("/ocpi", ocpi_app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        container: Container | None = getattr(app.state, "container", None)
        if not app.state.ready or container is None or not await container.services.storage.ping():
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app


def create_ocpp_app(main_app: FastAPI) -> Starlette:
    """An OCPP-only app for a separate listener; it shares the main app's container."""
    ocpp_app = Starlette(routes=[WebSocketRoute("/ocpp/{station_id}", ocpp_endpoint)])
    main_app.state.extra_apps.append(ocpp_app)
    return ocpp_app
