"""Wire shapes as tables of fields: one table builds the JSON and describes it.

Why a table rather than hand-written ``to_json`` methods plus a hand-written OpenAPI
document: the two drifted apart (the document said "object or array" for every answer).
A :class:`Shape` lists each field once, with its JSON schema and how to read its value
from the engine's own object, so the JSON the engine sends and the schema it publishes
cannot disagree, and adding a field is one line.

Schemas here are JSON Schema 2020-12 (what OpenAPI 3.1 uses): ``null`` is a type, so a
nullable field is ``{"type": ["string", "null"]}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, cast

type JsonSchema = dict[str, Any]

OMIT: Final = object()
"""Returned by a field's getter when the field is absent from this message."""

STRING: Final[JsonSchema] = {"type": "string"}
NUMBER: Final[JsonSchema] = {"type": "number"}
INTEGER: Final[JsonSchema] = {"type": "integer"}
BOOLEAN: Final[JsonSchema] = {"type": "boolean"}
ANY_OBJECT: Final[JsonSchema] = {"type": "object"}
"""A free-form object (rule thresholds, model descriptions): keys are not part of the contract."""


def nullable(schema: JsonSchema) -> JsonSchema:
    """``schema`` or ``null``."""
    kind = schema.get("type")
    if isinstance(kind, str) and set(schema) <= {"type", "minimum", "maximum", "enum", "format"}:
        widened = dict(schema, type=[kind, "null"])
        if "enum" in widened:
            widened["enum"] = [*widened["enum"], None]
        return widened
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: JsonSchema, **limits: int) -> JsonSchema:
    """A list of ``items`` (``minItems``/``maxItems`` as keyword arguments)."""
    return {"type": "array", "items": items, **limits}


def one_of(values: Iterable[str] | type[StrEnum]) -> JsonSchema:
    """One of a fixed set of strings (an enum of codes)."""
    return {"type": "string", "enum": [str(value) for value in values]}


def map_of(values: JsonSchema) -> JsonSchema:
    """An object whose keys are data (camera ids, rule names) and whose values are ``values``."""
    return {"type": "object", "additionalProperties": values}


@dataclass(frozen=True, slots=True)
class Field[T]:
    """One field of a :class:`Shape`: its name, schema, and how to read it from a ``T``.

    ``optional`` fields may be left out of a message (their getter returns :data:`OMIT`);
    every other field is always present, ``null`` when its schema allows.
    """

    name: str
    schema: JsonSchema
    get: Callable[[T], object]
    optional: bool = False
    description: str = ""


class Shape[T]:
    """A JSON object built from a ``T``, and the JSON schema of what it builds."""

    def __init__(self, name: str, fields: Sequence[Field[T]], *, description: str = "") -> None:
        """Name the shape (its OpenAPI component name) and keep its fields in wire order."""
        names = [field.name for field in fields]
        if len(names) != len(set(names)):
            raise ValueError(f"shape {name}: a field is listed twice in {names}")
        self.name = name
        self.fields = tuple(fields)
        self.description = description

    def build(self, item: T) -> dict[str, object]:
        """The JSON object for ``item``, fields in table order."""
        built: dict[str, object] = {}
        for field in self.fields:
            value = field.get(item)
            if value is not OMIT:
                built[field.name] = value
        return built

    @property
    def schema(self) -> JsonSchema:
        """The object's JSON schema: every field described, nothing else allowed."""
        properties: dict[str, JsonSchema] = {}
        for field in self.fields:
            properties[field.name] = (
                dict(field.schema, description=field.description)
                if field.description
                else field.schema
            )
        schema: JsonSchema = {
            "type": "object",
            "properties": properties,
            "required": [field.name for field in self.fields if not field.optional],
            "additionalProperties": False,
        }
        if self.description:
            schema["description"] = self.description
        return schema

    @property
    def field_names(self) -> tuple[str, ...]:
        """The fields' names, in wire order."""
        return tuple(field.name for field in self.fields)


def merge(*schemas: JsonSchema, description: str = "") -> JsonSchema:
    """One object schema with the properties and required keys of several object schemas.

    Used where a message is one object made of two owners' parts (a camera's configuration
    document and its live state).
    """
    properties: dict[str, JsonSchema] = {}
    required: list[str] = []
    for schema in schemas:
        properties.update(schema.get("properties", {}))
        required += [key for key in schema.get("required", ()) if key not in required]
    merged: JsonSchema = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if description:
        merged["description"] = description
    return merged


def voluptuous_schema(schema: Any, *, describe: Callable[[Any], JsonSchema | None]) -> JsonSchema:
    """The JSON schema of a voluptuous schema (the rules' option schemas, request bodies).

    Why not ``voluptuous-openapi``: it writes OpenAPI 3.0 (``nullable``), gives lists a
    ``minLength``, and calls any validator function a string. Here a function it cannot
    know is ``{}`` (any value, checked by the engine), unless ``describe`` knows it.
    """
    import voluptuous as vol  # the wire shapes above need no voluptuous

    def convert(node: Any) -> JsonSchema:
        known = describe(node)
        if known is not None:
            return known
        if isinstance(node, vol.Schema):
            return convert(node.schema)
        if isinstance(node, dict) and len(node) == 1 and not isinstance(next(iter(node)), str):
            key, value = next(iter(node.items()))
            if not isinstance(key, vol.Marker):
                # {validator: value}: keys are data (targets), every value the same shape.
                return {
                    "type": "object",
                    "propertyNames": convert(key),
                    "additionalProperties": convert(value),
                }
        if isinstance(node, dict):
            properties: dict[str, JsonSchema] = {}
            required: list[str] = []
            for key, value in node.items():
                name = key.schema if isinstance(key, vol.Marker) else key
                if not isinstance(name, str):
                    return ANY_OBJECT
                properties[name] = convert(value)
                if isinstance(key, vol.Required):
                    required.append(name)
            return {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            }
        if isinstance(node, list):
            return array(convert(node[0])) if len(node) == 1 else {"type": "array"}
        if isinstance(node, vol.Any):
            options = [convert(v) for v in node.validators]
            return {} if {} in options else {"anyOf": options}
        if isinstance(node, vol.All):
            merged: JsonSchema = {}
            for part in node.validators:
                if isinstance(part, vol.Length):
                    prefix = {"array": "Items", "object": "Properties"}.get(
                        str(merged.get("type")), "Length"
                    )
                    if part.min is not None:
                        merged[f"min{prefix}"] = part.min
                    if part.max is not None:
                        merged[f"max{prefix}"] = part.max
                    continue
                merged = convert(part) | merged if "type" in merged else merged | convert(part)
            return merged
        if isinstance(node, vol.Coerce):
            return convert(node.type)
        if isinstance(node, vol.Range):
            limits: JsonSchema = {}
            if node.min is not None:
                limits["minimum" if node.min_included else "exclusiveMinimum"] = node.min
            if node.max is not None:
                limits["maximum" if node.max_included else "exclusiveMaximum"] = node.max
            return limits
        if isinstance(node, vol.Length):
            return {}
        if isinstance(node, vol.Match):
            return {"pattern": node.pattern.pattern}
        if isinstance(node, vol.In):
            return {"enum": list(cast("Iterable[Any]", node.container))}
        if node is None:
            return {"type": "null"}
        types: dict[object, str] = {
            bool: "boolean",
            str: "string",
            int: "integer",
            float: "number",
        }
        if node in types:
            return {"type": types[node]}
        return {}

    return convert(schema)
