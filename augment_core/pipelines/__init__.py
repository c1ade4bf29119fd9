"""Compose: the pipeline model, its file formats and links, presets, annotations and mixing.

Modules: ``model`` (steps, OneOf/SomeOf groups, safe building), ``io`` (albumentations-native
JSON/YAML, share links), ``presets`` (pipeline presets and label-safety rules), ``annotations``
(boxes, masks, keypoints), ``mixing`` (MixUp/CutMix batch operations), ``mixing_preview`` and ``widget_args`` (the
editor's widget values for a step's arguments).
Depends on ``transforms``.
"""

from augment_core.faces import lazy_face

__getattr__, __dir__, __all__ = lazy_face(__name__, {
    "annotations": ["Annotations", "draw_annotations", "list_annotated_samples", "load_annotated_sample", "load_mask",
                    "parse_coco", "parse_yolo", "render_annotated", "scale_annotations"],
    "io": ["decode_link", "document_transforms", "encode_link", "export_text", "from_dict", "import_text", "python_code", "step_names", "to_dict", "training_dict", "trim_document"],
    "mixing_preview": ["METHODS", "mix_preview", "real_mix_seed"],
    "mixing": ["MixResult", "describe_mix", "mix_batch"],
    "model": ["DEFAULT_SEED", "Group", "Pipeline", "Step", "geometry_report", "step_title", "to_compose", "with_seed"],
    "widget_args": ["widget_values"],
    "presets": ["DATA_KINDS", "LabelWarning", "create_pipeline_preset", "get_pipeline_preset", "label_warnings",
                "list_data_kinds", "list_pipeline_presets"],
})
