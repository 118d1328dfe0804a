"""Read a PyTorch ``state_dict`` file without PyTorch, and without trusting it.

A ``.pth`` file written by ``torch.save`` (zip format, PyTorch 1.6 and later) is a zip
holding ``<prefix>/data.pkl``, a pickle of the ``OrderedDict`` of tensors, and one member
``<prefix>/data/<key>`` per tensor storage with its raw little-endian bytes. A pickle is a
program: ``pickle.load`` on a downloaded file runs whatever callable the file names. So the
pickle is read by :class:`_StateDictUnpickler`, which resolves exactly the globals a tensor
``state_dict`` needs (``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` and
the storage types), each to our own numpy stand-in, and refuses every other global by name
before anything is called. Tensors come back as numpy arrays.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from detectors.errors import ModelFormatError

MAX_PICKLE_BYTES = 16 << 20
"""A state_dict's pickle is a few kB per hundred tensors; anything this big is not one."""

MAX_STORAGE_BYTES = 2 << 30
"""No single tensor storage of a model this engine runs is anywhere near 2 GB."""

_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass(frozen=True, slots=True)
class _StorageType:
    """Stand-in for ``torch.FloatStorage`` and its kin: only the element type matters."""

    name: str
    dtype: np.dtype[Any]


def _shape(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        raise ModelFormatError(f"tensor {what} {value!r} is not a tuple of whole numbers")
    return value


def _rebuild_tensor_v2(  # noqa: PLR0917 - pickle calls it with torch's positional arguments
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any = False,
    backward_hooks: Any = None,
    metadata: Any = None,
) -> NDArray[Any]:
    """Our ``torch._utils._rebuild_tensor_v2``: a strided view of a storage, copied.

    Every argument is checked, and the view must lie inside the storage: a crafted file
    cannot make numpy read memory that is not the storage's.
    """
    del requires_grad, backward_hooks, metadata  # training-time attributes; not needed
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise ModelFormatError("tensor rebuilt from something that is not a storage")
    if isinstance(storage_offset, bool) or not isinstance(storage_offset, int):
        raise ModelFormatError(f"tensor storage offset {storage_offset!r} is not a number")
    shape = _shape(size, "size")
    strides = _shape(stride, "stride")
    if len(shape) != len(strides):
        raise ModelFormatError(f"tensor size {shape} and stride {strides} differ in length")
    if any(dim == 0 for dim in shape):
        return np.zeros(shape, dtype=storage.dtype)
    last = storage_offset + sum((dim - 1) * step for dim, step in zip(shape, strides, strict=True))
    if storage_offset < 0 or last >= storage.size:
        raise ModelFormatError(
            f"tensor of size {shape} at offset {storage_offset} reaches element {last} of a "
            f"storage of {storage.size}: the file is damaged or crafted"
        )
    view = np.lib.stride_tricks.as_strided(
        storage[storage_offset:],
        shape=shape,
        strides=tuple(step * storage.itemsize for step in strides),
        writeable=False,
    )
    return np.array(view, order="C", copy=True)


class _StateDictUnpickler(pickle.Unpickler):
    """An unpickler that knows four globals and the zip's storages, and nothing else."""

    _GLOBALS: ClassVar[dict[tuple[str, str], Callable[..., Any]]] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    }

    def __init__(
        self, data: bytes, read_storage: Callable[[str, np.dtype[Any]], NDArray[Any]]
    ) -> None:
        """Unpickle ``data``; storages are read on demand by ``read_storage(key, dtype)``."""
        super().__init__(io.BytesIO(data))
        self._read_storage = read_storage
        self._storages: dict[str, NDArray[Any]] = {}

    def find_class(self, module: str, name: str) -> Any:
        """Resolve only the tensor-rebuild globals; refuse anything else by name."""
        allowed = self._GLOBALS.get((module, name))
        if allowed is not None:
            return allowed
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name, _STORAGE_DTYPES[name])
        raise ModelFormatError(
            f"refusing the pickle global {module}.{name}: a weights file may only hold "
            "tensors in an OrderedDict (collections.OrderedDict, "
            "torch._utils._rebuild_tensor_v2 and torch storage types)"
        )

    def persistent_load(self, pid: Any) -> Any:
        """Return the storage a tensor points at: ``('storage', type, key, location, n)``."""
        if not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage":
            raise ModelFormatError(f"unexpected persistent id {pid!r:.80} in the pickle")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType) or not isinstance(key, str):
            raise ModelFormatError(f"storage reference {pid!r:.80} is malformed")
        if isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
            raise ModelFormatError(f"storage {key!r} has a bad element count {numel!r}")
        cached = self._storages.get(key)
        if cached is None:
            cached = self._read_storage(key, storage_type.dtype)
            self._storages[key] = cached
        if cached.dtype != storage_type.dtype or cached.size != numel:
            raise ModelFormatError(
                f"storage {key!r} holds {cached.size} {cached.dtype} values, the pickle says "
                f"{numel} {storage_type.dtype}"
            )
        return cached


def _prefix(archive: zipfile.ZipFile, path: Path) -> str:
    """The folder ``torch.save`` put everything under (``archive`` or the file's stem)."""
    pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise ModelFormatError(
            f"{path}: not a zip-format PyTorch file (expected one */data.pkl, found {len(pickles)})"
        )
    return pickles[0].removesuffix("/data.pkl")


def read_state_dict(path: Path) -> dict[str, NDArray[Any]]:
    """Every tensor of the ``state_dict`` saved at ``path``, by name, as numpy arrays.

    Raises :class:`ModelFormatError` naming the file for anything that is not a plain
    zip-format tensor ``state_dict``: a legacy (non-zip) file, a big-endian file, a global
    other than the tensor-rebuild ones, a storage whose bytes do not match its declaration.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise ModelFormatError(f"{path}: not a zip-format PyTorch file ({err})") from err
    with archive:
        prefix = _prefix(archive, path)
        names = set(archive.namelist())
        byteorder_name = f"{prefix}/byteorder"
        if byteorder_name in names and archive.read(byteorder_name).strip() != b"little":
            raise ModelFormatError(f"{path}: only little-endian PyTorch files are supported")
        pickle_info = archive.getinfo(f"{prefix}/data.pkl")
        if pickle_info.file_size > MAX_PICKLE_BYTES:
            raise ModelFormatError(f"{path}: data.pkl is {pickle_info.file_size} bytes; too big")

        def read_storage(key: str, dtype: np.dtype[Any]) -> NDArray[Any]:
            member = f"{prefix}/data/{key}"
            if member not in names:
                raise ModelFormatError(f"{path}: storage {key!r} is missing from the archive")
            size = archive.getinfo(member).file_size
            if size > MAX_STORAGE_BYTES or size % dtype.itemsize:
                raise ModelFormatError(
                    f"{path}: storage {key!r} is {size} bytes, not a whole number of "
                    f"{dtype} values within {MAX_STORAGE_BYTES} bytes"
                )
            return np.frombuffer(archive.read(member), dtype=dtype)

        try:
            loaded = _StateDictUnpickler(archive.read(pickle_info), read_storage).load()
        except ModelFormatError as err:
            raise ModelFormatError(f"{path}: {err}") from err
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError) as err:
            raise ModelFormatError(f"{path}: the pickle is damaged ({err})") from err
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in loaded.items()
    ):
        raise ModelFormatError(
            f"{path}: holds {type(loaded).__name__}, not a state_dict of tensors"
        )
    return dict(loaded)
