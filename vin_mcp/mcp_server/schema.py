"""Compact JSON schemas for ``tools/list``: every character is paid for in every conversation.

The pydantic models still validate arguments and answers; only the published schemas are rewritten,
into equivalent, smaller ones: no titles (they repeat the property names), ``$ref`` inlined,
``anyOf [X, null]`` written as ``type: [X, "null"]`` for arguments (a null argument is accepted) and as X
in output schemas (answers omit nulls), no ``default`` of false or 0, and, in output schemas, no defaults
and descriptions.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

_NULL = {"type": "null"}


def compact_schema(schema: dict[str, Any], *, output: bool, loose: frozenset[str] = frozenset()) -> dict[str, Any]:
    """An equivalent schema without the bulk; an output schema also loses descriptions and defaults.

    Properties named in ``loose`` are published as their bare type (``{"type": "object"}``): for
    secondary details whose full shape costs more tokens than it is worth to a client.
    """
    compacted: dict[str, Any] = _Compactor(schema.get("$defs", {}), output, loose).compact(schema)
    return compacted


class _Compactor:
    def __init__(self, definitions: dict[str, Any], output: bool, loose: frozenset[str]) -> None:
        self.definitions = definitions
        self.output = output
        self.loose = loose

    def compact(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.compact(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = self.definitions[node["$ref"].rsplit("/", 1)[-1]]
            return self.compact({**target, **{k: v for k, v in node.items() if k != "$ref"}})
        variants = node.get("anyOf")
        if isinstance(variants, list) and _NULL in variants and len(variants) == 2:
            (other,) = [variant for variant in variants if variant != _NULL]
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            if "default" in rest and rest["default"] is None:
                del rest["default"]
            if not self.output and isinstance(other.get("type"), str):
                other = {**other, "type": [other["type"], "null"]}
            return self.compact({**other, **rest})
        compacted: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("title", "$defs") or (self.output and key in ("description", "default")):
                continue
            if key == "default" and value == 0:  # an unset flag or offset says the same, for fewer tokens
                continue
            if key == "properties":
                compacted[key] = {name: self.property(name, prop) for name, prop in value.items()}
            else:
                compacted[key] = self.compact(value)
        return compacted

    def property(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        compacted: dict[str, Any] = self.compact(schema)
        if name in self.loose and "type" in compacted:
            return {"type": compacted["type"]}
        return compacted


class CompactToolSchemas:
    """SDK server middleware: tools/list publishes the compact schemas. The registered tools keep the SDK's
    full ones, which validate every argument and answer.

    ``loose`` names output properties published as their bare type (see ``compact_schema``).
    """

    def __init__(self, loose: frozenset[str]) -> None:
        self.loose = loose

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method != "tools/list" or not isinstance(result, dict):
            return result
        return {**result, "tools": [self._compact(tool) for tool in result.get("tools", [])]}

    def _compact(self, tool: dict[str, Any]) -> dict[str, Any]:
        compacted = {**tool, "inputSchema": compact_schema(tool["inputSchema"], output=False)}
        if tool.get("outputSchema"):
            compacted["outputSchema"] = compact_schema(tool["outputSchema"], output=True, loose=self.loose)
        return compacted
