"""What the Prove pages need on top of the engine: jobs, form set-up, links, run history,
report figures, the HTML report and the stakeholder demo.

Modules: ``jobs`` (background training jobs), ``setup`` (data and spec preparation for the
form), ``links`` (experiment links from lessons), ``history`` (the Runs page's rows),
``report_figures`` and ``report_html`` (results), ``demo``, ``page_cache`` (data sets
kept for pages, within a byte budget). Depends on ``worker`` (an in-process worker for scripts
and tests), ``experiment``, ``pipelines`` and ``transforms``.
"""

from augment_core.faces import lazy_face

__getattr__, __dir__, __all__ = lazy_face(__name__, {
    "advice": ["PIPELINES", "NextStep", "Proposal", "looks_like_photos", "next_steps", "propose_settings", "run_name",
               "training_images_per_class"],
    "page_cache": ["DataCache", "data_bytes", "data_cache"],
    "demo": ["BeforeAfter", "before_after", "demo_spec", "demo_title", "demo_why", "is_demo", "stored_demo_run"],
    "history": ["STATUS_ICONS", "misclassified", "overlay_runs", "rerun_spec", "run_dataset", "run_rows"],
    "jobs": ["JobLimitError", "JobManager", "JobSnapshot", "default_manager", "format_duration", "new_owner_token",
             "ordinal"],
    "links": ["ALPHA_RANGE", "IMAGE_SIZE_RANGE", "SEEDS_RANGE", "link_signature", "parse_experiment_link"],
    "report_figures": ["ARM_TITLES", "METRIC_TITLES", "accuracy_range", "comparison_figure", "confusion_figure", "curves_figure",
                       "figure_html", "figure_png", "overlay_figure", "per_class_figure", "png_export_problem"],
    "report": ["report_html"],
    "search_view": ["SEARCH_DATASETS", "ablation_epochs", "ablation_task", "best_so_far_figure", "confirm_task",
                    "leaderboard_table", "page_executor", "page_search_spec", "parallel_figure", "search_task", "trial_table", "winner_pipeline"],
    "tasks": ["TaskManager", "TaskSnapshot", "default_tasks"],
    "setup": ["ENGINE_PIPELINES", "PreparedData", "check_pipeline", "class_samples", "default_spec", "enlarge",
              "estimate_time", "pipeline_steps", "pipeline_summary", "prepare_builtin", "prepare_classes",
              "prepare_zip", "show_batch", "training_data_line", "validation_warning"],
})
