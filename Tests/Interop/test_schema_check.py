"""The schema check itself: it must accept valid traffic and catch each kind of invalid message."""

from __future__ import annotations

import json
from pathlib import Path

from schema_check import TrafficLog

INIT_REQUEST = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


def init_response(version: str = "2025-11-25") -> dict:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {"protocolVersion": version, "capabilities": {"tools": {"listChanged": True}}, "serverInfo": {"name": "s", "version": "1"}},
    }


def write_log(path: Path, *entries: tuple[str, object]) -> TrafficLog:
    with path.open("w", encoding="utf-8") as f:
        for i, (direction, message) in enumerate(entries):
            line = message if isinstance(message, str) else json.dumps(message)
            f.write(json.dumps({"t": float(i), "dir": direction, "line": line}) + "\n")
    return TrafficLog.read(path)


def call(rid: object) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": "x__y", "arguments": {}}}


def test_valid_traffic_passes(tmp_path):
    log = write_log(
        tmp_path / "ok.jsonl",
        ("in", INIT_REQUEST),
        ("out", init_response()),
        ("in", call(2)),
        ("out", {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 2, "progress": 1}}),
        ("out", {"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "hi"}], "structuredContent": {"a": 1}}}),
        ("out", {"jsonrpc": "2.0", "id": 7, "method": "sampling/createMessage", "params": {"messages": [], "maxTokens": 5}}),
        ("in", {"jsonrpc": "2.0", "id": "x", "method": "resources/read", "params": {"uri": "a://b"}}),
        ("out", {"jsonrpc": "2.0", "id": "x", "error": {"code": -32602, "message": "Unknown resource: a://b"}}),
    )
    assert log.validate() == []


def test_each_kind_of_invalid_message_is_caught(tmp_path):
    log = write_log(
        tmp_path / "bad.jsonl",
        ("in", INIT_REQUEST),
        ("out", init_response()),
        ("in", call(2)),
        ("out", {"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text"}]}}),  # text block without text
        ("out", {"jsonrpc": "2.0", "id": 2, "result": {"content": []}}),  # second response
        ("out", {"jsonrpc": "2.0", "id": "2", "result": {"content": []}}),  # "2" is not 2
        ("out", {"jsonrpc": "2.0", "method": "notifications/made_up", "params": {}}),  # not a ServerNotification
        ("out", {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}}),  # no token
        ("out", {"jsonrpc": "2.0", "id": 9, "method": "tools/list"}),  # not a ServerRequest
        ("out", "{not json"),
        ("out", [init_response()]),
    )
    problems = log.validate()
    expected = ["CallToolResult", "second response", "never sent", "not a ServerNotification", "ProgressNotification", "not a ServerRequest", "not JSON", "not a JSON object"]
    for needle in expected:
        assert any(needle in p for p in problems), f"no problem mentioning {needle!r} in:\n" + "\n".join(problems)
    assert len(problems) == len(expected), "\n".join(problems)


def test_the_negotiated_revision_is_used(tmp_path):
    # resource_link blocks do not exist in 2025-03-26: valid at 2025-11-25, invalid at 2025-03-26.
    link = {"type": "resource_link", "uri": "a://b", "name": "b"}
    entries = [("in", INIT_REQUEST), None, ("in", call(2)), ("out", {"jsonrpc": "2.0", "id": 2, "result": {"content": [link]}})]
    entries[1] = ("out", init_response("2025-11-25"))
    assert write_log(tmp_path / "new.jsonl", *entries).validate() == []
    entries[1] = ("out", init_response("2025-03-26"))
    problems = write_log(tmp_path / "old.jsonl", *entries).validate()
    assert len(problems) == 1 and "2025-03-26" in problems[0], problems
