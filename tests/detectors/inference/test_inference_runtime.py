import asyncio

import numpy as np
import pytest

from detectors.errors import DeviceError
from detectors.inference import InferenceRuntime, InferenceSettings
from tests.detectors.vision.model_factory import fixed_output_model, yolov8_two_objects


def test_available_devices_come_from_openvino() -> None:
    runtime = InferenceRuntime(InferenceSettings(device="CPU"))
    assert runtime.available_devices == list(runtime.core.available_devices)
    assert "CPU" in runtime.available_devices


@pytest.mark.parametrize("device", ["CPU", "AUTO", "AUTO:GPU,CPU", "MULTI:CPU"])
def test_devices_usable_here_are_accepted(device: str) -> None:
    InferenceRuntime(InferenceSettings(device=device))


@pytest.mark.parametrize("device", ["GPU", "NPU", "GPU.1", "AUTO:GPU,NPU"])
def test_absent_devices_are_refused_naming_what_is_available(device: str) -> None:
    runtime = InferenceRuntime(InferenceSettings(device="CPU"))
    if any(
        d.startswith(device.rsplit(":", maxsplit=1)[-1].split(",", maxsplit=1)[0])
        for d in runtime.available_devices
    ):
        pytest.fail(f"{device} exists on this machine; the test assumes a CPU-only host")
    with pytest.raises(DeviceError) as err:
        runtime.check_device(device)
    assert "not available here" in str(err.value)
    assert "available: CPU" in str(err.value)


def test_unknown_device_name_lists_the_choices() -> None:
    with pytest.raises(DeviceError, match=r"unknown inference device 'TPU'; use one of CPU, GPU"):
        InferenceRuntime(InferenceSettings(device="TPU"))


def test_bad_precision_and_performance_are_refused() -> None:
    with pytest.raises(DeviceError, match="precision 'f8'"):
        InferenceRuntime(InferenceSettings(precision="f8"))  # type: ignore[arg-type]
    with pytest.raises(DeviceError, match="performance 'fast'"):
        InferenceRuntime(InferenceSettings(performance="fast"))  # type: ignore[arg-type]


def test_settings_become_openvino_properties() -> None:
    runtime = InferenceRuntime(
        InferenceSettings(
            device="CPU", precision="f32", performance="throughput", requests=3, threads=1
        )
    )
    assert runtime.compile_config() == {
        "PERFORMANCE_HINT": "THROUGHPUT",
        "INFERENCE_PRECISION_HINT": "f32",
        "PERFORMANCE_HINT_NUM_REQUESTS": "3",
        "INFERENCE_NUM_THREADS": "1",
    }
    compiled = runtime.compile(fixed_output_model(yolov8_two_objects(), (1, 3, 64, 64)), "fixed")
    assert compiled.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"
    assert compiled.requests == 3


def test_sync_and_async_paths_agree_and_share_one_compiled_model() -> None:
    runtime = InferenceRuntime(InferenceSettings(device="CPU", precision="f32"))
    runner = runtime.compile(fixed_output_model(yolov8_two_objects(), (1, 3, 64, 64)), "fixed")
    tensor = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    sync = runner.infer(tensor)

    async def many() -> list[dict[str, np.ndarray]]:
        return await asyncio.gather(*(runner.infer_async(tensor) for _ in range(8)))

    results = asyncio.run(many())
    runner.wait_idle()
    assert len(results) == 8
    for outputs in results:
        np.testing.assert_allclose(outputs[runner.output_names[0]], yolov8_two_objects(), atol=1e-6)
    np.testing.assert_allclose(sync[runner.output_names[0]], yolov8_two_objects(), atol=1e-6)
    assert runner.describe()["execution_devices"] == ["CPU"]
