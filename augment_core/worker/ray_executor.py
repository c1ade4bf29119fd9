"""Replicates as Ray tasks: the same engine, spread over the nodes of a Ray cluster.

With ``AUGLAB_RAY_ADDRESS`` set (``auto``, ``127.0.0.1:6379``, ``ray://head:10001``), a worker
trains each replicate of its run (one seed or fold, both arms) as a Ray task: the data go to
Ray's object store once, every task calls the engine's own
:func:`~augment_core.experiment.run_replicate`, and the worker writes each replicate's epochs and
final analysis into the run database as the task finishes (so results stream back replicate by
replicate). Cancelling a run cancels its pending and running tasks.

A node that dies mid-run (killed, out of memory, its machine gone) takes its running replicates
with it, never a finished one: those are already in the database. Ray retries each lost task on a
node that is still up (``max_retries``, default 3), from the start of its replicate: every random
choice is seeded, so the retried replicate gives the numbers it would have given, and the run
completes. Only when a replicate's retries run out does the run end *failed*, with a message
naming the replicates that were lost, after every other replicate has finished and been stored.

Ray is optional (``requirements-ray.txt``); nothing here imports it until a run uses it. The
cluster's nodes need this project importable: on one machine the worker passes its own source
folder on ``PYTHONPATH``; on a real cluster install the project in the nodes' image.

Example:
    >>> result = run_experiment(spec, executor=RayExecutor("auto"))
    >>> result.versions["executor"]
    'ray'
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from augment_core.errors import AugLabError
from augment_core.experiment import (BatchProgress, EpochRecord, FinalEvaluation, ImageDataset, Replicate, StepCounter,
                                     deliver_replicate, run_replicate)
from augment_core.settings import get_setting

_ROOT = Path(__file__).resolve().parents[2]  # the folder holding augment_core, for nodes on this machine
_TASK: Any = None  # the remote function, made once per process


def _train_replicate(replicate: Replicate, data: ImageDataset) -> tuple[list[EpochRecord], list[FinalEvaluation], str]:
    """Ray task body: one replicate with the engine; its epochs, finals and the node it ran on."""
    import ray

    from augment_core.experiment.runner import configure_threads

    configure_threads()
    epochs: list[EpochRecord] = []
    finals: list[FinalEvaluation] = []
    run_replicate(replicate, data, counter=StepCounter(replicate.steps), on_epoch=epochs.append, on_final=finals.append)
    return epochs, finals, ray.get_runtime_context().get_node_id()


def ray_module() -> Any:
    """The ``ray`` module, or an :class:`AugLabError` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise AugLabError("AUGLAB_RAY_ADDRESS is set but Ray is not installed.",
                          hint="pip install -r requirements-ray.txt, or unset AUGLAB_RAY_ADDRESS to train locally.",
                          field="AUGLAB_RAY_ADDRESS") from exc
    return ray


class RayExecutor:
    """Runs a run's replicates as Ray tasks on the cluster at ``address`` (default ``AUGLAB_RAY_ADDRESS``).

    Attributes:
        nodes: Ray node ids that trained at least one replicate (filled as tasks finish).
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, cpus_per_task: float = 1.0, max_retries: int = 3) -> None:
        self.address = address if address is not None else get_setting("AUGLAB_RAY_ADDRESS")
        if not self.address:
            raise AugLabError("No Ray cluster address: set AUGLAB_RAY_ADDRESS (auto, host:port or ray://host:10001).",
                              field="AUGLAB_RAY_ADDRESS")
        self.cpus_per_task = cpus_per_task
        self.max_retries = max_retries  # times Ray reruns a replicate whose node or worker process died
        self.nodes: set[str] = set()

    def _connect(self) -> Any:
        global _TASK
        ray = ray_module()
        if not ray.is_initialized():
            env = {"PYTHONPATH": str(_ROOT), "NO_ALBUMENTATIONS_UPDATE": "1",
                   "AUGLAB_TORCH_THREADS": get_setting("AUGLAB_TORCH_THREADS")}
            try:
                ray.init(address=self.address, runtime_env={"env_vars": env}, log_to_driver=False,
                         logging_level="WARNING")
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise AugLabError(f"Could not connect to the Ray cluster at {self.address}: {exc}",
                                  hint="Check AUGLAB_RAY_ADDRESS and that the cluster is up (ray status).",
                                  field="AUGLAB_RAY_ADDRESS") from exc
        if _TASK is None:
            _TASK = ray.remote(_train_replicate)
        return ray

    def __call__(self, replicates: list[Replicate], data: ImageDataset, *, counter: StepCounter,
                 on_epoch: Callable[[EpochRecord], None], on_final: Callable[[FinalEvaluation], None],
                 on_batch: Callable[[BatchProgress], None] | None, cancel: threading.Event | None) -> None:
        """Submit every replicate, then record each as its task finishes (see :class:`~augment_core.experiment.runner.LocalReplicateExecutor`)."""
        from augment_core.experiment.training import Cancelled

        ray = self._connect()
        shared = ray.put(data)  # once, not once per task
        pending = {_TASK.options(num_cpus=self.cpus_per_task, num_gpus=1 if r.device.startswith("cuda") else 0,
                                 max_retries=self.max_retries).remote(r, shared): r
                   for r in replicates}  # a CUDA run's tasks wait for a node with a free GPU (Ray sets CUDA_VISIBLE_DEVICES)
        lost: list[tuple[Replicate, Exception]] = []
        try:
            while pending:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                for ref in done:
                    replicate = pending.pop(ref)
                    try:
                        epochs, finals, node = ray.get(ref)
                    except ray.exceptions.RayTaskError:
                        raise  # the engine's own error (a bad pipeline...): the run fails with it, as locally
                    except ray.exceptions.RayError as exc:  # its node or worker died and the retries ran out
                        lost.append((replicate, exc))
                        continue  # the other replicates still finish and are stored
                    self.nodes.add(node)
                    deliver_replicate(replicate, epochs, finals, counter=counter, on_epoch=on_epoch, on_final=on_final,
                                      on_batch=on_batch)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
        if lost:
            numbers = ", ".join(str(r.index + 1) for r, _ in lost)
            raise AugLabError(f"Ray lost replicate {numbers} of {replicates[0].of}: the node or worker training it died "
                              f"({type(lost[0][1]).__name__}) and Ray's {self.max_retries} retries did not finish it. "
                              "The other replicates finished and are kept.",
                              hint="Check the cluster (ray status) and run it again.", field="AUGLAB_RAY_ADDRESS")
