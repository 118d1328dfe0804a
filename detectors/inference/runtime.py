"""A thin, typed layer over OpenVINO's runtime.

One :class:`InferenceRuntime` (one ``openvino.Core``) per engine; each model is compiled
once and the resulting :class:`CompiledRunner` is shared by every camera. Callers on the
asyncio loop use :meth:`CompiledRunner.infer_async`, which feeds OpenVINO's
``AsyncInferQueue`` (several infer requests in flight: throughput mode); tools and tests use
the synchronous :meth:`CompiledRunner.infer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import openvino as ov
from numpy.typing import NDArray

from detectors.errors import DeviceError, ModelFormatError
from detectors.inference.settings import (
    DEVICES,
    PERFORMANCE_MODES,
    PRECISIONS,
    InferenceSettings,
)

type Outputs = dict[str, NDArray[Any]]


_PHYSICAL = ("CPU", "GPU", "NPU")
_META = ("AUTO", "MULTI", "HETERO")


def _families(devices: list[str]) -> set[str]:
    """Device families of OpenVINO device names (``GPU.0`` → ``GPU``)."""
    return {d.split(".")[0] for d in devices}


class InferenceRuntime:
    """The engine's single OpenVINO ``Core`` and the settings every model is compiled with."""

    def __init__(
        self, settings: InferenceSettings | None = None, core: ov.Core | None = None
    ) -> None:
        """Check the settings against this machine; raise :class:`DeviceError` if unusable."""
        self.settings = settings or InferenceSettings()
        self.core = core or ov.Core()
        if self.settings.precision not in PRECISIONS:
            raise DeviceError(
                f"precision {self.settings.precision!r} is not one of {', '.join(PRECISIONS)}"
            )
        if self.settings.performance not in PERFORMANCE_MODES:
            raise DeviceError(
                f"performance {self.settings.performance!r} is not one of "
                f"{', '.join(PERFORMANCE_MODES)}"
            )
        self.check_device(self.settings.device)

    @property
    def available_devices(self) -> list[str]:
        """Devices OpenVINO can use on this machine, e.g. ``['CPU', 'GPU.0', 'NPU']``."""
        return list(self.core.available_devices)

    def check_device(self, device: str) -> None:
        """Raise :class:`DeviceError` naming what is available if ``device`` is not.

        Accepts a family (``GPU``), an instance (``GPU.1``) or a meta device with an
        optional priority list (``AUTO``, ``AUTO:GPU,CPU``, ``MULTI:GPU,CPU``).
        """
        available = self.available_devices
        listing = ", ".join(available) or "none"
        head, _, tail = device.partition(":")
        physical = [d.strip() for d in tail.split(",") if d.strip()] if head in _META else [device]
        usable = []
        for name in physical:
            if name.split(".")[0] not in _PHYSICAL:
                raise DeviceError(
                    f"unknown inference device {name!r}; use one of {', '.join(DEVICES)} "
                    f"(available here: {listing})"
                )
            if name in available or ("." not in name and name in _families(available)):
                usable.append(name)
        # A meta device's list is a priority list: it is enough that one entry exists here.
        if physical and not usable:
            raise DeviceError(
                f"inference device {', '.join(physical)!r} is not available here; "
                f"available: {listing}"
            )
        if head not in _META and len(usable) != len(physical):
            raise DeviceError(
                f"inference device {device!r} is not available here; available: {listing}"
            )

    def compile_config(self) -> dict[str, Any]:
        """The OpenVINO properties these settings translate to."""
        config: dict[str, Any] = {
            "PERFORMANCE_HINT": self.settings.performance.upper(),
        }
        if self.settings.precision != "auto":
            config["INFERENCE_PRECISION_HINT"] = self.settings.precision
        if self.settings.requests > 0:
            config["PERFORMANCE_HINT_NUM_REQUESTS"] = str(self.settings.requests)
        if self.settings.threads > 0 and self.settings.device.startswith("CPU"):
            config["INFERENCE_NUM_THREADS"] = str(self.settings.threads)
        return config

    def compile(self, model: ov.Model | str, name: str) -> CompiledRunner:
        """Compile ``model`` (an ``openvino.Model`` or a path) for the configured device."""
        try:
            compiled = self.core.compile_model(model, self.settings.device, self.compile_config())
        except RuntimeError as err:
            raise ModelFormatError(
                f"model {name!r} could not be compiled for {self.settings.device}: {err}"
            ) from err
        return CompiledRunner(name, compiled, self.settings.requests)


class CompiledRunner:
    """One compiled model, shared by every caller.

    The sync path keeps one infer request behind a lock; the async path owns an
    ``AsyncInferQueue`` whose completion callback (an OpenVINO thread) resolves the
    caller's future on its own event loop.
    """

    def __init__(self, name: str, compiled: ov.CompiledModel, requests: int = 0) -> None:
        """Wrap ``compiled``; ``requests`` 0 takes the device's optimal request count."""
        self.name = name
        self.compiled = compiled
        self.output_names = [port.get_any_name() for port in compiled.outputs]
        self.input_name = compiled.inputs[0].get_any_name()
        optimal = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.requests = requests if requests > 0 else max(1, optimal)
        self._sync_request = compiled.create_infer_request()
        self._sync_lock = threading.Lock()
        self._queue: ov.AsyncInferQueue | None = None
        self._queue_lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self.submitted = 0
        """Async inferences started so far (benchmarks count inferences per frame)."""
        self._closed = False

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The static input shape, e.g. ``(1, 3, 416, 416)``."""
        return tuple(int(d) for d in self.compiled.inputs[0].get_shape())

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every output's static shape by output name."""
        return {
            port.get_any_name(): tuple(int(d) for d in port.get_shape())
            for port in self.compiled.outputs
        }

    def _collect(self, request: ov.InferRequest) -> Outputs:
        return {
            name: np.array(request.get_output_tensor(i).data, copy=True)
            for i, name in enumerate(self.output_names)
        }

    def infer(self, tensor: NDArray[Any]) -> Outputs:
        """Run one inference now, on the calling thread."""
        with self._sync_lock:
            self._sync_request.infer({0: tensor})
            return self._collect(self._sync_request)

    def _async_queue(self) -> ov.AsyncInferQueue:
        with self._queue_lock:
            if self._queue is None:
                queue = ov.AsyncInferQueue(self.compiled, self.requests)
                queue.set_callback(self._on_done)
                self._queue = queue
            return self._queue

    def _on_done(self, request: ov.InferRequest, userdata: Any) -> None:
        """Completion callback on an OpenVINO thread: it must never raise.

        An exception escaping it is kept by OpenVINO and aborts the process at the next
        ``start_async``. The caller may be gone: a camera stopped (its task cancelled) and
        its event loop closed while the request was still running.
        """
        loop, future, _tensor = userdata  # the input stayed referenced until now
        if loop.is_closed() or future.cancelled():
            return
        try:
            outputs: Outputs | BaseException = self._collect(request)
        except Exception as err:
            outputs = err
        with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
            loop.call_soon_threadsafe(_resolve, future, outputs)

    async def infer_async(self, tensor: NDArray[Any]) -> Outputs:
        """Run one inference through the shared async queue and await its outputs.

        ``start_async`` blocks while every request is busy, so it runs in a worker thread
        and the event loop never stalls behind a full queue.
        """
        outputs, _ = await self.infer_prepared(lambda: (tensor, None))
        return outputs

    async def infer_prepared[C](
        self, prepare: Callable[[], tuple[NDArray[Any], C]]
    ) -> tuple[Outputs, C]:
        """Preprocess with ``prepare`` and infer, both off the event loop; return its context.

        ``prepare`` (resize, letterbox) runs in the same worker thread that submits the
        request, so a frame costs the event loop one thread hop and no pixel work.
        ``prepare`` returns the input tensor and whatever the caller needs afterwards
        (the letterbox geometry).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outputs] = loop.create_future()
        context = await asyncio.to_thread(self._prepare_and_submit, prepare, (loop, future))
        return await future, context

    def _prepare_and_submit[C](
        self, prepare: Callable[[], tuple[NDArray[Any], C]], userdata: tuple[Any, Any]
    ) -> C:
        tensor, context = prepare()
        self._submit(tensor, userdata)
        return context

    def _submit(self, tensor: NDArray[Any], userdata: tuple[Any, Any]) -> None:
        """Start one request; serialised because the queue's idle-slot pick is not atomic.

        The request reads ``tensor`` in place (``share_inputs``) instead of copying half a
        megabyte per frame into its own buffer. The tensor rides along in the callback's
        userdata, so it stays alive until the request is done with it.
        """
        queue = self._async_queue()
        with self._submit_lock:
            if self._closed:
                raise RuntimeError(f"{self.name}: the inference runner is closed")
            queue.start_async({0: tensor}, (*userdata, tensor), share_inputs=True)
            self.submitted += 1

    def close(self) -> None:
        """Refuse new async requests, then wait for those in flight (engine shutdown).

        A camera task cancelled at shutdown may still have its submission queued in a worker
        thread; started after the last wait, its completion callback would run while the
        interpreter finalizes, and OpenVINO's thread, stopped inside C++ by Python, aborts
        the process ("FATAL: exception not rethrown").
        """
        with self._submit_lock:
            self._closed = True
        self.wait_idle()

    def saturated(self) -> bool:
        """Whether every async infer request is busy right now (callers are queueing).

        Best effort, read without a lock: the lying-person search uses it to leave the
        device to the cameras' own frames when there is no idle request.
        """
        queue = self._queue
        return queue is not None and not queue.is_ready()

    def wait_idle(self) -> None:
        """Block until every queued async request has finished (shutdown, benchmarks)."""
        if self._queue is not None:
            self._queue.wait_all()

    def describe(self) -> Mapping[str, object]:
        """What the engine reports about this model under ``/info``."""
        return {
            "name": self.name,
            "requests": self.requests,
            "input_shape": list(self.input_shape),
            "execution_devices": list(self.compiled.get_property("EXECUTION_DEVICES")),
        }


def _resolve(future: asyncio.Future[Outputs], outputs: Outputs | BaseException) -> None:
    if future.cancelled():
        return
    if isinstance(outputs, BaseException):
        future.set_exception(outputs)
    else:
        future.set_result(outputs)
