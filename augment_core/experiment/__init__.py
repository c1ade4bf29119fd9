"""The experiment engine: fine-tune with and without augmentation, everything else identical.

Public API (what pages and the CLI call)::

    from augment_core.experiment import (
        ExperimentSpec, create_spec_preset, list_spec_presets, run_experiment, RunStore,
        list_datasets, create_dataset, list_backbones, get_backbone_info, load_zip, load_mapping)

    spec = create_spec_preset("demo")
    result = run_experiment(spec, on_epoch=..., on_batch=..., cancel=threading.Event(), store=RunStore())
    result.status, result.comparison["sentence"], result.analysis["curves"]["val_acc"]

Modules: ``spec`` (the run description), ``datasets``/``synthetic``/``userdata`` (data),
``models``/``backbones`` (networks), ``augmentation``/``loader`` (batches), ``training``
(strategies, ``train_one_epoch``, ``evaluate``), ``stats``, ``results``, ``store``, ``runner``,
``presets``, ``queue`` (queued runs in the store: enqueue, claim, heartbeat, cancel) and ``cli``; many arms:
``executor`` (where runs execute), ``arms``, ``leaderboard`` (Holm-corrected comparisons), ``ablation``,
``search`` (Optuna).
"""

from augment_core.faces import lazy_face

__getattr__, __dir__, __all__ = lazy_face(__name__, {
    "ablation": ["AblationResult", "StepEffect", "ablation_arms", "engine_dict", "run_ablation"],
    "arms": ["Arm", "ArmsResult", "ArmsSpec", "run_arms"],
    "augmentation": ["build_compose"],
    "backbones": ["create_backbone", "fetch_weights", "get_backbone_info", "list_backbones", "weights_cached", "weights_path",
                  "weights_url"],
    "datasets": ["ImageDataset", "check_data_budget", "create_dataset", "get_dataset_info", "list_datasets"],
    "executor": ["DataPart", "Executor", "LocalExecutor", "RunRequest"],
    "export": ["TrainedModel", "export_bundle", "export_onnx", "export_torchscript", "kept_model_version", "load_trained",
               "onnx_difference", "predict", "prepare_image", "trained_arms"],
    "leaderboard": ["NONE_ARM", "Leaderboard", "build_leaderboard", "holm_levels"],
    "presets": ["DEMO_PIPELINE", "PHOTO_PIPELINE", "create_spec_preset", "get_spec_preset_info", "list_spec_presets"],
    "results": ["BatchProgress", "EpochRecord", "ExperimentResult", "FinalEvaluation"],
    "progress": ["StepCounter", "machine_load"],
    "queue": ["QueueFullError", "RunQueue", "RunState", "owner_hash"],
    "queue_executor": ["QueueExecutor", "run_queued"],
    "runner": ["LocalReplicateExecutor", "Replicate", "deliver_replicate", "load_dataset", "make_replicates",
               "run_experiment",
               "run_replicate", "storage_error_message", "transform_seed"],
    "device": ["select_device"],
    "search": ["SearchResult", "SearchSpec", "TrialRow", "confirm_search", "load_search", "parse_budget", "run_search"],
    "search_space": ["SPACES", "create_space"],
    "spec": ["SPEC_LIMITS", "STRATEGIES", "ExperimentSpec", "spec_limit"],
    "stats": ["Comparison", "chance_level", "compare_arms", "paired_comparison"],
    "store": ["RunStore"],
    "userdata": ["DEFAULT_SQUARE", "SQUARE_MODES", "ValidationReport", "load_mapping", "load_zip", "validation_advice"],
})
