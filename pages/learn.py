"""Learn: seven interactive lessons on augmentation and fine-tuning, with the user's own images."""

from __future__ import annotations

import streamlit as st

from augment_core import AugLabError, lessons
from augment_core.transforms import SAMPLES
from ui.common import page_header, show_error
from ui.images import image_picker
from ui.learn_blocks import control_widgets, draw_links, draw_view

page_header("Learn", "Short interactive lessons: move a slider, watch the figure, then open the page that lets you try it.")

keys = lessons.list_lessons()
linked = st.query_params.get("lesson")  # deep links: ?lesson=geometry
st.session_state.setdefault("learn:lesson", linked if linked in keys else keys[0])
choice = st.segmented_control(
    "Lesson", keys, key="learn:lesson", format_func=lambda k: f"{lessons.get_lesson(k).number}. {lessons.get_lesson(k).title}",
    help="Pick a lesson; each one has a live figure and a link to try it.",
) or keys[0]
lesson = lessons.get_lesson(choice)

st.subheader(f"{lesson.number}. {lesson.title}")
st.markdown(lesson.text)

images, samples = [], ()
if lesson.images:
    picked = image_picker(f"learn:{lesson.key}", default=lesson.default_samples)
    if len(picked) < lesson.images:
        need = "two images (samples or your own)" if lesson.images == 2 else "an image"
        st.info(f"Upload {need} or pick a sample to start.", icon=":material/image:")
        st.stop()
    images = [img.array for img in picked]
    samples = tuple(img.name for img in picked if img.name in SAMPLES)  # built-ins travel in links; uploads cannot

values = control_widgets(lesson.controls, f"learn:{lesson.key}")
try:
    view = lessons.build_lesson(lesson.key, images, values, samples=samples)
except AugLabError as exc:
    show_error(exc)
    st.stop()
draw_view(view, f"learn:{lesson.key}")
st.divider()
draw_links(view.links)
