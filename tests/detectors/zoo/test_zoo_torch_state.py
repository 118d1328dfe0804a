"""The restricted state_dict reader: real weights in, anything that is not tensors refused.

Pickles are written opcode by opcode (:func:`state_dict_pickle`), the way ``torch.save``
lays them out, so the reader is tested on exactly the constructs it must accept and refuse
without PyTorch installed.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from detectors.errors import ModelFormatError
from detectors.zoo.catalog import FIGHT_MC3_18
from detectors.zoo.mc3 import check_weights, expected_keys
from detectors.zoo.store import ModelStore
from detectors.zoo.torch_state import read_state_dict

ORDERED_DICT = b"ccollections\nOrderedDict\n"
REBUILD = b"ctorch._utils\n_rebuild_tensor_v2\n"


def _text(value: str) -> bytes:
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _tuple(values: tuple[int, ...]) -> bytes:
    return b"(" + b"".join(_int(v) for v in values) + b"t"


def tensor_op(
    key: str,
    numel: int,
    offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    storage: str = "FloatStorage",
) -> bytes:
    """``_rebuild_tensor_v2((storage, type, key, 'cpu', numel), offset, size, stride, ...)``."""
    pid = b"(" + _text("storage") + f"ctorch\n{storage}\n".encode() + _text(key)
    pid += _text("cpu") + _int(numel) + b"tQ"
    args = pid + _int(offset) + _tuple(size) + _tuple(stride) + b"\x89" + ORDERED_DICT + b")R"
    return REBUILD + b"(" + args + b"tR"


def state_dict_pickle(tensors: dict[str, bytes], head: bytes = ORDERED_DICT) -> bytes:
    """A protocol-2 pickle of ``OrderedDict(name=tensor, ...)`` as torch.save writes it."""
    items = b"".join(_text(name) + op for name, op in tensors.items())
    return b"\x80\x02" + head + b")R(" + items + b"u."


def write_pth(path: Path, pickle_bytes: bytes, storages: dict[str, bytes], **extra: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle_bytes)
        for key, data in storages.items():
            archive.writestr(f"archive/data/{key}", data)
        for name, data in extra.items():
            archive.writestr(f"archive/{name}", data)
    return path


def test_reads_strided_and_offset_tensors_without_torch(tmp_path: Path) -> None:
    values = np.arange(12, dtype="<f4")
    pickle_bytes = state_dict_pickle(
        {
            "matrix": tensor_op("0", 12, 0, (3, 4), (4, 1)),
            "transposed": tensor_op("0", 12, 0, (4, 3), (1, 4)),
            "tail": tensor_op("0", 12, 10, (2,), (1,)),
            "count": tensor_op("1", 1, 0, (), (), storage="LongStorage"),
        }
    )
    storages = {"0": values.tobytes(), "1": np.array([7], "<i8").tobytes()}
    weights = read_state_dict(write_pth(tmp_path / "w.pth", pickle_bytes, storages))
    assert list(weights) == ["matrix", "transposed", "tail", "count"]
    np.testing.assert_array_equal(weights["matrix"], values.reshape(3, 4))
    np.testing.assert_array_equal(weights["transposed"], values.reshape(3, 4).T)
    np.testing.assert_array_equal(weights["tail"], [10.0, 11.0])
    assert weights["count"].shape == () and int(weights["count"]) == 7
    assert weights["transposed"].flags.c_contiguous, "a copy, not a view into the zip's bytes"


def test_a_global_other_than_the_tensor_ones_is_refused_before_it_runs(tmp_path: Path) -> None:
    witness = tmp_path / "ran"
    # posix.system("touch <witness>"): what a malicious weights file would do.
    evil = b"\x80\x02cposix\nsystem\n" + _text(f"touch {witness}") + b"\x85R."
    path = write_pth(tmp_path / "evil.pth", evil, {})
    with pytest.raises(ModelFormatError, match=r"refusing the pickle global posix\.system"):
        read_state_dict(path)
    assert not witness.exists()
    builtin = state_dict_pickle({}, head=b"cbuiltins\neval\n")
    with pytest.raises(ModelFormatError, match=r"builtins\.eval"):
        read_state_dict(write_pth(tmp_path / "eval.pth", builtin, {}))


def test_unknown_storage_types_and_bad_storages_are_refused(tmp_path: Path) -> None:
    data = np.zeros(4, "<f4").tobytes()
    cases = {
        "bfloat16": (
            tensor_op("0", 4, 0, (4,), (1,), storage="BFloat16Storage"),
            data,
            r"torch\.BFloat16Storage",
        ),
        "out_of_bounds": (tensor_op("0", 4, 2, (4,), (1,)), data, r"reaches element 5"),
        "numel_mismatch": (tensor_op("0", 5, 0, (4,), (1,)), data, r"holds 4 .* says 5"),
        "ragged_bytes": (tensor_op("0", 4, 0, (4,), (1,)), data[:-1], r"not a whole number"),
    }
    for name, (op, storage, message) in cases.items():
        path = write_pth(tmp_path / f"{name}.pth", state_dict_pickle({"t": op}), {"0": storage})
        with pytest.raises(ModelFormatError, match=message):
            read_state_dict(path)
    missing = write_pth(
        tmp_path / "missing.pth", state_dict_pickle({"t": cases["ragged_bytes"][0]}), {}
    )
    with pytest.raises(ModelFormatError, match="storage '0' is missing"):
        read_state_dict(missing)


def test_files_that_are_not_zip_state_dicts_are_refused(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.")  # torch's legacy magic
    with pytest.raises(ModelFormatError, match="not a zip-format PyTorch file"):
        read_state_dict(legacy)
    big_endian = write_pth(tmp_path / "be.pth", state_dict_pickle({}), {}, byteorder=b"big")
    with pytest.raises(ModelFormatError, match="little-endian"):
        read_state_dict(big_endian)
    not_a_dict = write_pth(tmp_path / "list.pth", b"\x80\x02]q\x00.", {})
    with pytest.raises(ModelFormatError, match="holds list, not a state_dict"):
        read_state_dict(not_a_dict)
    truncated = write_pth(tmp_path / "cut.pth", state_dict_pickle({})[:-3], {})
    with pytest.raises(ModelFormatError, match="damaged"):
        read_state_dict(truncated)


def test_the_fight_model_file_is_an_mc3_18_with_two_classes(model_store: ModelStore) -> None:
    path = model_store.folder(FIGHT_MC3_18) / FIGHT_MC3_18.primary.name
    weights = read_state_dict(path)
    assert len(weights) == 122
    assert set(weights) == set(expected_keys(2))
    assert weights["stem.0.weight"].shape == (64, 3, 3, 7, 7)
    assert weights["fc.weight"].shape == (2, 512)
    assert weights["stem.1.num_batches_tracked"].dtype == np.int64
    assert check_weights(weights) == 2
    assert all(np.all(np.isfinite(w)) for w in weights.values())


def test_weights_of_another_network_are_refused_by_name(model_store: ModelStore) -> None:
    weights = read_state_dict(model_store.folder(FIGHT_MC3_18) / FIGHT_MC3_18.primary.name)
    extra = dict(weights, **{"layer5.0.conv1.0.weight": np.zeros((1,), np.float32)})
    with pytest.raises(ModelFormatError, match=r"unexpected tensors layer5\.0\.conv1\.0\.weight"):
        check_weights(extra)
    missing = {k: v for k, v in weights.items() if k != "layer3.1.conv2.1.running_var"}
    with pytest.raises(ModelFormatError, match=r"'layer3\.1\.conv2\.1\.running_var' is missing"):
        check_weights(missing)
    wrong = dict(weights, **{"layer2.0.conv1.0.weight": np.zeros((128, 64, 3, 3, 3), np.float32)})
    with pytest.raises(
        ModelFormatError, match=r"shape \(128, 64, 3, 3, 3\), expected \(128, 64, 1, 3, 3\)"
    ):
        check_weights(wrong)
