"""JSON-schema validators compiled once (fastjsonschema) from the `ocpp` package's schemas."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp

SCHEMA_ROOT = Path(ocpp.__file__).parent
_VERSION_DIRS = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}

Validator = Callable[[Any], Any]


def _strip_multiple_of(node: Any) -> Any:
    # The 1.6 schemas put multipleOf 0.1 on decimals; binary floats make 21.4 fail that test
    # (the ocpp library re-parses with Decimal for the same reason). We accept any decimal:
    # see docs/adr/0002-ocpp-library.md.
    if isinstance(node, dict):
        return {k: _strip_multiple_of(v) for k, v in node.items() if k != "multipleOf"}
    if isinstance(node, list):
        return [_strip_multiple_of(v) for v in node]
    return node


def schema_path(version: str, action: str, response: bool) -> Path:
    suffix = "Response" if response else ("" if version == "1.6" else "Request")
    return SCHEMA_ROOT / _VERSION_DIRS[version] / "schemas" / f"{action}{suffix}.json"


@cache
def actions(version: str) -> frozenset[str]:
    """Every action that has a request schema in this version."""
    folder = SCHEMA_ROOT / _VERSION_DIRS[version] / "schemas"
    names = set()
    for path in folder.glob("*.json"):
        stem = path.stem
        if stem.endswith("Response"):
            continue
        names.add(stem.removesuffix("Request") if version != "1.6" else stem)
    return frozenset(names)


@cache
def validator(version: str, action: str, response: bool) -> Validator | None:
    path = schema_path(version, action, response)
    if not path.exists() and not response:
        # 2.1 SEND messages (NotifyPeriodicEventStream) have one schema without a suffix.
        path = path.with_name(f"{action}.json")
    if not path.exists():
        return None
    schema = json.loads(path.read_text(encoding="utf-8-sig"))
    schema = _strip_multiple_of(copy.deepcopy(schema))
    schema.pop("$schema", None)
    # use_default=False: a validator must not write schema defaults (tbc: false...) into the
    # payload it checks, or the message log and stored reports would not be verbatim.
    return fastjsonschema.compile(schema, use_default=False)


def schema_rule(exc: Exception) -> tuple[str | None, bool]:
    """(failed rule, failed at the payload root) of a fastjsonschema error."""
    rule = getattr(exc, "rule", None)
    path = getattr(exc, "path", None) or []
    return rule, len(path) <= 1 and rule == "type"


JsonSchemaError = fastjsonschema.JsonSchemaValueException
