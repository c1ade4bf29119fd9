"""The pipeline page's panels: preview grid, annotations, mixing, and export/import/share."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from augment_core import AugLabError
from augment_core.pipelines import (Annotations, draw_annotations, list_annotated_samples, load_annotated_sample, load_mask, parse_coco, parse_yolo, render_annotated, scale_annotations)
from augment_core.transforms import load_image
from augment_core.pipelines import METHODS, mix_preview, real_mix_seed
from augment_core.pipelines import geometry_report, to_compose, with_seed
from augment_core.pipelines import decode_link, encode_link, export_text, import_text, python_code
from augment_core.transforms import bounded_call, render_grid_bounded
from augment_core.transforms import list_samples
from augment_core.settings import get_int
from ui.common import show_error
from ui.images import UPLOAD_TYPES, sample_preview
from ui.pipeline_state import edit_pipeline, get_pipeline, set_pipeline

_IMPORT_RESULT = "pipeline:import_result"
_LINK_APPLIED = "pipeline:link_applied"


def _set_seed(seed: int) -> None:
    edit_pipeline(with_seed, seed % (2**31 - 1), structural=False)


def seed_controls() -> tuple[int, int]:
    """Seed (the pipeline's own), sample count and a Resample button; returns (seed, n)."""
    st.session_state["pipeline:seed"] = get_pipeline().seed
    seed_col, n_col, button_col = st.columns([1, 1, 1], vertical_alignment="bottom")
    seed_col.number_input("Seed", 0, 2**31 - 1, key="pipeline:seed", help="Same seed, same samples; it is saved with the pipeline.",
                          on_change=lambda: _set_seed(int(st.session_state["pipeline:seed"])))
    n = n_col.slider("Samples", 1, 24, 8, key="pipeline:n", help="How many random augmented versions to draw.")
    button_col.button("Resample", icon=":material/casino:", on_click=lambda: _set_seed(get_pipeline().seed + 1),
                      help="Draw new random samples (moves the seed on by one).")
    return get_pipeline().seed, int(n)


def _tiles(cells: list[tuple[object, str]]) -> None:
    # One row of columns per four tiles, so rows line up however many lines each caption takes.
    for start in range(0, len(cells), 4):
        for column, (picture, caption) in zip(st.columns(4), cells[start:start + 4]):
            column.image(picture, caption=caption, width="stretch")


_EMPTY = "The pipeline has no step switched on, so every sample would be the original: add a step or load a preset."


def preview_panel(images: list, seed: int, n: int) -> None:
    """The whole pipeline on the chosen images: a seeded grid with what each sample drew."""
    pipeline = get_pipeline()
    if pipeline.is_empty:  # not "not applied (probability)" eight times
        _tiles([(images[0].array, f"original · {images[0].name}")])
        st.info(_EMPTY, icon=":material/playlist_add:")
        return
    try:
        result = render_grid_bounded(to_compose(pipeline), [img.array for img in images], n=n, seed=seed)
    except AugLabError as exc:
        show_error(exc)
        return
    _tiles([(images[0].array, f"original · {images[0].name}")] + [(t.encoded, t.caption) for t in result.tiles])
    st.caption(f"{n} samples in {result.total_ms:.0f} ms (albumentations {result.transform_ms:.0f} ms).")


def _uploaded_annotations() -> tuple[object, Annotations] | None:
    image_col, labels_col, mask_col = st.columns(3)
    upload = image_col.file_uploader("Image", type=UPLOAD_TYPES, key="pipeline:ann:image", help="The picture the boxes or mask belong to.")
    labels = labels_col.file_uploader("Boxes: YOLO .txt or COCO .json", type=["txt", "json"], key="pipeline:ann:labels",
                                      help="Bounding boxes for this image, in YOLO or COCO format.")
    mask = mask_col.file_uploader("Mask image (optional)", type=["png", "bmp", "tif", "tiff"], key="pipeline:ann:mask",
                                  help="One grey level or colour per class, same size as the image; black is background.")
    names = st.text_input("YOLO class names (comma-separated, optional)", key="pipeline:ann:names", placeholder="cat, dog",
                          help="Names for YOLO class numbers 0, 1, 2…, so boxes are labelled with words.")
    if upload is None:
        st.info("Upload an image with a box file and/or a mask, or use the built-in sample.", icon=":material/upload_file:")
        return None
    loaded = load_image(upload.getvalue(), upload.name, max_side=get_int("AUGLAB_PREVIEW_SIZE"))
    size = loaded.original_size
    annotations = Annotations()
    if labels is not None:
        data = labels.getvalue()
        if labels.name.lower().endswith(".json"):
            annotations = parse_coco(data, size, upload.name)
        else:
            annotations = parse_yolo(data, size, [s.strip() for s in names.split(",") if s.strip()] or None)
    if mask is not None:
        annotations = replace(annotations, mask=load_mask(mask.getvalue(), size))
    if labels is None and mask is None:
        st.info("Add a YOLO or COCO box file, or a mask, to see annotations move.", icon=":material/upload_file:")
    return loaded.array, scale_annotations(annotations, size, loaded.size)


def annotations_panel(seed: int, n: int) -> None:
    """The pipeline on an image with boxes, a mask and keypoints, drawn after each transform."""
    pipeline = get_pipeline()
    report = geometry_report(pipeline)
    if report:
        st.markdown("  \n".join(f"{i + 1}. **{name}**: " + (":blue[moves geometry: boxes, mask and keypoints follow]" if moves else ":gray[changes pixels only: annotations stay put]")
                                for i, (name, moves) in enumerate(report)))
    source = st.segmented_control("Annotated image", ["Built-in sample", "Upload"], default="Built-in sample", key="pipeline:ann:source",
                                  help="Use a built-in image with boxes, mask and keypoints, or upload your own.")
    try:
        if source == "Upload":
            loaded = _uploaded_annotations()
            if loaded is None:
                return
            image, annotations = loaded
        else:
            sample = load_annotated_sample(st.selectbox("Sample", list_annotated_samples(), key="pipeline:ann:sample",
                                                            help="A built-in image with its boxes, mask and keypoints."))
            image, annotations = sample.image, sample.annotations
            st.caption(sample.description)
        if pipeline.is_empty:
            _tiles([(draw_annotations(image, annotations), "original")])
            st.info(_EMPTY, icon=":material/playlist_add:")
            return
        result = bounded_call(render_annotated, pipeline, image, annotations, n=n, seed=seed)  # time-limited worker
    except AugLabError as exc:
        show_error(exc)
        return
    _tiles([(draw_annotations(image, annotations), "original")] + [(t.encoded, t.caption) for t in result.tiles])
    st.caption(f"{n} samples in {result.total_ms:.0f} ms.")


def mixing_panel(seed: int) -> None:
    """MixUp, CutMix or Mosaic on two or more images, with the soft label of each result."""
    chosen = st.multiselect("Images to mix (each is its own class)", list_samples(), default=["Cat", "Coffee", "Astronaut"], key="pipeline:mix:images",
                            help="The images to blend; each counts as its own class in the mixed label.")
    method_col, alpha_col = st.columns([1, 1], vertical_alignment="bottom")
    method = method_col.segmented_control("Method", list(METHODS), default="MixUp", key="pipeline:mix:method",
                                           help="MixUp blends whole images, CutMix pastes a patch, Mosaic tiles four images.") or "MixUp"
    alpha = alpha_col.slider("α (Beta distribution of λ)", 0.1, 2.0, 0.4, 0.1, key="pipeline:mix:alpha", disabled=method == "Mosaic",
                             help="Small α: most mixes are mostly one image; α = 1: λ is uniform.")
    st.caption(METHODS[method] + " Mixing acts on a batch, so it runs in the training loop rather than in the pipeline above.")
    try:
        max_side = get_int("AUGLAB_PREVIEW_SIZE")
        draw = seed
        if method != "Mosaic" and st.toggle("Start from a draw that is a real mix", value=True, key="pipeline:mix:real",
                                            help="At small α most draws are almost all one image (λ near 0 or 1); "
                                                 "this skips ahead to the first draw from this seed whose λ is between 0.2 and 0.8."):
            draw = real_mix_seed(method, alpha=alpha, seed=seed, count=len(chosen))
            if draw != seed:
                st.caption(f"Showing draw {draw}: draws {seed}–{draw - 1} were almost all one image, as most are at α = {alpha:g}.")
        tiles = mix_preview([sample_preview(name, max_side) for name in chosen], [name.lower() for name in chosen], method, alpha=alpha, seed=draw)
    except AugLabError as exc:
        show_error(exc)
        return
    _tiles([(t.encoded, t.caption) for t in tiles])


def _import(data_format: str | None) -> None:
    upload = st.session_state.get("pipeline:import:file")
    text = upload.getvalue() if upload is not None else st.session_state.get("pipeline:import:text", "")
    if upload is not None:
        data_format = "json" if upload.name.lower().endswith(".json") else "yaml"
    try:
        set_pipeline(import_text(text, data_format))  # the current pipeline changes only on success
    except AugLabError as exc:
        st.session_state[_IMPORT_RESULT] = exc
        return
    st.session_state[_IMPORT_RESULT] = f"Imported {len(get_pipeline().items)} steps (seed {get_pipeline().seed})."


def export_panel() -> None:
    """Downloads (JSON, YAML, Python), import from a file or pasted text, and the share link."""
    pipeline = get_pipeline()
    st.markdown("**Export**: albumentations reads the files back with `A.load(path, data_format=\"json\")` (or `\"yaml\"`); "
                "the seed is stored beside the pipeline, because `Compose.to_dict` drops it.")
    try:
        json_text, yaml_text, code = export_text(pipeline, "json"), export_text(pipeline, "yaml"), python_code(pipeline)
    except AugLabError as exc:
        show_error(exc)
        return
    cols = st.columns(3)
    cols[0].download_button("JSON", json_text, "pipeline.json", "application/json", icon=":material/download:", on_click="ignore", width="stretch",
                            help="albumentations' own JSON: A.from_dict reads it back.")
    cols[1].download_button("YAML", yaml_text, "pipeline.yaml", "application/yaml", icon=":material/download:", on_click="ignore", width="stretch",
                            help="The same pipeline as YAML, easy to read and diff.")
    cols[2].download_button("Python", code, "pipeline.py", "text/x-python", icon=":material/download:", on_click="ignore", width="stretch",
                            help="A Python file that builds this pipeline with albumentations.")
    with st.expander("Python code", icon=":material/code:"):
        st.code(code, language="python")
    st.markdown("**Import** a JSON or YAML pipeline to keep editing it. Only catalog transforms are built; on any problem the current pipeline stays as it is.")
    st.file_uploader("Pipeline file", type=["json", "yaml", "yml"], key="pipeline:import:file",
                     help="A JSON or YAML file exported from here or from albumentations.")
    st.text_area("…or paste it here", key="pipeline:import:text", height=120, help="Paste JSON or YAML text instead of uploading a file.")
    st.button("Import", icon=":material/upload:", on_click=_import, args=(None,), key="pipeline:import:button",
              help="Replace the current pipeline with the imported one (kept unchanged on any problem).")
    result = st.session_state.pop(_IMPORT_RESULT, None)
    if isinstance(result, AugLabError):
        show_error(result)
    elif result:
        st.success(result, icon=":material/check:")
    st.markdown("**Share**: this link reopens the page with this exact pipeline and seed.")
    base = (st.context.url or "").split("?", 1)[0]
    st.code(f"{base}?pipeline={encode_link(pipeline)}", language=None, wrap_lines=True)


def apply_link() -> None:
    """Load the pipeline of a ``?pipeline=`` link once; a damaged link leaves the pipeline alone."""
    link = st.query_params.get("pipeline")
    if not link or link == st.session_state.get(_LINK_APPLIED):
        return
    st.session_state[_LINK_APPLIED] = link
    try:
        set_pipeline(decode_link(link))
    except AugLabError as exc:
        show_error(exc)


def sync_link() -> None:
    """Keep the address bar's ``?pipeline=`` in step with the pipeline, so a reload keeps it."""
    pipeline = get_pipeline()
    if not pipeline.items:
        st.query_params.pop("pipeline", None)
        st.session_state[_LINK_APPLIED] = None
        return
    try:
        link = encode_link(pipeline)
    except AugLabError:
        return
    st.query_params["pipeline"] = link
    st.session_state[_LINK_APPLIED] = link
