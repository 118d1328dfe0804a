"""Validators behind :mod:`detectors.config`: exact paths, exact reasons, nothing guessed.

Why not plain voluptuous dictionaries: their messages ("extra keys not allowed",
"expected float") say neither which keys *are* allowed nor what was found, and a school's
facilities person editing YAML needs both. The validators here are voluptuous callables
(they raise :class:`voluptuous.Invalid` with a path), so they compose with voluptuous and
with the rule schemas of :mod:`detectors.rules`, whose messages are completed the same way.

Every message that echoes a value leaves secrets out: passwords are never repeated, and a
URL is shown with its password replaced by ``***``.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, get_args, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import voluptuous as vol

from detectors.camera_networks import DEFAULT_CAMERA_NETWORKS, parse_network
from detectors.inference.settings import PERFORMANCE_MODES, PRECISIONS
from detectors.protocol.schema import (
    BOOLEAN,
    STRING,
    JsonSchema,
    array,
    voluptuous_schema,
)
from detectors.protocol.schema import nullable as nullable_schema
from detectors.redaction import redact_url
from detectors.rules import RULE_SCHEMAS, Line
from detectors.schedule import BUILTIN_SCHEDULE_NAMES, SCHEDULE_SCHEMA
from detectors.zoo.catalog import DEFAULT_MODELS, ZOO, licence_problem

type Validator = Callable[[Any], Any]
type SchemaSource = JsonSchema | Callable[[bool], JsonSchema]

SOURCE_TYPES: Final = ("onvif", "rtsp", "mjpeg", "snapshot", "file")
DECODE_MODES: Final = ("auto", "cpu", "vaapi", "qsv")
"""Video decoder per camera (detectors.pipeline.sources.hwdecode)."""
SNAPSHOT_SOURCES: Final = ("auto", "uri", "stream", "frame")
"""Where an ONVIF camera's alert snapshot comes from (docs/onvif.md, stream roles)."""
LINE_DIRECTIONS: Final = get_args(get_type_hints(Line)["direction"])
MQTT_PROTOCOLS: Final = (5, 311)
FIGHT_MODELS: Final = tuple(name for name, entry in DEFAULT_MODELS.items() if entry.task == "fight")

_SLUG = re.compile(r"[a-z0-9_-]+")
_DEVICE = re.compile(r"(CPU|GPU(\.\d+)?|NPU)")
_META_DEVICE = re.compile(r"(AUTO|MULTI|HETERO)(:(.+))?")
_MISSING: Final = object()
_VALUE_MESSAGES: Final = ("expected", "value", "not a valid", "length", "does not match")
"""Starts of voluptuous's own messages, which never say what value they refused."""


def describe(value: object) -> str:
    """Show a found value in a message: scalars as written, containers by their kind."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:57] + "...")
    return repr(value)


def url_has_credentials(url: str) -> bool:
    """Tell whether a URL carries ``user[:password]@`` before its host."""
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return False


def format_path(path: Sequence[object]) -> str:
    """Render a validation path as people read it: ``cameras[1].rules.person_down``."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and re.fullmatch(r"[A-Za-z0-9_-]+", part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "<top level>"


def problem_lines(err: vol.Invalid) -> list[str]:
    """Return one ``path: why`` line per error inside ``err``."""
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    lines: list[str] = []
    for error in errors:
        if isinstance(error, vol.MultipleInvalid):
            lines.extend(problem_lines(error))
        else:
            lines.append(f"{format_path(error.path)}: {error.error_message}")
    return lines


def _collect(errors: list[vol.Invalid], err: vol.Invalid, prefix: list[Any]) -> None:
    err.prepend(prefix)
    if isinstance(err, vol.MultipleInvalid):
        errors.extend(err.errors)
    else:
        errors.append(err)


# -- validators that know their JSON schema ----------------------------------------------


class Check:
    """A validator that also knows its JSON schema.

    The engine API's OpenAPI document describes request bodies (and the configuration
    half of camera answers) from these very validators, so the document cannot promise
    keys the validator refuses or leave out keys it accepts. ``schema`` is a JSON schema,
    or a function of ``response`` for validators whose answer shape differs from the
    request (credentials are accepted but never sent back).
    """

    __slots__ = ("_schema", "_validate")

    def __init__(self, validate: Validator, schema: SchemaSource) -> None:
        """Wrap ``validate``; calling the check validates."""
        self._validate = validate
        self._schema = schema

    def __call__(self, value: Any) -> Any:
        """Validate ``value`` (raise :class:`voluptuous.Invalid`) and return it cleaned."""
        return self._validate(value)

    def json_schema(self, *, response: bool = False) -> JsonSchema:
        """The JSON schema of what this check accepts (``response``: of what is sent back)."""
        return self._schema(response) if callable(self._schema) else self._schema


def checks(schema: SchemaSource) -> Callable[[Validator], Check]:
    """Decorate a validator function with its JSON schema."""

    def wrap(validate: Validator) -> Check:
        return Check(validate, schema)

    return wrap


def schema_of(validator: Validator, *, response: bool = False) -> JsonSchema:
    """The JSON schema of any validator here; ``{}`` (anything) for one that has none."""
    if isinstance(validator, Check | Fields):
        return validator.json_schema(response=response)
    return voluptuous_schema(validator, describe=lambda node: _described(node, response))


def _described(node: Any, response: bool) -> JsonSchema | None:
    if isinstance(node, Check | Fields):
        return node.json_schema(response=response)
    return None


# -- scalar validators -------------------------------------------------------------------


def string(*, allow_empty: bool = False) -> Check:
    """A string (YAML numbers are refused rather than silently turned into text)."""

    @checks(STRING if allow_empty else {"type": "string", "pattern": r"\S"})
    def validate(value: Any) -> str:
        if not isinstance(value, str):
            raise vol.Invalid(f"expected str, got {describe(value)}")
        if not allow_empty and not value.strip():
            raise vol.Invalid("must not be empty")
        return value

    return validate


@checks({"type": "string", "minLength": 1})
def secret(value: Any) -> str:
    """A password: a non-empty string, never echoed back in a message.

    An unquoted YAML ``password: 0123`` is read as a number (even as octal), so numbers
    are refused with the fix rather than turned into a different password.
    """
    if not isinstance(value, str):
        raise vol.Invalid(f"expected str (put the value in quotes), got {type(value).__name__}")
    if not value:
        raise vol.Invalid("must not be empty")
    return value


def number(
    *, minimum: float | None = None, maximum: float | None = None, above: float | None = None
) -> Check:
    """A real number (YAML ints accepted) within bounds; ``above`` is an exclusive minimum."""
    limits = {"minimum": minimum, "maximum": maximum, "exclusiveMinimum": above}

    @checks({"type": "number"} | {key: v for key, v in limits.items() if v is not None})
    def validate(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise vol.Invalid(f"expected float, got {describe(value)}")
        result = float(value)
        if not math.isfinite(result):
            raise vol.Invalid(f"expected a finite number, got {describe(value)}")
        if above is not None and result <= above:
            raise vol.Invalid(f"must be greater than {above:g}, got {value!r}")
        if minimum is not None and result < minimum:
            raise vol.Invalid(f"must be at least {minimum:g}, got {value!r}")
        if maximum is not None and result > maximum:
            raise vol.Invalid(f"must be at most {maximum:g}, got {value!r}")
        return result

    return validate


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Check:
    """A whole number (``True`` is refused although Python counts it as an int)."""
    limits = {"minimum": minimum, "maximum": maximum}

    @checks({"type": "integer"} | {key: v for key, v in limits.items() if v is not None})
    def validate(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise vol.Invalid(f"expected int, got {describe(value)}")
        if minimum is not None and value < minimum:
            raise vol.Invalid(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise vol.Invalid(f"must be at most {maximum}, got {value}")
        return value

    return validate


@checks(BOOLEAN)
def boolean(value: Any) -> bool:
    """``true`` or ``false`` (YAML's yes/no already arrive as booleans)."""
    if not isinstance(value, bool):
        raise vol.Invalid(f"expected bool, got {describe(value)}")
    return value


def one_of(options: Sequence[Any], *, fold_case: bool = False) -> Check:
    """One of a fixed set of values; ``fold_case`` accepts ``F32`` for ``f32``."""

    @checks({"enum": list(options)})
    def validate(value: Any) -> Any:
        key = value.lower() if fold_case and isinstance(value, str) else value
        if isinstance(key, bool) or key not in options:
            listed = ", ".join(str(option) for option in options)
            raise vol.Invalid(f"expected one of {listed}, got {describe(value)}")
        return key

    return validate


def nullable(validator: Validator) -> Check:
    """``null`` or whatever ``validator`` accepts."""

    @checks(lambda response: nullable_schema(schema_of(validator, response=response)))
    def validate(value: Any) -> Any:
        return None if value is None else validator(value)

    return validate


@checks({"type": "string", "pattern": "^[a-z0-9_-]+$"})
def slug(value: Any) -> str:
    """An id usable in URLs, MQTT topics and entity ids: ``[a-z0-9_-]+``."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise vol.Invalid(
            f"expected an id of lowercase letters, digits, '-' and '_', got {describe(value)}"
        )
    return value


@checks({"type": "string", "pattern": "^[^ /\t@]+$"})
def host(value: Any) -> str:
    """A host name or IP address, without scheme, path or spaces."""
    if not isinstance(value, str) or not value or any(c in value for c in " /\t@"):
        raise vol.Invalid(f"expected a host name or IP address, got {describe(value)}")
    return value


port = integer(minimum=1, maximum=65535)


@checks({"type": "string", "description": "a network in CIDR notation (10.0.0.0/8, fd00::/8)"})
def network(value: Any) -> str:
    """A network in CIDR notation; written back in its normal form."""
    if not isinstance(value, str):
        raise vol.Invalid(f"expected a network such as 10.0.0.0/8, got {describe(value)}")
    try:
        return str(parse_network(value))
    except ValueError as err:
        raise vol.Invalid(f"expected a network such as 10.0.0.0/8, got {value!r} ({err})") from None


def url(schemes: Sequence[str]) -> Check:
    """An absolute URL with one of ``schemes`` and a host; shown redacted in messages."""
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)

    any_case = "|".join("".join(f"[{c.lower()}{c.upper()}]" for c in s) for s in schemes)

    @checks({"type": "string", "pattern": f"^({any_case})://[^/]"})
    def validate(value: Any) -> str:
        if not isinstance(value, str):
            raise vol.Invalid(f"expected str, got {describe(value)}")
        try:
            parts = urlsplit(value)
            has_host = bool(parts.hostname)
        except ValueError:
            has_host = False
        if not has_host or parts.scheme.lower() not in schemes:
            raise vol.Invalid(
                f"expected a URL starting {wanted}, got {describe(redact_url(value))}"
            )
        return value

    return validate


@checks(STRING)
def device(value: Any) -> str:
    """An OpenVINO device: CPU, GPU, GPU.1, NPU, AUTO, or ``AUTO:GPU,CPU`` style lists."""
    if isinstance(value, str):
        name = value.strip().upper()
        if _DEVICE.fullmatch(name):
            return str(name)
        meta = _META_DEVICE.fullmatch(name)
        if meta and (
            meta.group(3) is None
            or all(_DEVICE.fullmatch(part) for part in meta.group(3).split(","))
        ):
            return str(name)
    raise vol.Invalid(
        f"expected CPU, GPU, NPU, AUTO or a list like AUTO:GPU,CPU, got {describe(value)}"
    )


@checks(STRING)
def timezone_name(value: Any) -> str:
    """An IANA time zone such as ``America/Chicago`` (schedules follow its DST)."""
    if not isinstance(value, str):
        raise vol.Invalid(f"expected str, got {describe(value)}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid(f"unknown time zone {value!r}") from None
    return value


@checks(STRING)
def topic_root(value: Any) -> str:
    """An MQTT topic prefix: no wildcards, no empty levels at either end."""
    text: str = string()(value)
    if any(c in text for c in "+#\0") or text.startswith("/") or text.endswith("/"):
        raise vol.Invalid(
            f"expected a topic prefix without '+', '#' or a leading/trailing '/', got {text!r}"
        )
    return text


_POINT_SCHEMA: Final[JsonSchema] = array(
    {"type": "number", "minimum": 0, "maximum": 1}, minItems=2, maxItems=2
)


@checks(_POINT_SCHEMA)
def point(value: Any) -> tuple[float, float]:
    """A normalised ``[x, y]`` point, both between 0 and 1."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(not isinstance(v, bool) and isinstance(v, int | float) for v in value)
        and all(0.0 <= float(v) <= 1.0 for v in value)
    ):
        return (float(value[0]), float(value[1]))
    raise vol.Invalid(f"expected [x, y] with x and y between 0 and 1, got {value!r}")


@checks(array(_POINT_SCHEMA, minItems=3))
def polygon(value: Any) -> tuple[tuple[float, float], ...]:
    """At least three normalised points enclosing some area."""
    points = list_of(point)(value)
    if len(points) < 3:
        raise vol.Invalid(f"a polygon needs at least 3 points, got {len(points)}")
    twice_area = sum(
        x1 * y2 - x2 * y1
        for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True)
    )
    if abs(twice_area) < 1e-9:
        raise vol.Invalid("the polygon's points are on one line, so it encloses nothing")
    return tuple(points)


@checks(array(_POINT_SCHEMA, minItems=2, maxItems=2))
def segment(value: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    """Exactly two different normalised points."""
    points = list_of(point)(value)
    if len(points) != 2 or points[0] == points[1]:
        raise vol.Invalid(f"a line needs exactly 2 different points, got {value!r}")
    return (points[0], points[1])


# -- containers --------------------------------------------------------------------------


def list_of(item: Validator) -> Check:
    """A list whose every item passes ``item``; all bad items are reported."""

    @checks(lambda response: array(schema_of(item, response=response)))
    def validate(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise vol.Invalid(f"expected a list, got {describe(value)}")
        errors: list[vol.Invalid] = []
        result = []
        for index, element in enumerate(value):
            try:
                result.append(item(element))
            except vol.Invalid as err:
                _collect(errors, err, [index])
        if errors:
            raise vol.MultipleInvalid(errors)
        return result

    return validate


@dataclass(frozen=True)
class Field:
    """One key of a :class:`Fields` mapping.

    ``default`` is a raw value run through ``validator`` when the key is absent; leaving
    it out makes the key optional and absent from the result. A ``write_only`` key
    (a credential) is accepted but never sent back, so answers' schemas leave it out.
    """

    validator: Validator
    required: bool = False
    default: object = _MISSING
    write_only: bool = False


class Fields:
    """A mapping with a closed set of keys: unknown keys are refused by name.

    ``context`` (e.g. ``"for type rtsp"``) is added to the messages when the allowed keys
    depend on another value.
    """

    def __init__(self, fields: Mapping[str, Field], *, context: str = "") -> None:
        """Keep the fields in the order the messages list them."""
        self.fields = dict(fields)
        self.context = context

    def __call__(self, value: Any) -> dict[str, Any]:
        """Validate ``value``; raise every problem found at once."""
        if not isinstance(value, dict):
            raise vol.Invalid(f"expected a mapping, got {describe(value)}")
        errors: list[vol.Invalid] = []
        allowed = ", ".join(self.fields)
        which = f"allowed {self.context}" if self.context else "allowed"
        errors.extend(
            vol.Invalid(f"unknown key {key!r} ({which}: {allowed})")
            for key in value
            if key not in self.fields
        )
        result: dict[str, Any] = {}
        for key, field in self.fields.items():
            if key in value:
                raw = value[key]
            elif field.required:
                suffix = f" {self.context}" if self.context else ""
                errors.append(vol.Invalid(f"missing required key {key!r}{suffix}"))
                continue
            elif field.default is _MISSING:
                continue
            else:
                raw = copy.deepcopy(field.default)
            try:
                result[key] = field.validator(raw)
            except vol.Invalid as err:
                _collect(errors, err, [key])
        if errors:
            raise vol.MultipleInvalid(errors)
        return result

    def json_schema(self, *, response: bool = False, partial: bool = False) -> JsonSchema:
        """The JSON schema of the mapping: its keys, which are required, nothing else.

        ``response`` describes the document as the engine writes it back: every key with
        a default is always there, write-only keys never are. ``partial`` describes a
        change (``PATCH``): any subset of the keys.
        """
        properties: dict[str, JsonSchema] = {}
        required: list[str] = []
        for key, field in self.fields.items():
            if response and field.write_only:
                continue
            schema = schema_of(field.validator, response=response)
            properties[key] = schema | {"writeOnly": True} if field.write_only else schema
            always = field.required or (response and field.default is not _MISSING)
            if always and not partial:
                required.append(key)
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }


# -- camera ------------------------------------------------------------------------------

_CREDENTIALS = {
    "username": Field(nullable(string()), default=None, write_only=True),
    "password": Field(nullable(secret), default=None, write_only=True),
}


def _stream_source(kind: str, schemes: Sequence[str]) -> Fields:
    return Fields(
        {"type": Field(string()), "url": Field(url(schemes), required=True), **_CREDENTIALS},
        context=f"for type {kind}",
    )


SOURCE_FIELDS: Final[dict[str, Fields]] = {
    "onvif": Fields(
        {
            "type": Field(string()),
            "host": Field(host, required=True),
            "port": Field(port, default=80),
            **_CREDENTIALS,
            "profile": Field(nullable(string()), default=None),
            "snapshot_profile": Field(nullable(string()), default=None),
            "snapshot": Field(one_of(SNAPSHOT_SOURCES), default="auto"),
        },
        context="for type onvif",
    ),
    "rtsp": _stream_source("rtsp", ("rtsp", "rtsps")),
    "mjpeg": _stream_source("mjpeg", ("http", "https")),
    "snapshot": _stream_source("snapshot", ("http", "https")),
    "file": Fields(
        {
            "type": Field(string()),
            "url": Field(string(), required=True),
            "loop": Field(boolean, default=True),
            "realtime": Field(boolean, default=True),
        },
        context="for type file",
    ),
}


def _source_schema(response: bool) -> JsonSchema:
    """One object per source type, told apart by ``type``."""
    variants = []
    for kind, fields in SOURCE_FIELDS.items():
        variant = fields.json_schema(response=response)
        variant["properties"] = variant["properties"] | {"type": {"const": kind}}
        variant["required"] = ["type", *(k for k in variant["required"] if k != "type")]
        variants.append(variant)
    return {"oneOf": variants}


@checks(_source_schema)
def source(value: Any) -> dict[str, Any]:
    """A camera source; which keys are allowed and required depends on its ``type``."""
    if not isinstance(value, dict):
        raise vol.Invalid(f"expected a mapping, got {describe(value)}")
    if "type" not in value:
        raise vol.Invalid(f"missing required key 'type' (one of: {', '.join(SOURCE_TYPES)})")
    kind = value["type"]
    if not isinstance(kind, str) or kind not in SOURCE_FIELDS:
        raise vol.Invalid(
            f"expected one of {', '.join(SOURCE_TYPES)}, got {describe(kind)}", path=["type"]
        )
    result = SOURCE_FIELDS[kind](value)
    if (
        "url" in result
        and url_has_credentials(result["url"])
        and (result.get("username") or result.get("password"))
    ):
        raise vol.Invalid(
            "give the credentials either inside url or as username/password, not both"
        )
    return result


def _foreign_error(error: vol.Invalid, schema: vol.Schema, options: Any) -> vol.Invalid:
    """Reword an error from a rule's own voluptuous schema in this module's style."""
    path = list(error.path)
    message = error.error_message
    if message == "extra keys not allowed" and path:
        key = path.pop()
        mapping = _mapping_at(schema.schema, path)
        allowed = [str(k) for k in mapping] if mapping is not None else []
        detail = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return vol.Invalid(f"unknown key {key!r}{detail}", path=path)
    if message == "required key not provided" and path:
        key = path.pop()
        return vol.Invalid(f"missing required key {key!r}", path=path)
    if message.startswith(_VALUE_MESSAGES) and " got " not in message:
        found: Any = options
        for part in path:
            try:
                found = found[part]
            except (KeyError, IndexError, TypeError):
                found = _MISSING
                break
        if found is not _MISSING and describe(found) not in message:
            message = f"{message}, got {describe(found)}"
    return vol.Invalid(message, path=path)


def _mapping_at(schema: Any, path: Sequence[object]) -> Mapping[Any, Any] | None:
    """The dict schema at ``path`` inside a voluptuous schema (nested option groups)."""
    for part in path:
        if not isinstance(schema, dict):
            return None
        schema = next((v for k, v in schema.items() if str(k) == part), None)
        if isinstance(schema, vol.Schema):
            schema = schema.schema
    return schema if isinstance(schema, dict) else None


def _rules_schema(response: bool) -> JsonSchema:
    """Each rule's options as its own schema checks them (``null`` means "defaults").

    A camera keeps its rules' options as they were given (the rule fills its defaults when
    it runs) and rule schemas coerce (``"10"`` is 10 seconds), so in answers each rule's
    options are only said to be an object: the request schema is the contract.
    """
    options = {
        name: {"type": ["object", "null"]}
        if response
        else nullable_schema(schema_of(schema, response=response))
        for name, schema in RULE_SCHEMAS.items()
    }
    return {"type": "object", "properties": options, "additionalProperties": False}


@checks(_rules_schema)
def rules(value: Any) -> dict[str, dict[str, Any]]:
    """Per-rule options, each checked by the rule's own schema (``weapon:`` alone = {})."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise vol.Invalid(f"expected a mapping, got {describe(value)}")
    errors: list[vol.Invalid] = []
    result: dict[str, dict[str, Any]] = {}
    for name, options in value.items():
        schema = RULE_SCHEMAS.get(name) if isinstance(name, str) else None
        if schema is None:
            known = ", ".join(sorted(RULE_SCHEMAS))
            errors.append(vol.Invalid(f"unknown rule {name!r} (rules: {known})"))
            continue
        given = {} if options is None else options
        if not isinstance(given, dict):
            errors.append(vol.Invalid(f"expected a mapping, got {describe(given)}", path=[name]))
            continue
        try:
            schema(copy.deepcopy(given))
        except vol.Invalid as err:
            inner = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
            for error in inner:
                _collect(errors, _foreign_error(error, schema, given), [name])
            continue
        result[name] = copy.deepcopy(given)
    if errors:
        raise vol.MultipleInvalid(errors)
    return result


ZONE_FIELDS = Fields(
    {"name": Field(string(), required=True), "polygon": Field(polygon, required=True)}
)
LINE_FIELDS = Fields(
    {
        "name": Field(string(), required=True),
        "points": Field(segment, required=True),
        "direction": Field(one_of(LINE_DIRECTIONS), default="any"),
    }
)

CAMERA_FIELDS = Fields(
    {
        "id": Field(slug, required=True),
        "name": Field(string(), required=True),
        "location": Field(string(allow_empty=True), default=""),
        "source": Field(source, required=True),
        "detect_fps": Field(number(above=0.0, maximum=30.0), default=5.0),
        "enabled": Field(boolean, default=True),
        "timeout_seconds": Field(number(above=0.0), default=10.0),
        "decode": Field(one_of(DECODE_MODES), default="auto"),
        "zones": Field(list_of(ZONE_FIELDS), default=[]),
        "lines": Field(list_of(LINE_FIELDS), default=[]),
        "masks": Field(list_of(polygon), default=[]),
        "rules": Field(rules, default={}),
    }
)


def _duplicates(
    items: Sequence[Mapping[str, Any]], key: str, what: str, where: str
) -> list[vol.Invalid]:
    seen: dict[Any, int] = {}
    errors = []
    for index, item in enumerate(items):
        name = item[key]
        if name in seen:
            errors.append(
                vol.Invalid(
                    f"{what} {name!r} is already used by {where}[{seen[name]}]",
                    path=[where, index, key],
                )
            )
        else:
            seen[name] = index
    return errors


def camera_reference_errors(
    camera: Mapping[str, Any], schedules: Collection[str] | None
) -> list[vol.Invalid]:
    """Check what a validated camera refers to: its own zones/lines and the schedules.

    ``schedules`` are the names defined engine-wide (built-ins are added here); ``None``
    skips the schedule check when the caller does not know them.
    """
    errors = _duplicates(camera["zones"], "name", "zone", "zones")
    errors += _duplicates(camera["lines"], "name", "line", "lines")
    zones = sorted(zone["name"] for zone in camera["zones"])
    lines = sorted(line["name"] for line in camera["lines"])
    known_schedules = None if schedules is None else sorted({*schedules, *BUILTIN_SCHEDULE_NAMES})
    for name, options in camera["rules"].items():
        full = RULE_SCHEMAS[name](copy.deepcopy(options))
        references: list[tuple[str, str, list[str] | None]] = [
            ("zones", "zone", zones),
            ("suppress_zones", "zone", zones),
            ("lines", "line", lines),
        ]
        for option, what, known in references:
            names = full.get(option)
            if not isinstance(names, list) or known is None:
                continue
            errors.extend(
                vol.Invalid(
                    f"unknown {what} {item!r} ({what}s: {', '.join(known) or 'none defined'})",
                    path=["rules", name, option],
                )
                for item in names
                if item not in known
            )
        schedule = full.get("schedule")
        if (
            known_schedules is not None
            and isinstance(schedule, str)
            and schedule not in known_schedules
        ):
            errors.append(
                vol.Invalid(
                    f"unknown schedule {schedule!r} (schedules: {', '.join(known_schedules)})",
                    path=["rules", name, "schedule"],
                )
            )
    return errors


def camera_list_errors(
    cameras: Sequence[Mapping[str, Any]], schedules: Collection[str]
) -> list[vol.Invalid]:
    """Cross checks of the ``cameras`` list: unique ids, then each camera's references."""
    errors = _duplicates(cameras, "id", "camera id", "cameras")
    for index, camera in enumerate(cameras):
        for error in camera_reference_errors(camera, schedules):
            _collect(errors, error, ["cameras", index])
    return errors


# -- engine ------------------------------------------------------------------------------


@checks({"type": "object"})
def schedules(value: Any) -> dict[str, list[dict[str, Any]]]:
    """Named weekly schedules (see :mod:`detectors.schedule`); built-in names are reserved."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise vol.Invalid(f"expected a mapping, got {describe(value)}")
    errors: list[vol.Invalid] = []
    result: dict[str, list[dict[str, Any]]] = {}
    for name, ranges in value.items():
        if not isinstance(name, str) or not _SLUG.fullmatch(name):
            errors.append(
                vol.Invalid(f"expected a schedule name like after_hours, got {describe(name)}")
            )
            continue
        if name in BUILTIN_SCHEDULE_NAMES:
            errors.append(vol.Invalid(f"'{name}' is built in and cannot be redefined", path=[name]))
            continue
        try:
            result[name] = SCHEDULE_SCHEMA(ranges)
        except vol.Invalid as err:
            inner = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
            for error in inner:
                _collect(errors, _foreign_error(error, SCHEDULE_SCHEMA, ranges), [name])
    if errors:
        raise vol.MultipleInvalid(errors)
    return result


@checks({"type": ["object", "null"]})
def _mqtt(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    result = MQTT_FIELDS(value)
    if result["password"] is not None and result["username"] is None:
        raise vol.Invalid("a password is given without a username")
    tls = result.get("tls")
    if tls is not None and (tls["cert"] is None) != (tls["key"] is None):
        raise vol.Invalid("cert and key must be given together", path=["tls"])
    return result


TLS_FIELDS = Fields(
    {
        "ca": Field(nullable(string()), default=None),
        "cert": Field(nullable(string()), default=None),
        "key": Field(nullable(string()), default=None),
    }
)

MQTT_FIELDS = Fields(
    {
        "host": Field(host, required=True),
        "port": Field(nullable(port), default=None),
        **_CREDENTIALS,
        "tls": Field(nullable(TLS_FIELDS), default=None),
        "protocol": Field(one_of(MQTT_PROTOCOLS), default=5),
        "topic_root": Field(topic_root, default="school_guard"),
    }
)

ENGINE_FIELDS = Fields(
    {
        "engine": Field(
            Fields(
                {
                    "name": Field(string(), required=True),
                    "data_dir": Field(string(), default="/var/lib/school-guard"),
                    "timezone": Field(nullable(timezone_name), default=None),
                    "retention_days": Field(integer(minimum=1), default=30),
                }
            ),
            required=True,
        ),
        "api": Field(
            Fields({"host": Field(host, default="127.0.0.1"), "port": Field(port, default=8765)}),
            default={},
        ),
        "inference": Field(
            Fields(
                {
                    "device": Field(device, default="AUTO"),
                    "precision": Field(one_of(PRECISIONS, fold_case=True), default="auto"),
                    "performance": Field(
                        one_of(PERFORMANCE_MODES, fold_case=True), default="throughput"
                    ),
                    "requests": Field(integer(minimum=0), default=0),
                    "threads": Field(integer(minimum=0), default=0),
                }
            ),
            default={},
        ),
        "models": Field(
            Fields(
                {
                    "detector": Field(string(), default="nanodet-m-416"),
                    "pose": Field(nullable(string()), default="movenet-multipose-lightning"),
                    "weapon": Field(nullable(string()), default=None),
                    "fight": Field(nullable(one_of(FIGHT_MODELS)), default="fight-mc3-18"),
                    "fall": Field(nullable(string()), default=None),
                    "accept_licences": Field(list_of(string()), default=[]),
                }
            ),
            default={},
        ),
        "security": Field(
            Fields(
                {
                    "camera_networks": Field(
                        list_of(network), default=list(DEFAULT_CAMERA_NETWORKS)
                    ),
                    "media_folder": Field(nullable(string()), default=None),
                }
            ),
            default={},
        ),
        "evidence": Field(
            Fields(
                {
                    "pre_roll_seconds": Field(number(minimum=0, maximum=30), default=5.0),
                    "post_roll_seconds": Field(number(minimum=0, maximum=30), default=5.0),
                    "buffer_megabytes": Field(number(above=0, maximum=512), default=8.0),
                    "clip_fps": Field(number(minimum=1, maximum=30), default=5.0),
                }
            ),
            default={},
        ),
        "mqtt": Field(_mqtt, default=None),
        "cameras": Field(list_of(CAMERA_FIELDS), default=[]),
        "schedules": Field(schedules, default={}),
    }
)


MODEL_KEYS: Final = ("detector", "pose", "weapon", "fight", "fall")


def model_errors(models: Mapping[str, Any]) -> list[vol.Invalid]:
    """Check the validated ``models`` section against the zoo's licences and tasks.

    A model whose licence must be accepted (``ModelEntry.acknowledge``) is refused by name
    under whichever key names it, unless ``accept_licences`` lists that licence: an AGPL
    model must never run because someone typed its name. ``fall`` must name a fall model.
    """
    accepted = set(models["accept_licences"])
    errors: list[vol.Invalid] = []
    for key in MODEL_KEYS:
        name = models.get(key)
        entry = ZOO.get(name) if isinstance(name, str) else None
        if entry is None:
            continue
        problem = licence_problem(entry, accepted)
        if problem is not None:
            errors.append(vol.Invalid(problem, path=["models", key]))
        elif key == "fall" and entry.task != "fall":
            fall_models = ", ".join(sorted(n for n, e in ZOO.items() if e.task == "fall"))
            errors.append(
                vol.Invalid(
                    f"{name!r} is a {entry.task} model, not a fall model "
                    f"(fall models: {fall_models})",
                    path=["models", key],
                )
            )
    return errors
