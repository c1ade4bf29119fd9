"""Look at one transform: the catalog, widget specs, previews, images, samples, code snippets.

Modules: ``catalog`` (the transform registry), ``params`` (widget specs from each schema),
``preview`` (seeded grids with captions), ``images`` (safe upload loading), ``samples``
(built-in images) and ``codegen`` (Python snippets). Depends only on ``errors`` and ``settings``.
"""

from augment_core.faces import lazy_face

__getattr__, __dir__, __all__ = lazy_face(__name__, {
    "catalog": ["FAMILY_ORDER", "TransformSpec", "check_bounds", "create_transform", "get_transform", "list_transforms"],
    "codegen": ["call_code", "compose_code", "transform_code"],
    "executor": ["BoundedExecutor", "bounded_call", "get_executor", "render_grid_bounded"],
    "images": ["IMAGE_TYPES", "LoadedImage", "PreviewCache", "downscale", "load_image"],
    "bounds": ["out_of_bounds", "range_bounds"],
    "params": ["ParamSpec", "derive_params", "parse_text_value", "to_kwargs"],
    "preview": ["FirstPreview", "PreviewGrid", "PreviewPlan", "Tile", "caption_for", "display_size", "encode_jpeg", "first_preview",
                "plan_preview", "render_grid", "shrink"],
    "samples": ["SAMPLES", "list_samples", "load_sample", "parse_sample_link"],
})
