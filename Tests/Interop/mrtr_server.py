#!/usr/bin/env python3
"""A modern (2026-07-28) MCP server for persona-shim's interop tests, on the official MCP Python SDK's low-level
`Server`: its tools ask the client through multi round-trip requests (`input_required` with `requestState`), as
servers of that revision must, instead of sending requests to the client.

Tools: ask_user (elicitation/create), ask_model (sampling/createMessage), list_roots (roots/list). Each returns
`input_required` with the state "mrtr-state:<tool>" and, on the retry that carries that exact state and the answer,
the answer as text. A retry with any other state is an error that says so: the test then knows persona-shim handed
the server its own state back.

Usage: mrtr_server.py [--modern-only]   (--modern-only: refuse initialize, as a server of 2026-07-28 alone does)
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
from mcp.shared.message import SessionMessage  # noqa: E402
from mcp_types.jsonrpc import ErrorData, JSONRPCError, JSONRPCRequest  # noqa: E402


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


async def serve(modern_only: bool) -> None:
    server = build_server()
    async with stdio_server() as (read_stream, write_stream):
        if not modern_only:
            await server.run(read_stream, write_stream, server.create_initialization_options())
            return
        # A server of 2026-07-28 alone: initialize is answered with an error before the SDK (which would serve the
        # handshake era on this connection from then on) sees it.
        send, receive = anyio.create_memory_object_stream[Any](16)

        async def filter_initialize() -> None:
            async with send:
                async for item in read_stream:
                    message = getattr(item, "message", None)
                    if isinstance(message, JSONRPCRequest) and message.method == "initialize":
                        error = JSONRPCError(
                            jsonrpc="2.0",
                            id=message.id,
                            error=ErrorData(code=-32601, message="This server speaks only 2026-07-28, which has no initialize."),
                        )
                        await write_stream.send(SessionMessage(error))
                        continue
                    await send.send(item)

        async with anyio.create_task_group() as tg:
            tg.start_soon(filter_initialize)
            await server.run(receive, write_stream, server.create_initialization_options())
            tg.cancel_scope.cancel()


if __name__ == "__main__":
    anyio.run(serve, "--modern-only" in sys.argv[1:])
    sys.exit(0)
