"""The contract check: one engine message, its published schema, the integration's parser.

:func:`contract_problems` says, in words, everything on which the two sides disagree:

* the message does not match the engine's own schema (a field it stopped sending);
* the integration reads a field the schema does not define (the engine dropped or renamed
  it, or the integration invented it);
* the message carries a field the integration neither reads nor lists as unused (the
  engine added it and nobody decided whether Home Assistant needs it);
* the integration lists as unused a field the engine does not define (a stale list).

Reads are recorded by handing the parser a :class:`Recorder` instead of the parsed JSON,
so the parser under test is the integration's own, unchanged. Paths read like
``status.reason_code`` and ``open_alerts[].rule``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

import jsonschema

type Schema = Mapping[str, Any]


class Recorder(Mapping[str, Any]):
    """A JSON object that notes every key read from it (and from what it contains)."""

    def __init__(self, data: Mapping[str, Any], path: str, reads: set[str]) -> None:
        self._data = data
        self._path = path
        self._reads = reads

    def __getitem__(self, key: str) -> Any:
        path = f"{self._path}.{key}" if self._path else key
        self._reads.add(path)
        return wrap(self._data[key], path, self._reads)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def wrap(value: Any, path: str, reads: set[str]) -> Any:
    """``value`` with its objects (at any depth) replaced by recorders."""
    if isinstance(value, Mapping):
        return Recorder(value, path, reads)
    if isinstance(value, list):
        return [wrap(item, f"{path}[]", reads) for item in value]
    return value


def _tokens(path: str) -> list[str]:
    """``open_alerts[].rule`` -> ``["open_alerts", "[]", "rule"]``."""
    return re.findall(r"\[\]|[^.\[\]]+", path)


def _branches(schema: Schema) -> list[Schema]:
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return [branch for option in options for branch in _branches(option)]
    return [schema]


def _free(schema: Schema) -> bool:
    """An object whose keys are data, not contract (thresholds, model descriptions)."""
    extra = schema.get("additionalProperties", True)
    return "properties" not in schema or (extra is not False and not isinstance(extra, dict))


def declared(schema: Schema, path: str) -> bool:
    """Whether ``path`` names something the schema defines (or lies inside a free object)."""
    current = [schema]
    for token in _tokens(path):
        following: list[Schema] = []
        for branch in (b for option in current for b in _branches(option)):
            if token == "[]":
                if isinstance(branch.get("items"), Mapping):
                    following.append(branch["items"])
                continue
            properties = branch.get("properties", {})
            if token in properties:
                following.append(properties[token])
            elif isinstance(branch.get("additionalProperties"), Mapping):
                following.append(branch["additionalProperties"])
            elif branch.get("type") in ("object", ["object", "null"]) and _free(branch):
                return True
        if not following:
            return False
        current = following
    return True


def _pick(schema: Schema, value: Any) -> Schema | None:
    """The branch of a union that ``value`` matches (None for ``null``)."""
    if value is None:
        return None
    for branch in _branches(schema):
        if jsonschema.Draft202012Validator(branch).is_valid(value):
            return branch
    return _branches(schema)[0]


def leaves(schema: Schema, value: Any, path: str = "") -> Iterator[str]:
    """The paths of every value in the message, as deep as the schema describes it."""
    branch = _pick(schema, value)
    if branch is None:
        yield path
    elif isinstance(value, Mapping) and branch.get("properties") and not _free(branch):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            if key in branch["properties"]:
                yield from leaves(branch["properties"][key], item, inner)
            else:
                yield inner
    elif isinstance(value, Mapping) and isinstance(branch.get("additionalProperties"), Mapping):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            yield from leaves(branch["additionalProperties"], item, inner)
    elif (
        isinstance(value, list)
        and any(isinstance(item, Mapping) for item in value)
        and isinstance(branch.get("items"), Mapping)
    ):
        for item in value:
            yield from leaves(branch["items"], item, f"{path}[]")
    else:
        yield path


def _under(path: str, prefixes: Collection[str]) -> bool:
    return any(
        path == prefix or path.startswith((f"{prefix}.", f"{prefix}[]")) for prefix in prefixes
    )


def contract_problems(
    schema: Schema,
    message: Mapping[str, Any],
    parse: Callable[[Any], object],
    unused: Collection[str],
) -> list[str]:
    """Everything on which the engine's message and schema and the integration disagree."""
    problems = [
        f"the engine's message breaks its own schema at {'.'.join(map(str, error.path)) or '/'}: "
        f"{error.message}"
        for error in jsonschema.Draft202012Validator(schema).iter_errors(message)
    ]
    reads: set[str] = set()
    try:
        parse(wrap(message, "", reads))
    except (KeyError, TypeError, ValueError) as err:
        problems.append(f"the integration cannot parse the message: {err!r}")
    problems += [
        f"the integration reads {path}, which the engine does not send"
        for path in sorted(reads)
        if not declared(schema, path)
    ]
    problems += [
        f"the engine sends {leaf}, which the integration neither reads nor lists as unused"
        for leaf in sorted(set(leaves(schema, message)))
        if leaf not in reads
        and not _under(leaf, unused)
        and not any(read.startswith((f"{leaf}.", f"{leaf}[]")) for read in reads)
    ]
    problems += [
        f"the integration lists {path} as unused, but the engine does not send it"
        for path in sorted(unused)
        if not declared(schema, path)
    ]
    return problems
