"""Pipeline editor: compose the augmentation you will train with, see it act, take it away."""

from __future__ import annotations

import streamlit as st

from ui.common import page_header, show_error
from ui.images import image_picker
from ui.pipeline_editor import data_kind_picker, group_bar, label_warning_box, preset_loader, step_adder, step_list
from ui.pipeline_panels import annotations_panel, apply_link, export_panel, mixing_panel, preview_panel, seed_controls, sync_link
from ui.pipeline_state import get_data_kind, get_pipeline, pop_error
from augment_core.pipelines import label_warnings
from augment_core.prove import default_tasks
from ui.search_panels import ablation_panel

page_header("Pipeline", "Chain transforms into the pipeline you will train with: reorder, switch steps off, group them into OneOf/SomeOf, "
            "watch boxes and masks follow, then export it as albumentations JSON, YAML or Python.")
apply_link()

images = image_picker("pipeline", default=("Labelled grid",))
image_size = images[0].array.shape[:2] if images else (512, 512)

preset_col, kind_col = st.columns([2, 1])
with preset_col:
    preset_loader()
with kind_col:
    data_kind_picker()

# Side by side on wide screens: the preview stays in view while the steps are edited (it sat
# 2,000-3,000 px below the controls). Streamlit stacks the columns on narrow screens.
steps_col, view_col = st.columns([1, 1], gap="medium")
with steps_col:
    st.subheader("Steps")
    step_adder(image_size)
    if (error := pop_error()) is not None:
        show_error(error)
    warnings = label_warnings(get_pipeline(), get_data_kind())
    label_warning_box(warnings)
    step_list(image_size, warnings)
    group_bar()

with view_col:
    view = st.segmented_control("View", ["Preview", "Boxes, masks and keypoints", "Mixing", "Export, import and share"],
                                default="Preview", key="pipeline:view", required=True,
                                help="What to show here: samples, annotations that follow the geometry, mixing, or export and sharing.")
    seed, n = seed_controls()
    if view == "Preview":
        if images:
            preview_panel(images, seed, n)
        else:
            st.info("Upload an image or pick a sample to see the pipeline act on it.", icon=":material/image:")
    elif view == "Boxes, masks and keypoints":
        annotations_panel(seed, n)
    elif view == "Mixing":
        mixing_panel(seed)
    else:
        export_panel()
ablation_panel(default_tasks())  # full width, below both columns
sync_link()
