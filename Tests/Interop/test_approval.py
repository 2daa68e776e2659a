"""Human approval with the official Python SDK as the client: persona-shim itself asks the agent's person, through
the SDK's elicitation callback (the handshake era) or its multi round-trip handling of an `input_required` result
(2026-07-28). Only an accepted yes runs the one parked call; decline, cancel, an error, a wrong shape and silence
refuse it, and the server never sees it. Every message persona-shim wrote is checked against the schema (conftest).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, ClientSession, stdio_client

from harness import READ_TIMEOUT, fixture, persona, text_of

Answer = Callable[[types.ElicitRequestParams], Awaitable[Any]]

RULES = [
    {
        "id": "big-refunds",
        "tools": ["fx__refund"],
        "when": {"amount": {"exclusiveMinimum": 100}},
        "decision": "ask",
        "reason": "Refunds above 100 need a person",
    }
]


def _persona(bins, timeout: int = 30) -> dict[str, Any]:
    document = persona({"fx": fixture(bins, "--policy-tools")}, tools={"allow": ["fx__refund", "fx__echo"]}, name="refunds")
    document["rules"] = RULES
    document["approval"] = {"timeoutSeconds": timeout}
    return document


@asynccontextmanager
async def _agent(shim, kind: str, answer: Answer, asked: list) -> AsyncIterator[Any]:
    """An SDK agent whose elicitation callback records the question and answers with `answer`."""

    async def on_elicit(ctx: Any, params: types.ElicitRequestParams) -> Any:
        asked.append(params)
        return await answer(params)

    info = types.Implementation(name=f"approval-{kind}", version="1.0.0")
    with open(shim.stderr_path, "a", encoding="utf-8") as errlog:
        async with AsyncExitStack() as stack:
            if kind == "session":
                read, write = await stack.enter_async_context(stdio_client(shim.parameters(), errlog=errlog))
                session = await stack.enter_async_context(
                    ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT, client_info=info, elicitation_callback=on_elicit)
                )
                await session.initialize()
                yield session
            else:
                transport = stdio_client(shim.parameters(), errlog=errlog)
                mode = "legacy" if kind == "client" else "auto"
                client = await stack.enter_async_context(
                    Client(transport, mode=mode, read_timeout_seconds=READ_TIMEOUT, client_info=info, elicitation_callback=on_elicit)
                )
                yield client


def _reply(action: str, content: dict[str, Any] | None = None) -> Answer:
    async def answer(params: types.ElicitRequestParams) -> Any:
        return types.ElicitResult(action=action, content=content)

    return answer


def _records(shim, event: str) -> list[dict[str, Any]]:
    return [r for r in shim.audit() if r.get("event") == event]


def _forwarded_refunds(shim) -> int:
    # Decisions that let a refund through; the fixture answers each one it gets.
    return len([r for r in _records(shim, "call.decision") if r.get("tool") == "fx__refund" and r["decision"] == "allow"])


@pytest.mark.parametrize("kind", ["session", "client", "modern"])
async def test_an_accepted_yes_runs_exactly_the_approved_call(shims, bins, kind: str):
    shim = shims(_persona(bins))
    asked: list = []
    async with _agent(shim, kind, _reply("accept", {"approve": True}), asked) as agent:
        result = await agent.call_tool("fx__refund", {"amount": 250, "customer": "cus_1"})
        assert not result.is_error, text_of(result)
        assert '"amount":250' in text_of(result).replace(" ", ""), text_of(result)
        # Below the threshold nobody is asked.
        small = await agent.call_tool("fx__refund", {"amount": 5})
        assert not small.is_error, text_of(small)
    assert len(asked) == 1, asked
    message = asked[0].message
    for part in ('"refunds"', "fx__refund", '{"amount":250,"customer":"cus_1"}', "Refunds above 100 need a person", "sha256:"):
        assert part in message, (part, message)
    answered = _records(shim, "approval.answered")
    assert [(a["answer"], a["by"]) for a in answered] == [("approved", "client")], answered
    approved = [r for r in _records(shim, "call.decision") if r.get("approval")]
    assert len(approved) == 1 and approved[0]["approvedArgsDigest"] == approved[0]["argsDigest"], approved
    assert _records(shim, "approval.asked")[0]["argsDigest"] == approved[0]["argsDigest"]


async def _error(params: types.ElicitRequestParams) -> Any:
    return types.ErrorData(code=-32603, message="the person's screen is locked")


async def _silence(params: types.ElicitRequestParams) -> Any:
    await anyio.sleep(30)
    return types.ElicitResult(action="accept", content={"approve": True})


@pytest.mark.parametrize(
    "name, answer, verdict",
    [
        ("decline", _reply("decline"), "denied"),
        ("cancel", _reply("cancel"), "denied"),
        ("no", _reply("accept", {"approve": False}), "denied"),
        ("wrong shape", _reply("accept", {"approved": "yes"}), "failed"),
        ("error", _error, "failed"),
        ("silence", _silence, "timeout"),
    ],
)
async def test_anything_but_a_yes_refuses_and_nothing_reaches_the_server(shims, bins, name: str, answer: Answer, verdict: str):
    shim = shims(_persona(bins, timeout=2))
    asked: list = []
    async with _agent(shim, "session", answer, asked) as agent:
        result = await agent.call_tool("fx__refund", {"amount": 500})
        assert result.is_error, text_of(result)
        assert "needs a person's approval" in text_of(result) and "(rule big-refunds)" in text_of(result), text_of(result)
        # The session goes on.
        assert not (await agent.call_tool("fx__echo", {"n": 1})).is_error
    assert len(asked) == 1
    assert _forwarded_refunds(shim) == 0
    assert [a["answer"] for a in _records(shim, "approval.answered")] == [verdict]


async def test_other_calls_flow_while_one_is_parked(shims, bins):
    shim = shims(_persona(bins))
    release = anyio.Event()
    asked: list = []

    async def wait_for_release(params: types.ElicitRequestParams) -> Any:
        await release.wait()
        return types.ElicitResult(action="accept", content={"approve": True})

    async with _agent(shim, "session", wait_for_release, asked) as agent:
        results: dict[str, Any] = {}

        async def refund() -> None:
            results["refund"] = await agent.call_tool("fx__refund", {"amount": 900})

        async with anyio.create_task_group() as group:
            group.start_soon(refund)
            with anyio.fail_after(20):
                while not asked:
                    await anyio.sleep(0.05)
            for n in range(3):
                echoed = await agent.call_tool("fx__echo", {"n": n})
                assert not echoed.is_error, text_of(echoed)
            assert "refund" not in results, "the parked refund must still wait"
            release.set()
        assert not results["refund"].is_error, text_of(results["refund"])


async def test_a_new_era_client_answers_in_its_retry_and_holds_only_the_sealed_state(shims, bins):
    """The SDK's auto mode answers the `input_required` question and retries with the shim's sealed state; a
    decline there refuses. (Changed arguments, tampered and replayed states: EndToEndTests/ApprovalTests.swift.)"""
    shim = shims(_persona(bins))
    asked: list = []
    async with _agent(shim, "modern", _reply("accept", {"approve": True}), asked) as agent:
        assert agent.session.protocol_version == "2026-07-28"
        result = await agent.call_tool("fx__refund", {"amount": 300})
        assert not result.is_error, text_of(result)
    states = [
        m.message["result"]["requestState"]
        for m in shim.traffic().out()
        if isinstance(m.message, dict) and (m.message.get("result") or {}).get("resultType") == "input_required"
    ]
    assert len(states) == 1 and states[0].startswith("ps1."), states
    decisions = [r for r in _records(shim, "call.decision") if r.get("approval")]
    assert len(decisions) == 1 and decisions[0]["decision"] == "allow", decisions
    declined = shims(_persona(bins), label="declined")
    async with _agent(declined, "modern", _reply("decline"), []) as agent:
        result = await agent.call_tool("fx__refund", {"amount": 300})
        assert result.is_error and "did not approve" in text_of(result), text_of(result)
    assert _forwarded_refunds(declined) == 0
