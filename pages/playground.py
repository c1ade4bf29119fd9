"""Playground: pick images and one transform, move its sliders, see many samples live."""

from __future__ import annotations

import streamlit as st

from augment_core import AugLabError

from augment_core.transforms import catalog
from augment_core.transforms import transform_code
from augment_core.transforms import to_kwargs
from augment_core.transforms import parse_sample_link
from ui.common import page_header, show_error
from ui.images import image_picker
from ui.preview_grid import GRID_KEY, PreviewTrace, narrow_screen_layout, show_preview
from ui.widgets import apply_link_values, param_widgets, transform_filter

page_header("Playground", "Pick images and a transform, move its sliders, and see many random samples at once, with the parameters each one drew.")

linked_samples, sample_notes = parse_sample_link(st.query_params.get("samples", ""))  # deduplicated, bounded
for note in sample_notes:
    st.caption(note)
images = image_picker("playground", default=linked_samples or ("Labelled grid",))
if not images:
    st.info("Upload an image or pick a sample to start.", icon=":material/image:")
    st.stop()
for image in images:
    if image.notes:
        st.caption(f"{image.name}: {'; '.join(image.notes)}.")

family_col, search_col, name_col = st.columns([1, 1, 1.4])
family, query, names = transform_filter(family_col, search_col, "playground")
if not names:
    st.info("No transform matches that search.", icon=":material/search_off:")
    st.stop()
linked = st.query_params.get("transform")  # links from lessons: ?transform=Rotate&limit=-17,17
default_index = names.index(linked) if linked in names else names.index("Rotate") if "Rotate" in names else 0
name = name_col.selectbox("Transform", names, index=default_index, key=f"playground:transform:{family}:{query}",
                          help="The transform to try; its parameters appear on the left below.")
spec = catalog.get_transform(name)
st.markdown(f"**{name}** · {spec.family} · {'moves geometry' if spec.moves_geometry else 'changes pixels only'}  \n{spec.summary}")

image_size = images[0].array.shape[:2]


@st.fragment
def preview_panel() -> None:
    """Parameters and the grid: moving a slider reruns only this fragment."""
    trace = PreviewTrace()
    controls, grid_column = st.columns([1, 2.2], gap="large")
    grid = grid_column.container(key=GRID_KEY)  # the key lets narrow screens pin the grid below the controls
    with grid:  # drawn first so the seed widget exists on every run, even when settings are refused
        seed_col, n_col, button_col = st.columns([1, 1, 1], vertical_alignment="bottom")
        seed = seed_col.number_input("Seed", 0, 2**31 - 1, key="playground:seed", help="Same seed, same samples.")
        n = n_col.slider("Samples", 1, 24, 8, key="playground:n", help="How many random augmented versions to draw.")
        button_col.button("Resample", on_click=_resample, icon=":material/casino:", help="Draw new random samples (moves the seed on by one).")
    with controls:
        key = f"playground:{name}:{image_size if spec.size_dependent else ''}"
        if linked == name and not st.session_state.get("playground:link_applied"):
            refused = apply_link_values(spec.params(image_size), key, st.query_params)
            if refused:
                st.caption(f"The link's {', '.join(refused)} did not fit the sliders' bounds and {'was' if len(refused) == 1 else 'were'} left at the default.")
            st.session_state["playground:link_applied"] = True
        values = param_widgets(spec.params(image_size), key)
        probability = st.slider("Probability (p)", 0.0, 1.0, 1.0, 0.05, key=f"{key}:p", help="Chance that each sample is transformed.")
        try:
            transform = catalog.create_transform(name, values, p=probability, image_size=image_size)
        except AugLabError as exc:
            show_error(exc)
            return
    with grid:
        grid_key = f"{key}:{sorted(values.items())}:{probability}:{n}:{int(seed)}"  # the full grid was asked for these settings
        if show_preview(transform, images, n, int(seed), grid_key, trace) is None:
            return
    with st.expander("Python code", icon=":material/code:"):
        st.code(transform_code(name, to_kwargs(spec.params(image_size), values), probability, int(seed)), language="python")
    trace.write()


def _resample() -> None:
    st.session_state["playground:seed"] = (st.session_state.get("playground:seed", 0) + 1) % (2**31 - 1)


st.session_state.setdefault("playground:seed", 42)
narrow_screen_layout()
preview_panel()
