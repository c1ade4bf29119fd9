"""The pipeline editor's widgets: add steps, list them with their controls, group, load presets.

Every structural change goes through :func:`ui.pipeline_state.edit_pipeline` in a widget
callback, so it is applied before the page draws anything. Parameter widgets are seeded from
each step's arguments; only the arguments whose widget the user moved are written back, so
values imported from a file that no slider can show are kept as they are.
"""

from __future__ import annotations

import streamlit as st

from augment_core import AugLabError

from augment_core.transforms import catalog

from augment_core.pipelines import model as pl
from augment_core.pipelines import widget_values
from augment_core.transforms import to_kwargs
from augment_core.pipelines import (DATA_KINDS, LabelWarning, create_pipeline_preset, get_pipeline_preset, list_data_kinds, list_pipeline_presets)
from ui.common import show_error
from ui.pipeline_state import edit_pipeline, get_data_kind, get_pipeline, set_data_kind, set_pipeline, widget_generation
from ui.widgets import param_widgets, set_widget_values, transform_filter

_GEOMETRY = ":material/open_with: moves geometry"
_PIXELS = ":material/palette: pixels only"


def _key(item_key: int, what: str) -> str:
    return f"pipeline:g{widget_generation()}:{item_key}:{what}"


def preset_loader() -> None:
    """Preset picker with its rationale, options (RandAugment's N and M) and a load button."""
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    name = left.selectbox("Preset", list_pipeline_presets(), key="pipeline:preset", help="A starting point; every step can be changed after loading.")
    preset = get_pipeline_preset(name)
    options = {}
    if preset.options:
        for column, (option, (low, high, default)) in zip(st.columns(len(preset.options)), preset.options.items()):
            label = {"n": "N: operations per image", "m": "M: magnitude (0–30)"}.get(option, option)
            options[option] = int(column.number_input(label, low, high, default, key=f"pipeline:preset:{name}:{option}",
                                                     help="How strong or how many: this preset's own setting, applied when you load it."))
    right.button("Load preset", icon=":material/playlist_add:", on_click=_load_preset, width="stretch",
                 help="Replace the current steps with this preset's steps (the seed is kept).")
    st.caption(preset.rationale)
    undo = st.session_state.get(_UNDO)
    if undo is not None:
        text, button = st.columns([3, 1], vertical_alignment="center")
        text.info(f"Loaded “{undo[0]}” in place of your {len(undo[1].items)} step(s).", icon=":material/info:")
        button.button("Undo", icon=":material/undo:", key="pipeline:undo_preset", on_click=_undo_preset, width="stretch",
                      help="Put back the steps you had before loading the preset.")


_UNDO = "pipeline:undo"  # (preset name, the pipeline it replaced) until the next edit or Undo


def _undo_preset() -> None:
    name_and_before = st.session_state.pop(_UNDO, None)
    if name_and_before is not None:
        set_pipeline(name_and_before[1])


def _load_preset() -> None:
    name = st.session_state["pipeline:preset"]
    options = {option: int(st.session_state.get(f"pipeline:preset:{name}:{option}", default))
               for option, (_, _, default) in get_pipeline_preset(name).options.items()}
    before = get_pipeline()
    error = edit_pipeline(lambda current: create_pipeline_preset(name, seed=current.seed, **options))
    if error is None and before.items:
        st.session_state[_UNDO] = (name, before)  # the replaced steps, for the Undo button
    if error is None:
        set_data_kind(get_pipeline_preset(name).data_kind)
        st.session_state["pipeline:data_kind"] = get_data_kind()


def data_kind_picker() -> None:
    """The kind of data the label-safety warnings assume."""
    st.session_state.setdefault("pipeline:data_kind", get_data_kind())
    st.selectbox("Kind of data", list_data_kinds(), key="pipeline:data_kind", help="Warnings say which steps may change the label of this kind of data.",
                 on_change=lambda: set_data_kind(st.session_state["pipeline:data_kind"]))
    st.caption(DATA_KINDS[get_data_kind()])


_PICK = "pipeline:add:name"
_PICKED_FOR = "pipeline:add:picked_for"  # (family, query) under which the user last chose from the list


def shown_pick(names: list[str], current: str | None, picked_for: tuple[str, str] | None, search: tuple[str, str]) -> str:
    """The transform the picker shows, and so the one *Add step* adds.

    The user's own pick stands while the family and search it was made under are unchanged and it
    is still listed; a new search or family selects the best match (the first in the ranked list).
    The page and the Add callback both call this, so the list cannot show one transform while Add
    appends another, however fast the user types and clicks.
    """
    if current in names and picked_for == search:
        return current  # type: ignore[return-value]
    return names[0]


def _search_now() -> tuple[str, str]:
    return (str(st.session_state.get("pipeline:add:family", "All families")), str(st.session_state.get("pipeline:add:query", "")))


def _add_shown(image_size: tuple[int, int]) -> None:
    """Add-step callback: runs before the page draws, with the search box's newest text already in session state."""
    family, query = _search_now()
    names = catalog.list_transforms(None if family == "All families" else family, query)
    if not names:
        return
    name = shown_pick(names, st.session_state.get(_PICK), st.session_state.get(_PICKED_FOR), (family, query))
    st.session_state.pop(_UNDO, None)  # the offer is about the preset just loaded, not older states
    edit_pipeline(pl.add_step, name, image_size=image_size)


def step_adder(image_size: tuple[int, int]) -> None:
    """Family filter, search and transform picker, with an Add button."""
    family_col, search_col, name_col, button_col = st.columns([1, 1, 1.4, 0.8], vertical_alignment="bottom")
    _, _, names = transform_filter(family_col, search_col, "pipeline:add")
    if not names:
        name_col.info("No transform matches.", icon=":material/search_off:")
        return
    search = _search_now()
    st.session_state[_PICK] = shown_pick(names, st.session_state.get(_PICK), st.session_state.get(_PICKED_FOR), search)
    name = name_col.selectbox("Transform", names, key=_PICK, format_func=lambda n: f"{n} · {'↔' if catalog.get_transform(n).moves_geometry else '◐'}",
                              help="The transform to add. ↔ moves geometry (boxes and masks follow); ◐ changes pixels only.",
                              on_change=lambda: st.session_state.__setitem__(_PICKED_FOR, _search_now()))
    button_col.button("Add step", icon=":material/add:", type="primary", width="stretch",
                      help="Append the transform shown to the end of the pipeline with its default settings.",
                      on_click=_add_shown, args=(image_size,))
    st.caption(catalog.get_transform(name).summary)


def _step_params(step: pl.Step, image_size: tuple[int, int]) -> None:
    """Parameter widgets of one step; moved widgets write their value back into the step."""
    spec = catalog.get_transform(step.name)
    specs = spec.visible_params(image_size)
    prefix = _key(step.key, f"args:{image_size if spec.size_dependent else ''}")
    if f"{prefix}:seeded" not in st.session_state:
        values, inexact = widget_values(step, image_size)
        set_widget_values(specs, prefix, values)
        st.session_state[f"{prefix}:seeded"] = (values, inexact)
    seeded, inexact = st.session_state[f"{prefix}:seeded"]
    values = param_widgets(specs, prefix)
    # Compare as constructor arguments: a colour widget returns "#rrggbb" for a seeded (r, g, b).
    kwargs, before = to_kwargs(specs, values), to_kwargs(specs, {**values, **seeded})
    changed = [name for name in values if name not in seeded or kwargs.get(name) != before.get(name)]
    if inexact and any(name not in changed for name in inexact):
        st.caption(f"Kept as loaded: {', '.join(n for n in inexact if n not in changed)} (no slider shows it exactly; moving one replaces it).")
    if not changed:
        return
    args = {**step.args, **{name: kwargs[name] for name in changed if name in kwargs}}
    if args == step.args:
        return
    try:
        edited = pl.update(get_pipeline(), step.key, args=pl.normalise(pl.Step(step.name, args, step.p)).args)
    except AugLabError as exc:
        show_error(exc)
        return
    set_pipeline(edited, structural=False)


def _controls(item: pl.Item, *, index: int, count: int, selectable: bool, warnings: list[LabelWarning]) -> None:
    """Header row of a step or group: select, name, on/off, probability, move and remove."""
    cols = st.columns([0.35, 2.6, 0.9, 2.2, 0.45, 0.45, 0.45], vertical_alignment="center")
    if selectable:
        cols[0].checkbox("Select", key=_key(item.key, "select"), label_visibility="collapsed", help="Tick steps, then group them below.")
    if isinstance(item, pl.Group):
        cols[1].markdown(f"**{item.name}** · {len(item.steps)} steps" + (" · may repeat" if item.replace else ""))
    else:
        flag = " :orange[:material/warning:]" if any(w.key == item.key for w in warnings) else ""
        cols[1].markdown(f"**{pl.step_title(item.name, item.args)}**{flag}  \n:gray[{_GEOMETRY if item.moves_geometry else _PIXELS}]")
    st.session_state.setdefault(_key(item.key, "on"), item.enabled)
    cols[2].toggle("On", key=_key(item.key, "on"), on_change=lambda: edit_pipeline(pl.update, item.key, enabled=st.session_state[_key(item.key, "on")], structural=False),
                   help="A step that is off stays in the list but is not applied or exported to albumentations.")
    st.session_state.setdefault(_key(item.key, "p"), float(item.p))
    cols[3].slider("Probability", 0.0, 1.0, step=0.05, format="p = %.2f", key=_key(item.key, "p"), label_visibility="collapsed",
                   help="Probability that this step runs on a sample (p).",
                   on_change=lambda: edit_pipeline(pl.update, item.key, p=st.session_state[_key(item.key, "p")], structural=False))
    cols[4].button("", icon=":material/arrow_upward:", key=_key(item.key, "up"), disabled=index == 0, on_click=edit_pipeline, args=(pl.move, item.key, -1), help="Move up")
    cols[5].button("", icon=":material/arrow_downward:", key=_key(item.key, "down"), disabled=index == count - 1, on_click=edit_pipeline, args=(pl.move, item.key, 1), help="Move down")
    cols[6].button("", icon=":material/delete:", key=_key(item.key, "remove"), on_click=edit_pipeline, args=(pl.remove, item.key), help="Remove")


def _step(step: pl.Step, image_size: tuple[int, int], *, index: int, count: int, selectable: bool, warnings: list[LabelWarning]) -> None:
    _controls(step, index=index, count=count, selectable=selectable, warnings=warnings)
    with st.expander("Parameters", icon=":material/tune:"):
        _step_params(step, image_size)


def step_list(image_size: tuple[int, int], warnings: list[LabelWarning]) -> None:
    """Every step and group, in order, each with its controls and parameters."""
    pipeline = get_pipeline()
    if not pipeline.items:
        st.info("The pipeline is empty: add a step or load a preset.", icon=":material/playlist_add:")
        return
    for index, item in enumerate(pipeline.items):
        with st.container(border=True):
            if isinstance(item, pl.Step):
                _step(item, image_size, index=index, count=len(pipeline.items), selectable=True, warnings=warnings)
                continue
            _controls(item, index=index, count=len(pipeline.items), selectable=False, warnings=warnings)
            left, right = st.columns([1, 1], vertical_alignment="bottom")
            if item.kind == "SomeOf":
                st.session_state.setdefault(_key(item.key, "n"), item.n)
                left.number_input("Steps drawn (n)", 1, max(1, len(item.steps)), key=_key(item.key, "n"),
                                  help="How many of the grouped steps run on each sample (picked at random).",
                                  on_change=lambda item=item: edit_pipeline(pl.update, item.key, n=int(st.session_state[_key(item.key, "n")]), structural=False))
            else:
                left.caption("One of these steps runs on each sample (chosen at random).")
            right.button("Ungroup", icon=":material/call_split:", key=_key(item.key, "ungroup"), on_click=edit_pipeline, args=(pl.ungroup, item.key),
                         help="Put the grouped steps back into the main list, in order.")
            for j, step in enumerate(item.steps):
                with st.container(border=True):
                    _step(step, image_size, index=j, count=len(item.steps), selectable=False, warnings=warnings)


def _ticked() -> list[int]:
    return [item.key for item in get_pipeline().items if isinstance(item, pl.Step) and st.session_state.get(_key(item.key, "select"))]


def _group(kind: str) -> None:
    ticked = _ticked()
    edit_pipeline(pl.group, ticked, kind, n=min(int(st.session_state.get("pipeline:group:n", 1)), max(1, len(ticked))))


def group_bar() -> None:
    """Buttons that put the ticked steps into a OneOf or SomeOf block."""
    ticked = _ticked()
    left, middle, right = st.columns([1.2, 1, 1], vertical_alignment="bottom")
    n = left.number_input("SomeOf: steps drawn (n)", 1, max(1, len(ticked)), key="pipeline:group:n", help="How many of the grouped steps SomeOf applies.")
    middle.button("Group as OneOf", icon=":material/shuffle:", disabled=len(ticked) < 2, on_click=_group, args=("OneOf",), width="stretch",
                  help="Tick two or more steps above first.")
    right.button("Group as SomeOf", icon=":material/library_add:", disabled=len(ticked) < 2, on_click=_group, args=("SomeOf",), width="stretch",
                 help=f"Draws {int(n)} of the ticked steps for each sample.")


def label_warning_box(warnings: list[LabelWarning]) -> None:
    """The label-safety warnings for the chosen kind of data."""
    for warning in warnings:
        st.warning(warning.message, icon=":material/warning:")

