"""Independent OCPI 2.2.1 eMSP peer built on extrawest-ocpi (py_ocpi), used by volthub's e2e tests."""

from __future__ import annotations

import argparse
import base64
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

# py_ocpi reads its settings (host, protocol, party) from the environment when first imported,
# so every py_ocpi import happens inside build_app(), after configure_env() has run.


def configure_env(host: str, port: int, country_code: str, party_id: str) -> None:
    """Point py_ocpi's URL builders at this process and pin the settings the peer depends on."""
    os.environ["OCPI_HOST"] = f"{host}:{port}"
    os.environ["PROTOCOL"] = "http"
    os.environ["OCPI_PREFIX"] = "ocpi"
    os.environ["COUNTRY_CODE"] = country_code
    os.environ["PARTY_ID"] = party_id
    os.environ["NO_AUTH"] = "false"
    os.environ.setdefault("TRAILING_SLASH", "true")


def b64(token: str) -> str:
    """OCPI 2.2.1 credentials-token encoding for the Authorization header."""
    return base64.b64encode(token.encode()).decode()


def join(url: str, *parts: str) -> str:
    """Join URL segments without doubling or dropping slashes."""
    return "/".join([url.rstrip("/"), *(p.strip("/") for p in parts)])


class State:
    """Everything the peer knows; dumped as-is by GET /debug/objects.

    With a state file, the credentials part (token A, registrations, outbound) is written there on
    every change and read back at start, as a real platform keeps its partners in a database; the
    objects and the request log always live in memory only."""

    def __init__(self, token_a: str, keep_token_a: bool, state_file: str | None = None) -> None:
        self.token_a: set[str] = {token_a}
        self.keep_token_a = keep_token_a
        self.state_file = state_file
        saved = None
        if state_file and os.path.exists(state_file):
            with open(state_file) as f:
                saved = json.load(f)
        self.reset()
        if saved:
            self.token_a |= set(saved["token_a"])
            self.registrations, self.outbound = saved["registrations"], saved["outbound"]
            self.save()

    def reset(self) -> None:
        self.registrations: dict[str, dict[str, Any]] = {}  # token C we issued -> CPO's creds + endpoints
        self.outbound: dict[str, Any] | None = None  # registration this peer initiated (/debug/register)
        self.objects: dict[str, dict[str, Any]] = {
            m: {} for m in ("locations", "sessions", "cdrs", "tariffs", "tokens", "command_results")
        }
        self.requests: list[dict[str, Any]] = []
        self.save()

    def save(self) -> None:
        """Write the credentials part to the state file (if any), atomically."""
        if not self.state_file:
            return
        saved = {"token_a": sorted(self.token_a), "registrations": self.registrations,
                 "outbound": self.outbound}
        tmp = f"{self.state_file}.tmp"
        with open(tmp, "w") as f:
            json.dump(saved, f, default=str)
        os.replace(tmp, self.state_file)

    def valid_tokens(self) -> list[str]:
        extra = [self.outbound["token_b"]] if self.outbound else []
        return [*self.registrations, *extra]

    def cpo_link(self) -> tuple[list[dict[str, Any]], str]:
        """Endpoints of the registered CPO and the token to call it with (outbound wins)."""
        if self.outbound:
            return self.outbound["endpoints"], self.outbound["token"]
        if not self.registrations:
            raise LookupError("no CPO registered")
        reg = list(self.registrations.values())[-1]
        return reg["endpoints"].get("endpoints", []), reg["credentials"]["token"]


# Message-routing headers (transport_and_format §Message routing), lower-case as ASGI gives them.
ROUTING_HEADERS = (
    "ocpi-from-country-code",
    "ocpi-from-party-id",
    "ocpi-to-country-code",
    "ocpi-to-party-id",
)


def payload_of(resp: Any) -> Any:
    """JSON body of an httpx response, or its text when it is not JSON."""
    try:
        return resp.json()
    except ValueError:
        return resp.text


def endpoint(endpoints: list[dict[str, Any]], module: str, role: str | None = None) -> str:
    for ep in endpoints:
        if ep.get("identifier") == module and (role is None or ep.get("role") == role):
            return str(ep["url"])
    raise LookupError(f"CPO has no {module} {role or ''} endpoint")


def build_app(state: State, base_url: str, country_code: str, party_id: str) -> Any:
    """Create the extrawest FastAPI app (eMSP, 2.2.1) and bolt the /debug routes onto it."""
    import httpx
    from fastapi import Body, HTTPException, Request
    from fastapi.encoders import jsonable_encoder
    from py_ocpi import get_application
    from py_ocpi.core.authentication.authenticator import Authenticator
    from py_ocpi.core.crud import Crud
    from py_ocpi.core.enums import ModuleID, RoleEnum
    from py_ocpi.modules.tokens.v_2_2_1.schemas import Token
    from py_ocpi.modules.versions.enums import VersionNumber

    versions_url = f"{base_url}/ocpi/versions"

    def own_credentials(token: str) -> dict[str, Any]:
        role = {
            "role": "EMSP",
            "business_details": {"name": "extrawest eMSP peer"},
            "party_id": party_id,
            "country_code": country_code,
        }
        return {"token": token, "url": versions_url, "roles": [role]}

    def key(data_id: Any, kw: dict[str, Any]) -> str:
        return f"{kw['country_code']}/{kw['party_id']}/{data_id}" if "country_code" in kw else str(data_id)

    def bucket(module: ModuleID) -> dict[str, Any]:
        name = "command_results" if module == ModuleID.commands else module.value
        return state.objects[name]

    class MemoryCrud(Crud):
        @classmethod
        async def get(cls, module: ModuleID, role: RoleEnum, id: Any, *args: Any, **kw: Any) -> Any:
            if module == ModuleID.credentials_and_registration:
                return own_credentials(id) if id in state.valid_tokens() else None
            if module == ModuleID.tokens:
                return state.objects["tokens"].get(str(id).lower())
            return bucket(module).get(key(id, kw))

        @classmethod
        async def list(
            cls, module: ModuleID, role: RoleEnum, filters: dict[str, Any], *args: Any, **kw: Any
        ) -> tuple[list[Any], int, bool]:
            def utc(value: Any) -> datetime | None:
                if value is None:
                    return None
                ts = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
                return ts if ts.tzinfo else ts.replace(tzinfo=UTC)

            def in_range(obj: dict[str, Any]) -> bool:
                ts, lo, hi = utc(obj["last_updated"]), utc(filters["date_from"]), utc(filters["date_to"])
                return (lo is None or ts >= lo) and (hi is None or ts < hi)  # type: ignore[operator]

            items = [o for o in bucket(module).values() if in_range(o)]
            off, lim = filters["offset"], filters["limit"]
            return items[off : off + lim], len(items), off + lim >= len(items)

        @classmethod
        async def create(
            cls, module: ModuleID, role: RoleEnum, data: dict[str, Any], *a: Any, **kw: Any
        ) -> Any:
            if module == ModuleID.credentials_and_registration:
                token_c = str(uuid.uuid4())
                state.registrations[token_c] = jsonable_encoder(data)
                if not state.keep_token_a:
                    state.token_a.discard(kw.get("auth_token") or "")
                state.save()
                return own_credentials(token_c)
            bucket(module)[key(data["id"], kw)] = data
            return data

        @classmethod
        async def update(
            cls, module: ModuleID, role: RoleEnum, data: dict[str, Any], id: Any, *a: Any, **kw: Any
        ) -> Any:
            if module == ModuleID.credentials_and_registration:
                state.registrations.pop(kw.get("auth_token") or "", None)
                return await cls.create(module, role, data)
            bucket(module)[key(id, kw)] = data
            return data

        @classmethod
        async def delete(cls, module: ModuleID, role: RoleEnum, id: Any, *args: Any, **kw: Any) -> None:
            if module == ModuleID.credentials_and_registration:
                state.registrations.pop(id, None)
                state.save()
            else:
                bucket(module).pop(key(id, kw), None)

        @classmethod
        async def do(
            cls, module: ModuleID, role: RoleEnum | None, action: Any, *a: Any, data: Any = None, **kw: Any
        ) -> Any:
            token = state.objects["tokens"].get(str(data["token_uid"]).lower())
            allowed = "ALLOWED" if token and token["valid"] else "BLOCKED"
            return {"allowed": allowed, "token": token, "location": data.get("location_reference")}

    class MemoryAuthenticator(Authenticator):
        @classmethod
        async def get_valid_token_c(cls) -> list[str]:
            return state.valid_tokens()

        @classmethod
        async def get_valid_token_a(cls) -> list[str]:
            return list(state.token_a)

    app = get_application(
        version_numbers=[VersionNumber.v_2_2_1],
        roles=[RoleEnum.emsp],
        crud=MemoryCrud,
        modules=[
            ModuleID.credentials_and_registration,
            ModuleID.locations,
            ModuleID.sessions,
            ModuleID.cdrs,
            ModuleID.tariffs,
            ModuleID.tokens,
            ModuleID.commands,
        ],
        authenticator=MemoryAuthenticator,
    )

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Any:
        if not request.url.path.startswith("/debug"):
            h = request.headers
            state.requests.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": request.url.query,
                    "authorization": h.get("authorization"),
                    "x_request_id": h.get("x-request-id"),
                    "x_correlation_id": h.get("x-correlation-id"),
                    **{name.replace("-", "_"): h.get(name) for name in ROUTING_HEADERS},
                }
            )
        return await call_next(request)

    def ocpi_headers(token: str) -> dict[str, str]:
        return {
            "Authorization": f"Token {b64(token)}",
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            "OCPI-from-country-code": country_code,
            "OCPI-from-party-id": party_id,
        }

    @app.get("/debug/objects")
    async def debug_objects() -> Any:
        creds = [{"token_c": t, **r} for t, r in state.registrations.items()]
        return jsonable_encoder(
            {**state.objects, "credentials": creds, "outbound": state.outbound, "requests": state.requests}
        )

    @app.post("/debug/reset")
    async def debug_reset() -> dict[str, bool]:
        state.reset()
        return {"ok": True}

    @app.post("/debug/token-a")
    async def debug_token_a(body: dict[str, str] = Body(...)) -> dict[str, list[str]]:
        state.token_a.add(body["token"])
        state.save()
        return {"token_a": sorted(state.token_a)}

    @app.post("/debug/register")
    async def debug_register(body: dict[str, str] = Body(...)) -> Any:
        """Act as credentials Sender: register with a CPO given its versions URL and token A."""
        token_a, token_b, versions = body["token"], str(uuid.uuid4()), body["versions_url"]
        # token B must be valid before the POST: the CPO calls back our versions with it.
        state.outbound = {"versions_url": versions, "token_b": token_b, "token": None, "endpoints": []}
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                resp = await client.get(versions, headers=ocpi_headers(token_a))
                details_url = next(v["url"] for v in resp.json()["data"] if v["version"] == "2.2.1")
                resp = await client.get(details_url, headers=ocpi_headers(token_a))
                endpoints = resp.json()["data"]["endpoints"]
                cred = own_credentials(token_b)
                resp = await client.post(
                    endpoint(endpoints, "credentials"), headers=ocpi_headers(token_a), json=cred
                )
            answer = resp.json()
            if resp.status_code != 200 or answer.get("status_code") != 1000:
                raise ValueError(f"CPO answered HTTP {resp.status_code}: {answer}")
        except Exception as exc:
            state.outbound = None
            raise HTTPException(502, f"registration failed: {exc!r}") from exc
        state.outbound.update(token=answer["data"]["token"], endpoints=endpoints, cpo=answer["data"])
        state.save()
        return answer

    @app.post("/debug/tokens")
    async def debug_tokens(body: Any = Body(...), push: bool = False) -> Any:
        """Hold Token objects for GET /tokens; with ?push=true also PUT them to the CPO's tokens receiver."""
        tokens = [Token(**t).dict() for t in (body if isinstance(body, list) else [body])]
        pushed = []
        for tok in tokens:
            state.objects["tokens"][str(tok["uid"]).lower()] = tok
        if push:
            endpoints, cpo_token = state.cpo_link()
            url = endpoint(endpoints, "tokens", "RECEIVER")
            async with httpx.AsyncClient(timeout=10) as client:
                for tok in tokens:
                    target = join(url, str(tok["country_code"]), str(tok["party_id"]), str(tok["uid"]))
                    resp = await client.put(
                        target,
                        params={"type": tok["type"].value},
                        headers=ocpi_headers(cpo_token),
                        json=jsonable_encoder(tok),
                    )
                    pushed.append({"url": target, "status": resp.status_code, "body": payload_of(resp)})
        return {"held": [t["uid"] for t in tokens], "pushed": pushed}

    @app.post("/debug/commands/{command}")
    async def debug_command(command: str, body: dict[str, Any] = Body(...)) -> Any:
        """Send a command to the CPO; its CommandResult lands in objects.command_results[uid]."""
        endpoints, cpo_token = state.cpo_link()
        uid = str(uuid.uuid4())
        payload = {"response_url": f"{base_url}/ocpi/emsp/2.2.1/commands/{uid}", **body}
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await client.post(
                join(endpoint(endpoints, "commands", "RECEIVER"), command),
                headers=ocpi_headers(cpo_token),
                json=payload,
            )
        url, result = payload["response_url"], payload_of(resp)
        return {"uid": uid, "response_url": url, "status": resp.status_code, "body": result}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token-a", required=True, help="credentials token A accepted for registration")
    parser.add_argument("--country-code", default="NL")
    parser.add_argument("--party-id", default="EXW")
    parser.add_argument("--keep-token-a", action="store_true", help="keep token A valid after registration")
    parser.add_argument(
        "--state-file",
        help="keep token A and the registrations (tokens B/C, endpoints) in this JSON file across restarts",
    )
    args = parser.parse_args(argv)

    configure_env(args.host, args.port, args.country_code, args.party_id)
    import uvicorn

    state = State(args.token_a, args.keep_token_a, args.state_file)
    app = build_app(state, f"http://{args.host}:{args.port}", args.country_code, args.party_id)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
