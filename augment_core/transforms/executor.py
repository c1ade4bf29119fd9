"""Previews and augmentation calls with a wall-clock limit, in worker processes that can be stopped.

A transform the user configured (a 1000×1000 grid shuffle, a huge median kernel, a piecewise
affine of many points) can hold a CPU for a minute. Run in the server's own process it would
freeze every session; a thread cannot be stopped. So each call goes to a small pool of
persistent worker processes (``AUGLAB_PREVIEW_WORKERS``, started once, with albumentations
already imported): the caller waits at most ``AUGLAB_PREVIEW_TIMEOUT_S`` seconds, and a worker
that runs past it is killed and replaced, and the user gets a message instead of a frozen page.
Each worker's address space is capped at ``AUGLAB_PREVIEW_MAX_MB``, so a call that asks for
too much memory fails in the worker (a message), never in the server.

``AUGLAB_PREVIEW_WORKERS=0`` runs calls in the caller's process (no limit), for debugging.

Example:
    >>> grid = render_grid_bounded(catalog.create_transform("Rotate"), [image], n=8, seed=42)
    >>> bounded_call(sum, [1, 2, 3])
    6
"""

from __future__ import annotations

import atexit
import os
import pickle
import queue
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from augment_core.errors import AugLabError
from augment_core.settings import get_int

T = TypeVar("T")
STARTUP_S = 120.0  # a worker's imports (albumentations, cv2) on a busy machine; not a preview's time


def _send(stream: Any, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("!Q", len(data)) + data)
    stream.flush()


def _recv(stream: Any) -> Any:
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError("the other end closed the pipe")
    (size,) = struct.unpack("!Q", header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other end closed the pipe")
    return pickle.loads(data)  # noqa: S301 - only ever our own process on the other end of a private pipe


def _serve(max_bytes: int) -> None:
    """Worker loop on stdin/stdout: receive ``(fn, args, kwargs)``, send ``("ok", result)`` or an error."""
    if max_bytes > 0:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
        except (ImportError, ValueError, OSError):  # not on this platform: the time limit still holds
            pass
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the reply stream
    # Previews never use torch, but albumentations imports its optional torch helpers whenever torch
    # imports (2.5 s of a worker's 3 s start on a 2-core machine). None in sys.modules makes
    # `import torch` fail at once, and albumentations skips those helpers (it catches ImportError).
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]
    import augment_core.transforms.preview  # noqa: F401  (albumentations and cv2 loaded once, before the first call)

    try:
        _send(replies, ("ready",))
    except OSError:  # the server went away while this worker started (BrokenPipeError): nothing to serve
        return
    while True:
        try:
            fn, args, kwargs = _recv(requests)
        except (EOFError, OSError):
            return
        try:
            reply: tuple[Any, ...] = ("ok", fn(*args, **kwargs))
        except AugLabError as exc:
            reply = ("auglab", exc.message, exc.hint, exc.field)
        except MemoryError:
            reply = ("memory",)
        except BaseException as exc:  # noqa: BLE001 - any failure goes back to the caller as a message
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            try:
                _send(replies, reply)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                _send(replies, ("error", f"the result could not be sent back ({type(exc).__name__}: {exc})"))
        except OSError:  # the server went away mid-call (BrokenPipeError): end quietly, no traceback
            return


class _Worker:
    """One worker process (``python -m augment_core.transforms.executor``) and its pipes.

    A plain subprocess, not ``multiprocessing``: spawn would re-run the server's main script
    (Streamlit's, or a test's) in the child, and fork would copy a threaded server.
    """

    def __init__(self, max_bytes: int) -> None:
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
        self.process = subprocess.Popen([sys.executable, "-m", "augment_core.transforms.executor", str(max_bytes)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=root)
        self.ready = False  # set once the worker has imported albumentations and said so

    def wait_ready(self) -> None:
        """Wait for the worker's start-up (imports), which does not count against a call's limit."""
        if self.ready:
            return
        if not self.wait(STARTUP_S) or self.receive() != ("ready",):
            raise EOFError("the preview worker did not start")
        self.ready = True

    def send(self, message: Any) -> None:
        _send(self.process.stdin, message)

    def wait(self, timeout: float) -> bool:
        """True when a reply is ready within ``timeout`` seconds."""
        ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, timeout))
        return bool(ready)

    def receive(self) -> Any:
        return _recv(self.process.stdout)

    def stop(self) -> None:
        """Kill the process (it may be stuck in C code) and reap it."""
        self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kill that did not land
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


class BoundedExecutor:
    """A pool of worker processes; :meth:`call` runs a function in one with a time limit.

    Args:
        workers: Number of worker processes (calls beyond it wait for a free one, within the limit).
        max_bytes: Address-space cap of each worker; 0 means none.
    """

    def __init__(self, workers: int, max_bytes: int = 0) -> None:
        self._max_bytes = max_bytes
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._all: list[_Worker] = []
        self.restarts = 0  # workers killed for running past their limit (or dying)
        for _ in range(workers):
            self._add()

    def _add(self) -> None:
        worker = _Worker(self._max_bytes)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            self.restarts += 1
        self._add()

    def call(self, fn: Callable[..., T], *args: Any, timeout: float, what: str = "The preview", **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in a worker and return its result.

        ``fn`` must be importable by name (a module-level function) and its arguments and result
        picklable.

        Raises:
            AugLabError: when the call (waiting for a free worker included) passes ``timeout``
                seconds, runs out of memory, or fails; the function's own AugLabError is re-raised as is.
        """
        deadline = time.monotonic() + timeout
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise AugLabError(f"{what} did not start within {timeout:g} s: other previews are still running.",
                              hint="Try again in a moment.") from None
        try:
            if not worker.ready:
                worker.wait_ready()
                deadline = time.monotonic() + timeout  # a fresh worker's imports are not the call's time
            worker.send((fn, args, kwargs))
            if not worker.wait(deadline - time.monotonic()):
                self._replace(worker)
                worker = None  # type: ignore[assignment]
                raise AugLabError(f"{what} took longer than {timeout:g} s and was stopped (AUGLAB_PREVIEW_TIMEOUT_S).",
                                  hint="These settings are too slow for a live preview: use smaller values, fewer samples or smaller images.")
            reply = worker.receive()
        except (EOFError, OSError, BrokenPipeError) as exc:
            if worker is not None:
                self._replace(worker)
                worker = None  # type: ignore[assignment]
            raise AugLabError(f"{what} stopped unexpectedly (the worker process ended: {type(exc).__name__}).",
                              hint="Probably out of memory; use smaller values or smaller images.") from None
        finally:
            if worker is not None:
                self._idle.put(worker)
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "auglab":
            raise AugLabError(reply[1], hint=reply[2], field=reply[3])
        if reply[0] == "memory":
            raise AugLabError(f"{what} needs more memory than a preview may use (AUGLAB_PREVIEW_MAX_MB).",
                              hint="Use smaller values or smaller images.")
        raise AugLabError(f"{what} failed: {reply[1]}.", hint="Change the settings and try again.")

    def shutdown(self) -> None:
        """Stop every worker."""
        with self._lock:
            workers, self._all = list(self._all), []
        for worker in workers:
            worker.stop()


_EXECUTOR: BoundedExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def get_executor() -> BoundedExecutor | None:
    """The server's one executor (created on first use), or ``None`` when ``AUGLAB_PREVIEW_WORKERS`` is 0."""
    global _EXECUTOR
    workers = get_int("AUGLAB_PREVIEW_WORKERS")
    if workers <= 0:
        return None
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = BoundedExecutor(workers, get_int("AUGLAB_PREVIEW_MAX_MB") * 1024 * 1024)
            atexit.register(_EXECUTOR.shutdown)
        return _EXECUTOR


def bounded_call(fn: Callable[..., T], *args: Any, what: str = "The preview", timeout: float | None = None, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in a preview worker, within ``AUGLAB_PREVIEW_TIMEOUT_S`` seconds.

    Raises:
        AugLabError: from ``fn``, or when the time or memory budget is passed.
    """
    executor = get_executor()
    if executor is None:
        return fn(*args, **kwargs)
    limit = float(get_int("AUGLAB_PREVIEW_TIMEOUT_S")) if timeout is None else timeout
    return executor.call(fn, *args, timeout=limit, what=what, **kwargs)


def render_grid_bounded(transform: Any, images: list[np.ndarray], n: int = 8, seed: int = 0, *, encode: bool = True,
                        keep_images: bool = False) -> Any:
    """:func:`~augment_core.transforms.preview.render_grid` within the preview budget.

    Same arguments and result, except that tiles come without their full-size arrays unless
    ``keep_images`` is set: pages draw the encoded tiles, and pickling 8 arrays back from the
    worker costs more than the transform itself (about 15 ms of a 35-ms Rotate grid).
    """
    from augment_core.transforms.preview import render_grid

    return bounded_call(render_grid, transform, images, n, seed, encode=encode, keep_images=keep_images)


if __name__ == "__main__":
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
