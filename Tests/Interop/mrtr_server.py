#!/usr/bin/env python3
"""A modern (2026-07-28) MCP server for persona-shim's interop tests, on the official MCP Python SDK's low-level
`Server`: its tools ask the client through multi round-trip requests (`input_required` with `requestState`), as
servers of that revision must, instead of sending requests to the client.

Tools: ask_user (elicitation/create), ask_model (sampling/createMessage), list_roots (roots/list). Each returns
`input_required` with the state "mrtr-state:<tool>" and, on the retry that carries that exact state and the answer,
the answer as text. A retry with any other state is an error that says so: the test then knows persona-shim handed
the server its own state back.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

warnings.simplefilter("ignore")

import anyio  # noqa: E402
import mcp_types as types  # noqa: E402
from mcp.server.lowlevel import Server  # noqa: E402
from mcp.server.stdio import stdio_server  # noqa: E402


def text(value: str) -> types.TextContent:
    return types.TextContent(type="text", text=value)


def obj(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


QUESTIONS: dict[str, types.InputRequest] = {
    "ask_user": types.ElicitRequest(
        params=types.ElicitRequestFormParams(
            message="name?", requested_schema={"type": "object", "properties": {"answer": {"type": "string"}}}
        )
    ),
    "ask_model": types.CreateMessageRequest(
        params=types.CreateMessageRequestParams(
            messages=[types.SamplingMessage(role="user", content=text("2+2?"))], max_tokens=16
        )
    ),
    "list_roots": types.ListRootsRequest(),
}


def build_server() -> Server[Any]:
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[types.Tool(name=name, description=f"Asks the client ({name}).", input_schema=obj({})) for name in QUESTIONS]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult | types.InputRequiredResult:
        tool = params.name
        if tool not in QUESTIONS:
            return types.CallToolResult(content=[text(f"unknown tool {tool}")], is_error=True)
        expected = f"mrtr-state:{tool}"
        answers = params.input_responses or {}
        if params.request_state is None and not answers:
            return types.InputRequiredResult(input_requests={"q": QUESTIONS[tool]}, request_state=expected)
        if params.request_state != expected:
            return types.CallToolResult(content=[text(f"wrong requestState {params.request_state!r}")], is_error=True)
        answer = answers.get("q")
        dumped = answer.model_dump(mode="json", by_alias=True, exclude_none=True) if answer is not None else None
        return types.CallToolResult(content=[text(json.dumps(dumped))])

    return Server("mrtr", version="1.0.0", on_list_tools=list_tools, on_call_tool=call_tool)


async def serve() -> None:
    server = build_server()
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(serve)
    sys.exit(0)
