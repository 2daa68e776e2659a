"""Validates what persona-shim wrote to the agent against the MCP JSON Schema of the negotiated revision.

The input is a log written by tee_shim.py: one JSON object per line, {"t", "dir": "in"|"out"|"exit", "line"}.
"in" lines are the agent's messages (used to learn which method each response answers); "out" lines are
persona-shim's messages, and each must

- be one JSON object that validates as `JSONRPCMessage`;
- if a request (server -> client), have a method of `ServerRequest` and validate as that request;
- if a notification, have a method of `ServerNotification` and validate as that notification;
- if a result, answer a request the agent sent (once), and validate as that method's result definition
  (InitializeResult, ListToolsResult, CallToolResult, ...);
- if an error, answer a request the agent sent (once), or carry a null id.

The revision is the protocolVersion of the initialize result; without one, the stateless revision the agent's requests
name in `_meta` (2026-07-28); else 2025-11-25.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import exceptions as js_exceptions
from jsonschema.validators import validator_for

DEFAULT_REVISION = "2025-11-25"


def schema_dir() -> Path:
    override = os.environ.get("MCP_SCHEMA_DIR")
    if override:
        return Path(override)
    # Tests/Interop/ -> repository -> its parent, where CI and the developers have shared/ beside the clone.
    return Path(__file__).resolve().parents[3] / "shared" / "mcp" / "schema"


RESULT_DEFINITIONS = {
    "initialize": "InitializeResult",
    "server/discover": "DiscoverResult",
    "ping": "EmptyResult",
    "tools/list": "ListToolsResult",
    "tools/call": "CallToolResult",
    "resources/list": "ListResourcesResult",
    "resources/templates/list": "ListResourceTemplatesResult",
    "resources/read": "ReadResourceResult",
    "resources/subscribe": "EmptyResult",
    "resources/unsubscribe": "EmptyResult",
    "prompts/list": "ListPromptsResult",
    "prompts/get": "GetPromptResult",
    "completion/complete": "CompleteResult",
    "logging/setLevel": "EmptyResult",
}


class Revision:
    """The JSON Schema of one protocol revision, with a validator per definition."""

    def __init__(self, version: str) -> None:
        path = schema_dir() / f"{version}.schema.json"
        if not path.exists():
            raise FileNotFoundError(f"no MCP schema for revision {version!r} at {path}")
        self.version = version
        self.root: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self.defs_key = "$defs" if "$defs" in self.root else "definitions"
        self.defs: dict[str, Any] = self.root[self.defs_key]
        self.validator_class = validator_for(self.root)
        self.request_methods = self._methods_of("ServerRequest")
        self.notification_methods = self._methods_of("ServerNotification")

    def _methods_of(self, union: str) -> dict[str, str]:
        """method name -> definition name, for the members of a union such as ServerRequest."""
        methods: dict[str, str] = {}
        # 2026-07-28 has no ServerRequest: servers send the client no requests in that revision.
        for member in self.defs.get(union, {}).get("anyOf", []):
            name = member["$ref"].rsplit("/", 1)[-1]
            const = self.defs[name].get("properties", {}).get("method", {}).get("const")
            if const:
                methods[const] = name
        return methods

    @cache
    def validator(self, definition: str) -> Any:
        if definition not in self.defs:
            raise KeyError(f"{definition} is not defined in the {self.version} schema")
        schema = {"$schema": self.root["$schema"], self.defs_key: self.defs, "$ref": f"#/{self.defs_key}/{definition}"}
        return self.validator_class(schema)

    def errors(self, definition: str, instance: Any) -> str | None:
        error = js_exceptions.best_match(self.validator(definition).iter_errors(instance))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        return f"not a valid {definition} ({self.version}) at {where}: {error.message[:300]}"

    def has(self, definition: str) -> bool:
        return definition in self.defs


@cache
def revision(version: str) -> Revision:
    return Revision(version)


def id_key(value: Any) -> str:
    """Ids compare as JSON values: 1 and "1" are different ids."""
    return json.dumps(value, sort_keys=True)


@dataclass
class Entry:
    number: int
    t: float
    direction: str
    line: str
    message: Any = None
    parse_error: str | None = None


@dataclass
class TrafficLog:
    """A parsed tee_shim.py log."""

    path: Path
    entries: list[Entry] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> TrafficLog:
        log = cls(path)
        if not path.exists():
            return log
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            record = json.loads(raw)
            entry = Entry(number, record["t"], record["dir"], record["line"])
            if entry.direction in ("in", "out"):
                try:
                    entry.message = json.loads(entry.line)
                except ValueError as e:
                    entry.parse_error = str(e)
            log.entries.append(entry)
        return log

    def out(self) -> list[Entry]:
        return [e for e in self.entries if e.direction == "out"]

    def inbound(self) -> list[Entry]:
        return [e for e in self.entries if e.direction == "in"]

    def requests_by_id(self) -> dict[str, dict[str, Any]]:
        """The agent's requests, by id."""
        found: dict[str, dict[str, Any]] = {}
        for e in self.inbound():
            m = e.message
            if isinstance(m, dict) and "method" in m and "id" in m:
                found[id_key(m["id"])] = m
        return found

    def negotiated_version(self) -> str | None:
        requests = self.requests_by_id()
        for e in self.out():
            m = e.message
            if isinstance(m, dict) and "result" in m and "id" in m:
                request = requests.get(id_key(m["id"]))
                if request is not None and request.get("method") == "initialize" and isinstance(m["result"], dict):
                    version = m["result"].get("protocolVersion")
                    return version if isinstance(version, str) else None
        for request in requests.values():
            meta = (request.get("params") or {}).get("_meta") if isinstance(request.get("params"), dict) else None
            version = meta.get("io.modelcontextprotocol/protocolVersion") if isinstance(meta, dict) else None
            if isinstance(version, str) and request.get("method") != "server/discover":
                return version
        return None

    def notifications(self, method: str) -> list[dict[str, Any]]:
        return [
            e.message
            for e in self.out()
            if isinstance(e.message, dict) and e.message.get("method") == method and "id" not in e.message
        ]

    def server_requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """Requests persona-shim sent to the agent."""
        return [
            e.message
            for e in self.out()
            if isinstance(e.message, dict)
            and "method" in e.message
            and "id" in e.message
            and (method is None or e.message["method"] == method)
        ]

    def responses_to(self, request_id: Any) -> list[dict[str, Any]]:
        key = id_key(request_id)
        return [
            e.message
            for e in self.out()
            if isinstance(e.message, dict)
            and "method" not in e.message
            and ("result" in e.message or "error" in e.message)
            and id_key(e.message.get("id")) == key
        ]

    def agent_requests(self, method: str) -> list[dict[str, Any]]:
        return [e.message for e in self.inbound() if isinstance(e.message, dict) and e.message.get("method") == method and "id" in e.message]

    def validate(self) -> list[str]:
        """Every problem with what persona-shim wrote to the agent; empty if all is well."""
        problems: list[str] = []
        version = self.negotiated_version() or DEFAULT_REVISION
        try:
            rev = revision(version)
        except FileNotFoundError as e:
            return [f"negotiated protocolVersion {version!r}: {e}"]
        requests: dict[str, dict[str, Any]] = {}
        answered: set[str] = set()
        for e in self.entries:
            if e.direction == "in":
                m = e.message
                if isinstance(m, dict) and "method" in m and "id" in m:
                    requests[id_key(m["id"])] = m
                continue
            if e.direction != "out":
                continue

            def problem(text: str, entry: Entry = e) -> None:
                problems.append(f"{self.path.name}:{entry.number}: {text}\n    line: {entry.line[:400]}")

            if e.parse_error is not None:
                problem(f"not JSON: {e.parse_error}")
                continue
            m = e.message
            if not isinstance(m, dict):
                problem("not a JSON object (batches are not part of the negotiated revision)" if isinstance(m, list) else "not a JSON object")
                continue
            error = rev.errors("JSONRPCMessage", m)
            if error:
                problem(error)
                continue
            if "method" in m:
                method = m["method"]
                table = rev.request_methods if "id" in m else rev.notification_methods
                kind = "ServerRequest" if "id" in m else "ServerNotification"
                definition = table.get(method)
                if definition is None:
                    problem(f"method {method!r} is not a {kind} of revision {version}")
                    continue
                error = rev.errors(definition, m)
                if error:
                    problem(error)
                continue
            # A response.
            rid = m.get("id")
            key = id_key(rid)
            if "error" in m and rid is None:
                continue
            request = requests.get(key)
            if request is None:
                problem(f"response to id {rid!r}, which the agent never sent (or sent later)")
                continue
            if key in answered:
                problem(f"second response to id {rid!r} ({request.get('method')})")
                continue
            answered.add(key)
            if "result" in m:
                definition = RESULT_DEFINITIONS.get(request.get("method", ""), "Result")
                if isinstance(m["result"], dict) and m["result"].get("resultType") == "input_required":
                    definition = "InputRequiredResult"
                if not rev.has(definition):
                    definition = "Result"
                error = rev.errors(definition, m["result"])
                if error:
                    problem(f"result of {request.get('method')}: {error}")
        return problems
