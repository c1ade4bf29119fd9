"""Workers: processes that take queued runs from the run database and train them.

``python -m augment_core.worker`` runs one worker (the app starts ``AUGLAB_WORKERS`` of them with
itself, see :class:`WorkerPool`). A worker claims the oldest queued run
(:meth:`augment_core.experiment.RunQueue.claim`), trains it with the engine, writes every finished
epoch, and from a side thread writes a heartbeat with the latest step every
``AUGLAB_HEARTBEAT_SECONDS`` and reads the run's cancel flag. Stopped politely (SIGTERM, or the app
that started it is gone) it puts its run back in the queue; killed, it leaves a stale heartbeat
that any other worker turns into "failed" with the finished epochs kept.

Any program can use the queue the same way the pages do::

    from augment_core.experiment import RunQueue, RunStore
    queue = RunQueue()
    run_id = queue.enqueue(spec, owner=secret)       # spec.dataset: a built-in or a saved upload's path
    queue.wait(run_id)                               # or poll queue.state(run_id)
    RunStore().load_run(run_id).epochs               # streamed: epochs appear as they finish

Depends on ``experiment`` only.
"""

from augment_core.faces import lazy_face

__getattr__, __dir__, __all__ = lazy_face(__name__, {
    "loop": ["Worker", "worker_name"],
    "pool": ["WorkerPool", "start_workers"],
    "process_executor": ["ProcessExecutor", "train_replicate"],
    "ray_executor": ["RayExecutor"],
})
