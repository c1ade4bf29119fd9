"""Page furniture: headers, the one error helper, the shared sidebar."""

from __future__ import annotations

import numpy as np
from PIL import Image
import streamlit as st

from augment_core import AugLabError, markdown_text
from augment_core.pipelines import step_names as pipeline_steps  # not the prove face: that loads the training engine
from ui.pipeline_state import get_pipeline, pipeline_dict


def app_icon() -> Image.Image:
    """The browser-tab icon: an orange disc with a white plus, drawn here.

    A ``:material/…:`` page icon makes the browser fetch an SVG from fonts.gstatic.com, a request
    an offline user sees fail; an image is served by the app itself.
    """
    yy, xx = np.mgrid[:64, :64]
    icon = np.zeros((64, 64, 4), np.uint8)
    disc = (yy - 31.5) ** 2 + (xx - 31.5) ** 2 <= 31**2
    icon[disc] = (217, 72, 15, 255)  # the theme's accent colour
    icon[disc & (((abs(yy - 31.5) < 5) & (abs(xx - 31.5) < 20)) | ((abs(xx - 31.5) < 5) & (abs(yy - 31.5) < 20)))] = (255, 255, 255, 255)
    return Image.fromarray(icon, "RGBA")


def page_header(title: str, description: str) -> None:
    """Title and a one-line description at the top of every page."""
    st.title(title)
    st.caption(description)


def show_error(exc: AugLabError, where: st.delta_generator.DeltaGenerator | None = None) -> None:
    """Show a user-facing error: what was wrong and what to do. The page keeps working."""
    target = where or st
    # Messages quote file, folder and class names the user chose: escaped, never read as Markdown.
    target.error(f"**{markdown_text(exc.message)}**" + (f"\n\n{markdown_text(exc.hint)}" if exc.hint else ""), icon=":material/error:")


def pipeline_sidebar(slot: st.delta_generator.DeltaGenerator | None = None) -> None:
    """The session's current pipeline in the sidebar, on every page, with a link to the editor.

    ``slot`` (an ``st.sidebar.empty()``) is redrawn in place: ``app.py`` draws it before the page,
    so pages that stop early still have it, and again after the page, so it shows what the page
    changed (a share link loaded, a step added) rather than the state before.
    """
    with slot.container() if slot is not None else st.sidebar:
        st.markdown("**Current pipeline**")
        steps = pipeline_steps(pipeline_dict())
        if steps:
            st.markdown("\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1)))
            st.caption(f"Seed {get_pipeline().seed} · the Experiment page can train with it.")
        else:
            st.caption("No steps yet. Add transforms in the pipeline editor (or load a preset there).")
        st.page_link("pages/pipeline.py", label="Edit the pipeline", icon=":material/account_tree:",
                     help="Open the pipeline editor to add, reorder or switch off steps.")
