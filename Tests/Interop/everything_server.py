#!/usr/bin/env python3
"""A downstream MCP server for persona-shim's interop tests, built on the official MCP Python SDK.

It uses the SDK's low-level `Server`, which exposes every part of the protocol a child can use:
tools (with titles, icons, output schemas, structured content, resource links, a task-only tool),
progress, cancellation, logging, sampling, elicitation and roots requests back to the client,
resources (static, template, subscribe, updated notifications), prompts, completion, and the three
list_changed notifications.

Usage: everything_server.py [--name NAME] [--state-dir DIR] [--startup-delay SECONDS] [--no-completion]

With --state-dir, everything the server observes from its client (initialize capabilities,
logging/setLevel, subscriptions, cancellations, roots/list_changed) is appended as one JSON object
per line to DIR/<name>.events.jsonl, so tests can check what reached the server through the shim.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

warnings.simplefilter("ignore")  # the SDK marks sampling, roots and logging deprecated as of 2026-07-28

import anyio  # noqa: E402
import mcp_types as types  # noqa: E402
from mcp.server.lowlevel import NotificationOptions, Server  # noqa: E402
from mcp.server.stdio import stdio_server  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

ICON = types.Icon(
    src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    mime_type="image/png",
    sizes=["1x1"],
)
LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
GREET_NAMES = ["Alice", "Alan", "Bob", "Bea"]
ITEM_IDS = ["1", "2", "42"]


class State:
    def __init__(self, name: str, state_dir: str | None) -> None:
        self.name = name
        self.events_path = os.path.join(state_dir, f"{name}.events.jsonl") if state_dir else None
        self.dynamic_tools: list[str] = []
        self.dynamic_prompts: list[str] = []
        self.dynamic_resources: list[str] = []

    def record(self, event: str, **fields: Any) -> None:
        if self.events_path is None:
            return
        line = json.dumps({"event": event, "pid": os.getpid(), "t": time.time(), **fields})
        with open(self.events_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def text(value: str) -> types.TextContent:
    return types.TextContent(type="text", text=value)


def tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[text(message)], is_error=True)


def build_server(args: argparse.Namespace) -> Server[Any]:
    state = State(args.name, args.state_dir)
    name = args.name

    static_tools = [
        types.Tool(
            name="add",
            title="Add two numbers",
            description="Adds a and b; the sum is in structuredContent.",
            input_schema=obj({"a": {"type": "integer"}, "b": {"type": "integer"}}, ["a", "b"]),
            output_schema=obj({"sum": {"type": "integer"}}, ["sum"]),
            icons=[ICON],
            annotations=types.ToolAnnotations(title="Add", read_only_hint=True),
        ),
        types.Tool(
            name="long_task",
            title="Long task",
            description="Sends one progress notification per step, sleeping delay_ms between steps.",
            input_schema=obj({"steps": {"type": "integer"}, "delay_ms": {"type": "integer"}}, ["steps"]),
        ),
        types.Tool(
            name="log",
            description="Emits notifications/message at the given level.",
            input_schema=obj(
                {"level": {"type": "string", "enum": LEVELS}, "message": {"type": "string"}, "logger": {"type": "string"}},
                ["level", "message"],
            ),
        ),
        types.Tool(
            name="ask_model",
            description="Asks the client to sample (sampling/createMessage) and returns the text.",
            input_schema=obj({"prompt": {"type": "string"}}, ["prompt"]),
        ),
        types.Tool(
            name="ask_user",
            description="Asks the user through elicitation/create (form mode) and returns the answer.",
            input_schema=obj({"question": {"type": "string"}}, ["question"]),
        ),
        types.Tool(
            name="list_roots",
            description="Calls roots/list on the client and returns the roots.",
            input_schema=obj({}),
        ),
        types.Tool(name="secret_tool", description="Personas hide this tool.", input_schema=obj({})),
        types.Tool(
            name="touch",
            description="Sends notifications/resources/updated for uri.",
            input_schema=obj({"uri": {"type": "string"}}, ["uri"]),
        ),
        types.Tool(
            name="get_links",
            title="Links",
            description="Returns a resource_link block and an embedded resource block for memo://notes.",
            input_schema=obj({}),
        ),
        types.Tool(
            name="late_progress",
            description="Answers at once, then sends progress for the finished request and for an unknown token.",
            input_schema=obj({"delay_ms": {"type": "integer"}}),
        ),
        types.Tool(
            name="add_dynamic_tool",
            description="Adds an echo tool of the given name and sends notifications/tools/list_changed twice.",
            input_schema=obj({"name": {"type": "string"}}, ["name"]),
        ),
        types.Tool(
            name="add_dynamic_prompt",
            description="Adds a prompt of the given name and sends notifications/prompts/list_changed twice.",
            input_schema=obj({"name": {"type": "string"}}, ["name"]),
        ),
        types.Tool(
            name="add_dynamic_resource",
            description="Adds a text resource with the given uri and sends notifications/resources/list_changed.",
            input_schema=obj({"uri": {"type": "string"}}, ["uri"]),
        ),
        types.Tool(
            name="task_only",
            description="Only callable as a task (execution.taskSupport = required).",
            input_schema=obj({}),
            execution=types.ToolExecution(task_support="required"),
        ),
    ]

    @asynccontextmanager
    async def lifespan(_server: Server[Any]) -> AsyncIterator[dict[str, Any]]:
        async with anyio.create_task_group() as tg:
            yield {"tg": tg}
            tg.cancel_scope.cancel()

    # ---- tools

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        dynamic = [
            types.Tool(name=n, description="Dynamic echo tool.", input_schema=obj({}, None))
            for n in state.dynamic_tools
        ]
        return types.ListToolsResult(tools=static_tools + dynamic)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = params.name
        a = params.arguments or {}
        if tool == "add":
            total = int(a["a"]) + int(a["b"])
            return types.CallToolResult(content=[text("sum computed")], structured_content={"sum": total})
        if tool == "long_task":
            steps = int(a.get("steps", 3))
            delay = int(a.get("delay_ms", 50)) / 1000
            try:
                for i in range(steps):
                    await ctx.session.report_progress(i + 1, steps, f"step {i + 1} of {steps}")
                    await anyio.sleep(delay)
            except anyio.get_cancelled_exc_class():
                state.record("cancelled", tool="long_task", request_id=ctx.request_id)
                raise
            return types.CallToolResult(content=[text(f"done {steps}")])
        if tool == "log":
            await ctx.session.send_log_message(a["level"], a["message"], logger=a.get("logger"))
            return types.CallToolResult(content=[text("logged")])
        if tool == "ask_model":
            try:
                result = await ctx.session.create_message(
                    messages=[types.SamplingMessage(role="user", content=text(a["prompt"]))],
                    max_tokens=64,
                )
            except MCPError as e:
                return tool_error(f"sampling refused: code={e.code} message={e.message}")
            content = result.content
            answer = content.text if isinstance(content, types.TextContent) else repr(content)
            return types.CallToolResult(content=[text(answer)])
        if tool == "ask_user":
            try:
                result = await ctx.session.elicit_form(
                    message=a["question"],
                    requested_schema={
                        "type": "object",
                        "properties": {"answer": {"type": "string", "description": "Your answer"}},
                        "required": ["answer"],
                    },
                )
            except MCPError as e:
                return tool_error(f"elicitation refused: code={e.code} message={e.message}")
            return types.CallToolResult(content=[text(json.dumps({"action": result.action, "content": result.content}))])
        if tool == "list_roots":
            try:
                result = await ctx.session.list_roots()
            except MCPError as e:
                return tool_error(f"roots refused: code={e.code} message={e.message}")
            roots = [{"uri": str(r.uri), "name": r.name} for r in result.roots]
            return types.CallToolResult(content=[text(json.dumps(roots))])
        if tool == "secret_tool":
            return types.CallToolResult(content=[text(f"the secret of {name}")])
        if tool == "touch":
            await ctx.session.send_resource_updated(a["uri"])
            return types.CallToolResult(content=[text("touched")])
        if tool == "get_links":
            return types.CallToolResult(
                content=[
                    types.ResourceLink(
                        type="resource_link", uri="memo://notes", name="notes", title="Notes", mime_type="text/plain"
                    ),
                    types.EmbeddedResource(
                        type="resource",
                        resource=types.TextResourceContents(uri="memo://notes", text=f"notes of {name}", mime_type="text/plain"),
                    ),
                ]
            )
        if tool == "late_progress":
            token = (ctx.meta or {}).get("progressToken")
            delay = int(a.get("delay_ms", 200)) / 1000
            session = ctx.session

            async def later() -> None:
                await anyio.sleep(delay)
                if token is not None:
                    await session.send_progress_notification(token, 99, 100, "after the response")
                await session.send_progress_notification(f"no-such-token-{name}", 1, 2, "unknown token")
                await session.send_log_message("error", "late_progress sent its late notifications", logger="late")

            ctx.lifespan_context["tg"].start_soon(later)
            return types.CallToolResult(content=[text("answered")])
        if tool == "add_dynamic_tool":
            state.dynamic_tools.append(a["name"])
            await ctx.session.send_tool_list_changed()
            await ctx.session.send_tool_list_changed()
            return types.CallToolResult(content=[text("added")])
        if tool == "add_dynamic_prompt":
            state.dynamic_prompts.append(a["name"])
            await ctx.session.send_prompt_list_changed()
            await ctx.session.send_prompt_list_changed()
            return types.CallToolResult(content=[text("added")])
        if tool == "add_dynamic_resource":
            state.dynamic_resources.append(a["uri"])
            await ctx.session.send_resource_list_changed()
            return types.CallToolResult(content=[text("added")])
        if tool == "task_only":
            return tool_error("task_only must be called as a task")
        if tool in state.dynamic_tools:
            return types.CallToolResult(content=[text(f"dynamic {tool}")])
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {tool}")

    # ---- resources

    def resources() -> list[types.Resource]:
        fixed = [
            types.Resource(uri="memo://notes", name="notes", title="Notes", mime_type="text/plain", icons=[ICON]),
            types.Resource(uri="memo://secret", name="secret", title="Secret memo", mime_type="text/plain"),
        ]
        return fixed + [types.Resource(uri=u, name=u.rsplit("/", 1)[-1], mime_type="text/plain") for u in state.dynamic_resources]

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=resources())

    async def list_templates(ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template="memo://items/{id}", name="item", title="Item", mime_type="text/plain", icons=[ICON]
                )
            ]
        )

    async def read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri == "memo://notes":
            body = f"notes of {name}"
        elif uri == "memo://secret":
            body = f"secret memo of {name}"
        elif uri.startswith("memo://items/"):
            body = f"item {uri.rsplit('/', 1)[-1]} of {name}"
        elif uri in state.dynamic_resources:
            body = f"dynamic {uri} of {name}"
        else:
            raise MCPError(code=-32002, message=f"Resource not found: {uri}")
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, text=body, mime_type="text/plain")])

    async def subscribe(ctx: Any, params: types.SubscribeRequestParams) -> types.EmptyResult:
        state.record("subscribe", uri=str(params.uri))
        return types.EmptyResult()

    async def unsubscribe(ctx: Any, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        state.record("unsubscribe", uri=str(params.uri))
        return types.EmptyResult()

    # ---- prompts

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        fixed = [
            types.Prompt(
                name="greet",
                title="Greeting",
                description="Greets someone by name.",
                arguments=[types.PromptArgument(name="name", title="Name", description="Who to greet", required=True)],
                icons=[ICON],
            ),
            types.Prompt(name="hidden_prompt", description="Personas hide this prompt."),
        ]
        return types.ListPromptsResult(prompts=fixed + [types.Prompt(name=p, description="Dynamic prompt.") for p in state.dynamic_prompts])

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        args = params.arguments or {}
        if params.name == "greet":
            return types.GetPromptResult(
                description="A greeting",
                messages=[
                    types.PromptMessage(role="user", content=text(f"Hello, {args.get('name', 'nobody')}! ({name})")),
                    types.PromptMessage(
                        role="user",
                        content=types.EmbeddedResource(
                            type="resource",
                            resource=types.TextResourceContents(uri="memo://notes", text=f"notes of {name}", mime_type="text/plain"),
                        ),
                    ),
                    types.PromptMessage(
                        role="user",
                        content=types.ResourceLink(type="resource_link", uri="memo://items/1", name="item 1"),
                    ),
                ],
            )
        if params.name == "hidden_prompt" or params.name in state.dynamic_prompts:
            return types.GetPromptResult(messages=[types.PromptMessage(role="user", content=text(f"{params.name} of {name}"))])
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown prompt: {params.name}")

    # ---- completion

    async def complete(ctx: Any, params: types.CompleteRequestParams) -> types.CompleteResult:
        ref = params.ref
        prefix = params.argument.value
        values: list[str] = []
        if isinstance(ref, types.PromptReference) and ref.name == "greet" and params.argument.name == "name":
            values = [v for v in GREET_NAMES if v.startswith(prefix)]
        elif isinstance(ref, types.ResourceTemplateReference) and ref.uri == "memo://items/{id}" and params.argument.name == "id":
            values = [v for v in ITEM_IDS if v.startswith(prefix)]
        state.record("complete", ref=ref.model_dump(by_alias=True, exclude_none=True), argument=params.argument.name)
        return types.CompleteResult(completion=types.Completion(values=values, total=len(values), has_more=False))

    # ---- logging and roots notifications

    async def set_level(ctx: Any, params: types.SetLevelRequestParams) -> types.EmptyResult:
        state.record("setLevel", level=params.level)
        return types.EmptyResult()

    async def roots_changed(ctx: Any, params: Any) -> None:
        state.record("roots_list_changed")

    handlers: dict[str, Any] = dict(
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
        on_set_logging_level=set_level,
        on_roots_list_changed=roots_changed,
    )
    if not args.no_completion:
        handlers["on_completion"] = complete

    server: Server[Any] = Server(
        name,
        version="1.0.0",
        title=f"Everything ({name})",
        instructions="Interop test server.",
        icons=[ICON],
        lifespan=lifespan,
        **handlers,
    )

    async def record_initialize(ctx: Any, call_next: Any) -> Any:
        if ctx.method == "initialize":
            params = dict(ctx.params or {})
            state.record(
                "initialize",
                protocolVersion=params.get("protocolVersion"),
                capabilities=params.get("capabilities"),
                clientInfo=params.get("clientInfo"),
            )
        return await call_next(ctx)

    server.middleware.append(record_initialize)
    return server


async def serve(args: argparse.Namespace) -> None:
    server = build_server(args)
    options = server.create_initialization_options(
        NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
    )
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="everything")
    parser.add_argument("--state-dir")
    parser.add_argument("--startup-delay", type=float, default=0.0, help="sleep before reading stdin")
    parser.add_argument("--no-completion", action="store_true", help="offer no completions capability")
    args = parser.parse_args()
    if args.startup_delay:
        time.sleep(args.startup_delay)
    anyio.run(serve, args)


if __name__ == "__main__":
    sys.exit(main())
