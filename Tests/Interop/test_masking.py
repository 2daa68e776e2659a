"""Masking through the shim, read by the official SDK: planted personal data and secrets never reach it, and the
masked structured result still validates against the tool's outputSchema (the SDK checks it with jsonschema)."""

from __future__ import annotations

import jsonschema
import pytest
from mcp.shared.exceptions import MCPError

from harness import connect, fixture, persona, text_of

PLANTED = ("jane.doe", "4111", "AKIAZ7Q3")


def masking_persona(bins):
    document = persona({"fx": fixture(bins, "--masking-tools", "--resources")}, resources={"allow": ["*"]})
    document["masking"] = {"replacement": "hash", "exempt": {"pointers": ["/structuredContent/agentEmail"]}}
    return document


async def test_masked_results_reach_the_sdk_valid_and_without_the_planted_values(shims, bins, agent_kind):
    shim = shims(masking_persona(bins))
    async with connect(shim, agent_kind) as agent:
        listing = await agent.list_tools()
        schema = next(t for t in listing.tools if t.name == "fx__leak_all").output_schema
        result = await agent.call_tool("fx__leak_all", {})
        assert not result.is_error, f"leak_all: {result}"
        jsonschema.validate(result.structured_content, schema, format_checker=jsonschema.FormatChecker())
        assert result.structured_content["customer"]["email"].startswith("[masked:email:")
        assert "[masked:card:" in text_of(result)
        strict = await agent.call_tool("fx__leak_strict", {})
        assert strict.is_error and "/structuredContent/contact" in text_of(strict), f"leak_strict: {strict}"
        with pytest.raises(MCPError) as excinfo:
            await agent.call_tool("fx__leak_error", {})
        assert "[masked:email:" in str(excinfo.value)
        refused = await agent.call_tool("fx__send", {"key": "AKIAZ7Q3KX4M2LBN8WTR"})
        assert refused.is_error and "aws-access-key" in text_of(refused), f"send: {refused}"
    written = "\n".join(e.line for e in shim.traffic().out())
    for value in PLANTED:
        assert value not in written, f"{value} reached the agent"
        assert value not in shim.audit_path.read_text(encoding="utf-8"), f"{value} reached the audit file"
        assert value not in shim.stderr_tail(10_000), f"{value} reached stderr"
