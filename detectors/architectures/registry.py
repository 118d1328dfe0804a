"""Find an architecture by name; the package's modules are scanned once, on first use."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import detectors.architectures as package
from detectors.architectures.base import REGISTERED, DetectionArchitecture
from detectors.errors import ModelFormatError

_INFRASTRUCTURE = frozenset({"base", "registry"})


@cache
def _scan() -> None:
    """Import every architecture module so that its class registers itself."""
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _INFRASTRUCTURE:
            importlib.import_module(f"{package.__name__}.{module.name}")


def architecture(name: str) -> DetectionArchitecture:
    """The architecture called ``name``; an unknown name is a refused model, by name."""
    _scan()
    found = REGISTERED.get(name)
    if found is None:
        known = ", ".join(sorted(REGISTERED))
        raise ModelFormatError(f"unknown detection architecture {name!r} (known: {known})")
    return found


def architecture_names(*, user_models: bool = False) -> tuple[str, ...]:
    """Every registered name, or only those a user-model spec may name, sorted."""
    _scan()
    return tuple(
        sorted(name for name, arch in REGISTERED.items() if arch.user_models or not user_models)
    )
