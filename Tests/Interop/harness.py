"""The interop harness: personas, persona-shim launched through tee_shim.py, and an agent built on the official SDK.

An agent is either the SDK's `ClientSession` over `stdio_client` ("session"), or its high-level `Client` in the
default auto mode ("client"), which probes `server/discover` before falling back to `initialize`. `Agent` gives
both the same small API, so one test body drives either.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from schema_check import TrafficLog

warnings.simplefilter("ignore")  # the SDK marks sampling, roots, logging and subscribe deprecated as of 2026-07-28

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EVERYTHING = HERE / "everything_server.py"
TEE = HERE / "tee_shim.py"
PYTHON = sys.executable
VENV_BIN = Path(sys.executable).parent

# A request that gets no answer must fail the test, not hang the suite.
READ_TIMEOUT = 30.0


def bin_dir() -> Path:
    """PERSONA_SHIM_BIN_DIR, or what `swift build --show-bin-path` prints in the repository."""
    configured = os.environ.get("PERSONA_SHIM_BIN_DIR")
    if configured:
        return Path(configured)
    out = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    return Path(out)


# ---- servers (persona "servers" entries)


def everything(name: str, state_dir: Path | None = None, *extra: str) -> dict[str, Any]:
    args = [str(EVERYTHING), "--name", name.lower()]
    if state_dir is not None:
        args += ["--state-dir", str(state_dir)]
    return {"command": PYTHON, "args": args + list(extra)}


def fixture(bins: Path, *args: str) -> dict[str, Any]:
    return {"command": str(bins / "persona-fixture"), "args": list(args)}


def time_server() -> dict[str, Any]:
    return {"command": str(VENV_BIN / "mcp-server-time"), "args": ["--local-timezone", "UTC"]}


def git_server(repository: Path) -> dict[str, Any]:
    return {"command": str(VENV_BIN / "mcp-server-git"), "args": ["--repository", str(repository)]}


def persona(
    servers: dict[str, dict[str, Any]],
    *,
    tools: dict[str, list[str]] | None = None,
    resources: dict[str, list[str]] | None = None,
    prompts: dict[str, list[str]] | None = None,
    server_requests: dict[str, bool] | None = None,
    timeouts: dict[str, float] | None = None,
    name: str = "interop",
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "persona": name,
        "purpose": "Interop tests of persona-shim with the official MCP Python SDK.",
        "owner": "interop-tests@example.com",
        "reviewBy": "2099-01-01",
        "servers": servers,
        "tools": tools if tools is not None else {"allow": ["*"]},
    }
    if resources is not None:
        document["resources"] = resources
    if prompts is not None:
        document["prompts"] = prompts
    if server_requests is not None:
        document["serverRequests"] = server_requests
    if timeouts is not None:
        document["timeouts"] = timeouts
    return document


# ---- persona-shim under the tee


@dataclass
class Shim:
    """One persona-shim run: its persona file, audit file, traffic log and stderr."""

    directory: Path
    bins: Path
    persona: dict[str, Any]

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.persona_path = self.directory / "persona.json"
        self.persona_path.write_text(json.dumps(self.persona, indent=2), encoding="utf-8")
        self.audit_path = self.directory / "audit.jsonl"
        self.log_path = self.directory / "traffic.jsonl"
        self.stderr_path = self.directory / "stderr.txt"

    def parameters(self) -> StdioServerParameters:
        shim = self.bins / "persona-shim"
        return StdioServerParameters(
            command=PYTHON,
            args=[str(TEE), str(self.log_path), "--", str(shim), "--persona", str(self.persona_path), "--audit", str(self.audit_path)],
            env={"PERSONA_SHIM_LOG": "debug"},
        )

    def traffic(self) -> TrafficLog:
        return TrafficLog.read(self.log_path)

    def stderr_tail(self, lines: int = 40) -> str:
        if not self.stderr_path.exists():
            return ""
        return "\n".join(self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def first_error(self) -> str:
        """persona-shim's first error line on stderr, if any."""
        for line in self.stderr_tail(200).splitlines():
            if "error:" in line and not line.startswith("["):
                return f"persona-shim said: {line.strip()[:300]}"
        return "persona-shim printed no error"

    def audit(self) -> list[dict[str, Any]]:
        if not self.audit_path.exists():
            return []
        return [json.loads(line) for line in self.audit_path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---- the agent


@dataclass
class Seen:
    """What reached the agent's callbacks."""

    notifications: list[tuple[float, Any]] = field(default_factory=list)
    logs: list[types.LoggingMessageNotificationParams] = field(default_factory=list)
    sampling: list[types.CreateMessageRequestParams] = field(default_factory=list)
    elicitation: list[types.ElicitRequestParams] = field(default_factory=list)
    roots: int = 0
    changed: anyio.Event = field(default_factory=anyio.Event)

    def methods(self) -> list[str]:
        return [n.method for _, n in self.notifications if hasattr(n, "method")]


SamplingAnswer = Callable[[types.CreateMessageRequestParams], Awaitable[str]]


async def _default_answer(params: types.CreateMessageRequestParams) -> str:
    first = params.messages[0].content
    prompt = first.text if isinstance(first, types.TextContent) else "?"
    return f"model answer to: {prompt}"


@dataclass
class Callbacks:
    """Which client capabilities the agent declares (the SDK declares one exactly when its callback is set)."""

    sampling: bool = False
    elicitation: bool = False
    roots: list[types.Root] | None = None
    sampling_answer: SamplingAnswer = _default_answer
    elicitation_answer: dict[str, Any] = field(default_factory=lambda: {"answer": "forty-two"})
    # Answer "re: <message>" after a short pause instead (keeps concurrent requests in flight together).
    elicitation_echo: bool = False


class Agent:
    """An MCP client on the official SDK, talking to persona-shim."""

    def __init__(self, kind: str, session: ClientSession, client: Client | None, seen: Seen, shim: Shim) -> None:
        self.kind = kind
        self.session = session
        self.client = client
        self.seen = seen
        self.shim = shim

    @property
    def initialize_result(self) -> types.InitializeResult:
        result = self.session.initialize_result
        assert result is not None, "the agent is not initialized (no InitializeResult)"
        return result

    @property
    def protocol_version(self) -> str | None:
        return self.session.protocol_version

    async def list_tools(self, cursor: str | None = None) -> types.ListToolsResult:
        if self.client is not None:
            return await self.client.list_tools(cursor=cursor, cache_mode="bypass")
        params = types.PaginatedRequestParams(cursor=cursor) if cursor is not None else None
        return await self.session.list_tools(params=params)

    async def tool_names(self) -> list[str]:
        return [t.name for t in (await self.list_tools()).tools]

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        progress_callback: Any = None,
        meta: dict[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> types.CallToolResult:
        target = self.client if self.client is not None else self.session
        return await target.call_tool(
            name, arguments or {}, read_timeout_seconds=read_timeout, progress_callback=progress_callback, meta=meta
        )

    async def list_resources(self, cursor: str | None = None) -> types.ListResourcesResult:
        if self.client is not None:
            return await self.client.list_resources(cursor=cursor, cache_mode="bypass")
        params = types.PaginatedRequestParams(cursor=cursor) if cursor is not None else None
        return await self.session.list_resources(params=params)

    async def list_resource_templates(self, cursor: str | None = None) -> types.ListResourceTemplatesResult:
        if self.client is not None:
            return await self.client.list_resource_templates(cursor=cursor, cache_mode="bypass")
        params = types.PaginatedRequestParams(cursor=cursor) if cursor is not None else None
        return await self.session.list_resource_templates(params=params)

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        if self.client is not None:
            return await self.client.read_resource(uri, cache_mode="bypass")
        return await self.session.read_resource(uri)

    async def subscribe(self, uri: str) -> Any:
        target = self.client if self.client is not None else self.session
        return await target.subscribe_resource(uri)

    async def unsubscribe(self, uri: str) -> Any:
        target = self.client if self.client is not None else self.session
        return await target.unsubscribe_resource(uri)

    async def list_prompts(self, cursor: str | None = None) -> types.ListPromptsResult:
        if self.client is not None:
            return await self.client.list_prompts(cursor=cursor, cache_mode="bypass")
        params = types.PaginatedRequestParams(cursor=cursor) if cursor is not None else None
        return await self.session.list_prompts(params=params)

    async def get_prompt(self, name: str, arguments: dict[str, str] | None = None) -> types.GetPromptResult:
        target = self.client if self.client is not None else self.session
        return await target.get_prompt(name, arguments)

    async def complete_prompt(self, prompt: str, argument: str, value: str) -> types.CompleteResult:
        target = self.client if self.client is not None else self.session
        return await target.complete(types.PromptReference(type="ref/prompt", name=prompt), {"name": argument, "value": value})

    async def complete_resource(self, uri: str, argument: str, value: str) -> types.CompleteResult:
        target = self.client if self.client is not None else self.session
        return await target.complete(types.ResourceTemplateReference(type="ref/resource", uri=uri), {"name": argument, "value": value})

    async def set_logging_level(self, level: types.LoggingLevel) -> Any:
        target = self.client if self.client is not None else self.session
        return await target.set_logging_level(level)

    async def send_roots_list_changed(self) -> None:
        target = self.client if self.client is not None else self.session
        await target.send_roots_list_changed()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Polls predicate (over what reached the agent) until it holds; fails the test with `what` if it never does."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            await anyio.sleep(0.05)


def _callbacks_for(callbacks: Callbacks, seen: Seen) -> dict[str, Any]:
    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            seen.notifications.append((time.monotonic(), message))
            return
        seen.notifications.append((time.monotonic(), message.root if hasattr(message, "root") else message))

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        seen.logs.append(params)

    kwargs: dict[str, Any] = {"message_handler": on_message, "logging_callback": on_log}
    if callbacks.sampling:

        async def on_sampling(ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
            seen.sampling.append(params)
            answer = await callbacks.sampling_answer(params)
            return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text=answer), model="interop-model")

        kwargs["sampling_callback"] = on_sampling
    if callbacks.elicitation:

        async def on_elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
            seen.elicitation.append(params)
            if callbacks.elicitation_echo:
                await anyio.sleep(0.5)
                return types.ElicitResult(action="accept", content={"answer": f"re: {params.message}"})
            return types.ElicitResult(action="accept", content=callbacks.elicitation_answer)

        kwargs["elicitation_callback"] = on_elicit
    if callbacks.roots is not None:
        roots = callbacks.roots

        async def on_roots(ctx: Any) -> types.ListRootsResult:
            seen.roots += 1
            return types.ListRootsResult(roots=roots)

        kwargs["list_roots_callback"] = on_roots
    return kwargs


@asynccontextmanager
async def connect(shim: Shim, kind: str = "session", callbacks: Callbacks | None = None) -> AsyncIterator[Agent]:
    """Launches persona-shim (under the tee) and connects an initialized SDK agent to it."""
    callbacks = callbacks or Callbacks()
    seen = Seen()
    kwargs = _callbacks_for(callbacks, seen)
    info = types.Implementation(name=f"interop-{kind}", version="1.0.0")
    if kind not in ("session", "client", "modern"):
        raise ValueError(f"unknown agent kind {kind!r}")
    with open(shim.stderr_path, "a", encoding="utf-8") as errlog:
        async with AsyncExitStack() as stack:
            try:
                if kind == "session":
                    read, write = await stack.enter_async_context(stdio_client(shim.parameters(), errlog=errlog))
                    session = await stack.enter_async_context(
                        ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT, client_info=info, **kwargs)
                    )
                    await session.initialize()
                    agent = Agent(kind, session, None, seen, shim)
                else:
                    # "client": the high-level Client over the initialize handshake (the legacy era); "modern": the
                    # same Client in its default auto mode, which probes server/discover and, persona-shim answering
                    # it, speaks 2026-07-28 without a handshake.
                    transport = stdio_client(shim.parameters(), errlog=errlog)
                    mode = "legacy" if kind == "client" else "auto"
                    client = await stack.enter_async_context(
                        Client(transport, mode=mode, read_timeout_seconds=READ_TIMEOUT, client_info=info, **kwargs)
                    )
                    agent = Agent(kind, client.session, client, seen, shim)
            except Exception as e:  # noqa: BLE001 - turned into one clear failure
                raise AssertionError(f"the {kind} agent could not connect to persona-shim: {_leaf(e)!r}; {shim.first_error()}") from e
            yield agent


def _leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def error_of(excinfo: Any) -> tuple[int, str]:
    """(code, message) of an MCPError caught by pytest.raises."""
    error = excinfo.value
    assert isinstance(error, MCPError), f"expected an MCPError, got {type(error).__name__}: {error}"
    return error.code, error.message


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def read_events(state_dir: Path, server: str) -> list[dict[str, Any]]:
    path = state_dir / f"{server.lower()}.events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def wait_for_out(shim: Shim, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
    """The first message persona-shim wrote to the agent that satisfies predicate; fails the test after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        for entry in shim.traffic().out():
            if isinstance(entry.message, dict) and predicate(entry.message):
                return entry.message
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for persona-shim to send {what}")
        await anyio.sleep(0.05)


def is_notification(method: str, **params: Any) -> Callable[[dict[str, Any]], bool]:
    def matches(message: dict[str, Any]) -> bool:
        if message.get("method") != method or "id" in message:
            return False
        got = message.get("params") or {}
        return all(got.get(k) == v for k, v in params.items())

    return matches


def notifications_out(shim: Shim, method: str) -> list[dict[str, Any]]:
    return shim.traffic().notifications(method)
