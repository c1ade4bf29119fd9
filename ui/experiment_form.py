"""The experiment page's setup form: widgets in, an :class:`ExperimentSpec` and its data out.

Three parts, each a function: :func:`data_section` (built-in, zip or per-class uploads, with
the engine's validation report and sample images), :func:`augmentation_section` (the editor's
pipeline or a preset, thumbnails, MixUp/CutMix) and :func:`training_section` (backbone,
strategy and numbers, defaulting per data set). Widget keys include the data source, so
choosing another data set brings that data set's defaults.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from augment_core import AugLabError, markdown_text
from augment_core.experiment import (SQUARE_MODES, STRATEGIES, ExperimentSpec, fetch_weights, weights_cached, weights_url, get_backbone_info, get_dataset_info, list_backbones,
                                     list_datasets)
from augment_core.prove import Proposal, propose_settings, run_name
from augment_core.prove import (ENGINE_PIPELINES, PreparedData, class_samples, default_spec, enlarge, pipeline_steps, prepare_builtin, prepare_classes, prepare_zip)
from augment_core.experiment import build_compose, spec_limit
from augment_core.prove import ALPHA_RANGE, IMAGE_SIZE_RANGE, SEEDS_RANGE
from augment_core.pipelines import training_dict
from augment_core.pipelines import create_pipeline_preset, get_pipeline_preset, list_pipeline_presets
from augment_core.transforms import IMAGE_TYPES, render_grid_bounded
from ui.common import show_error
from ui.form_memory import KEPT_CLASSES, KEPT_ZIP, K, derived_default, take_link
from ui.kept_data import kept_data
from ui.pipeline_state import get_pipeline, pipeline_dict

SOURCES = ("Built-in", "Zip of class folders", "My classes")


@dataclass(frozen=True)
class DataChoice:
    """What the data section produced."""

    source: str  # registry name, "zip" or "classes": selects the defaults
    prepared: PreparedData | None  # None when nothing usable is loaded yet
    square: str = "pad"  # uploads: how images were made square (ExperimentSpec.square)


def _builtin(name: str, image_size: int, options_json: str) -> PreparedData:
    return kept_data(("builtin", name, image_size, options_json), "Building the data set…",
                     lambda: prepare_builtin(name, image_size=image_size, options=json.loads(options_json)))


def _zip(digest: str, data: bytes, image_size: int, name: str, square: str = "pad") -> PreparedData:
    return kept_data(("zip", digest, image_size, name, square), "Checking the zip…",
                     lambda: prepare_zip(data, image_size=image_size, name=name, square=square))


def _classes(digest: str, classes: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...], image_size: int,
             square: str = "pad") -> PreparedData:
    return kept_data(("classes", digest, image_size, square), "Checking your images…",
                     lambda: prepare_classes({name: list(files) for name, files in classes}, image_size=image_size, square=square))


def _square_choice() -> str:
    """How uploads are made square; the sample images below show the result."""
    return str(st.radio("Make images square by", list(SQUARE_MODES), format_func=lambda m: SQUARE_MODES[m].split(":")[0],
                        key=f"{K}:square", horizontal=True,
                        help=" ".join(SQUARE_MODES.values()) + " Padding is the default because cropping wide photos cuts off their ends."))


def _class_uploads() -> dict[str, list[tuple[str, bytes]]]:
    """Teachable-Machine-style: a name and a drop zone per class; add and remove classes."""
    ids: list[int] = st.session_state.setdefault(f"{K}:class_ids", [0, 1])
    out: dict[str, list[tuple[str, bytes]]] = {}
    columns = st.columns(min(3, max(1, len(ids))))
    for i, class_id in enumerate(list(ids)):
        with columns[i % len(columns)].container(border=True):
            name = st.text_input("Class name", value=f"class {i + 1}", key=f"{K}:class:{class_id}:name",
                                 help="What the images in this box show; the model learns to tell the classes apart.")
            files = st.file_uploader(f"Images of “{name}”", accept_multiple_files=True, key=f"{K}:class:{class_id}:files",
                                     help="Drop a few images of this class (JPEG, PNG, WebP…); more images give a narrower interval.",
                                     type=list(IMAGE_TYPES))
            if len(ids) > 2 and st.button("Remove this class", key=f"{K}:class:{class_id}:remove", icon=":material/delete:",
                                                  help="Drop this class and its images from the data set."):
                ids.remove(class_id)
                st.session_state.get(KEPT_CLASSES, {}).pop(class_id, None)
                st.rerun()
            kept: dict[int, list[tuple[str, bytes]]] = st.session_state.setdefault(KEPT_CLASSES, {})
            if files:
                kept[class_id] = [(f.name, f.getvalue()) for f in files]
            elif kept.get(class_id):
                # The uploader forgot its files while the form was not drawn; the images are kept here.
                st.caption(f"Using {len(kept[class_id])} image(s) uploaded before.")
                if st.button("Forget them", key=f"{K}:class:{class_id}:forget", icon=":material/close:",
                             help="Stop using these images; drop new ones above."):
                    kept.pop(class_id, None)
                    st.rerun()
            out[name] = out.get(name, []) + kept.get(class_id, [])
    if st.button("Add a class", icon=":material/add:", key=f"{K}:add_class", help="Another box for images of one more class."):
        ids.append(max(ids) + 1)
        st.rerun()
    return out


def report_view(prepared: PreparedData) -> None:
    """The engine's validation report (uploads) and sample images of every class."""
    ds, report = prepared.dataset, prepared.report
    st.caption(ds.description)
    if report is not None:
        # Class and file names come from the user's folders: shown as text, never as Markdown.
        st.markdown(f"**{report.total} images kept** in {len(report.per_class)} classes: "
                    + markdown_text(", ".join(f"{c} {n}" for c, n in report.per_class.items())))
        if report.val_per_class:
            st.caption("The zip's own split is kept: every seed validates on its validation folder ("
                       + markdown_text(", ".join(f"{c} {n}" for c, n in report.val_per_class.items())) + ").")
        if report.small_classes:
            st.warning(f"Very few images in: {markdown_text(', '.join(report.small_classes))}. Expect a wide interval.", icon=":material/warning:")
        if report.skipped or report.duplicates:
            with st.expander(f"{len(report.skipped)} file(s) skipped, {len(report.duplicates)} duplicate(s) dropped"):
                st.text("\n".join([f"{file}: {why}" for file, why in report.skipped]
                                   + [f"{file}: identical to {same}" for file, same in report.duplicates]))
    else:
        st.markdown("**" + markdown_text(", ".join(f"{c} {n}" for c, n in ds.counts().items())) + "** images per class")
    with st.expander("Sample images of each class", expanded=True):
        for cls, images in class_samples(ds, per_class=8).items():
            st.image([enlarge(im, 64) for im in images], caption=[cls] * len(images), width=64)


def _image_size(source: str) -> int:
    """The image size the training section will use for ``source`` (its widget's value, a link's, or the default)."""
    take_link("image_size", f"{K}:{source}:image_size")  # before the data are prepared at that size
    fallback = st.session_state.get(f"{K}:{source}:proposed_size", default_spec(source).image_size)  # survives hidden widgets
    return int(st.session_state.get(f"{K}:{source}:image_size", fallback))


def _proposal(source: str, prepared: PreparedData | None) -> Proposal | None:
    """Settings proposed from an upload's images (None for built-ins, which have their presets)."""
    if source not in ("zip", "classes") or prepared is None:
        return None
    return propose_settings(prepared.dataset, prepared.report)


def data_section() -> DataChoice:
    """Pick the data; shows the validation report or why the data were refused."""
    st.session_state.setdefault(f"{K}:source", SOURCES[0])
    source = st.segmented_control("Data set", SOURCES, key=f"{K}:source", required=True,
                                  help="Train on a built-in data set, a zip with one folder per class, or images you drop per class.")
    try:
        if source == "Built-in":
            names = list_datasets()
            name = st.selectbox("Built-in data set", names, format_func=lambda n: get_dataset_info(n).title, key=f"{K}:builtin",
                                help="Generated here, offline; each comes with settings that suit it.")
            options = default_spec(name).dataset_options
            prepared = _builtin(name, _image_size(name), json.dumps(options, sort_keys=True))
            choice = DataChoice(name, prepared)
        elif source == "Zip of class folders":
            kept = st.session_state.get(KEPT_ZIP)
            upload = st.file_uploader("A zip with one folder per class (cats/…, dogs/…)" if kept is None else "Another zip (replaces the one in use)",
                                      type=["zip"], key=f"{K}:zip", help="Each top-level folder is a class; its images are that class's examples.")
            if upload is not None:
                kept = st.session_state[KEPT_ZIP] = (upload.name, upload.getvalue())
            if kept is None:
                st.info("Upload a zip of class folders to start.", icon=":material/folder_zip:")
                return DataChoice("zip", None)
            file_name, data = kept
            # The uploader forgets its file when the page is not drawn (during a run, on other pages); the zip is kept here.
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.markdown(f":material/folder_zip: Using **{file_name}** ({len(data) / 1e6:.1f} MB)")
            if right.button("Forget it", key=f"{K}:forget_zip", icon=":material/close:", help="Stop using this zip; upload another."):
                st.session_state.pop(KEPT_ZIP, None)
                st.rerun()
            square = _square_choice()
            choice = DataChoice("zip", _zip(hashlib.sha256(data).hexdigest(), data, _image_size("zip"), file_name, square), square)
        else:
            files = _class_uploads()
            if sum(len(f) for f in files.values()) == 0:
                st.info("Name at least two classes and drop a few images into each.", icon=":material/add_photo_alternate:")
                return DataChoice("classes", None)
            frozen = tuple((n, tuple(f)) for n, f in sorted(files.items()))
            digest = hashlib.sha256(repr([(n, [(a, hashlib.sha256(b).hexdigest()) for a, b in f]) for n, f in frozen]).encode()).hexdigest()
            square = _square_choice()
            choice = DataChoice("classes", _classes(digest, frozen, _image_size("classes"), square), square)
    except AugLabError as exc:
        st.error("**These data cannot be used for training**, so the run cannot start.", icon=":material/block:")
        show_error(exc)
        return DataChoice(str(source), None)
    _seed_proposal(choice)
    report_view(choice.prepared)  # type: ignore[arg-type]
    return choice


_WIDGET_KEYS = {"batch_size": "batch", "epoch_repeats": "repeats", "val_fraction": "val"}  # spec field -> widget key suffix


def _seed_proposal(choice: DataChoice) -> None:
    """A new upload: put the settings proposed for it into the form, once (derived defaults follow their data).

    Runs before the augmentation and training widgets are drawn; the widgets were possibly
    created earlier with the defaults for no data, so their state is set rather than their default.
    """
    proposal = _proposal(choice.source, choice.prepared)
    if proposal is None or choice.prepared is None:
        return
    marker = f"{K}:{choice.source}:proposed_for"
    if st.session_state.get(marker) == choice.prepared.spec_dataset:
        return
    st.session_state[marker] = choice.prepared.spec_dataset
    k = f"{K}:{choice.source}"
    size_before = _image_size(choice.source)
    for field, value in proposal.values.items():  # a value the user set stays (derived defaults follow their data)
        derived_default(f"{k}:{_WIDGET_KEYS.get(field, field)}", value)
    st.session_state[f"{K}:preset:{choice.source}"] = proposal.pipeline_name
    st.session_state[f"{K}:{choice.source}:proposed_size"] = proposal.values.get("image_size", size_before)
    if _image_size(choice.source) != size_before:
        st.rerun()  # prepare the images again at the proposed size


def augmentation_section(prepared: PreparedData | None, source: str = "") -> tuple[dict[str, Any] | None, float, float]:
    """Pick the pipeline and mixing; returns (albumentations dict or None, MixUp α, CutMix α).

    ``source`` (the data choice's) keys the preset so an upload's proposed preset is its default.
    """
    editor_steps = len(get_pipeline().active_steps())
    labels = {"preset": "A preset", "editor": f"The pipeline from the editor ({editor_steps} step(s))",
              "none": "None (sanity check: both arms identical)"}
    # Stable option values (the label's step count changes), so a kept choice is still an option.
    choice = st.radio("Augmentation for the augmented arm", list(labels), format_func=labels.__getitem__,
                      key=f"{K}:aug_origin", horizontal=True,
                      help="The plain arm never sees augmentation; everything else is identical between the arms.")
    pipeline: dict[str, Any] | None
    if choice == "preset":
        names = [*ENGINE_PIPELINES, *list_pipeline_presets()]
        proposed = _proposal(source, prepared)
        default = names.index(proposed.pipeline_name) if proposed is not None and proposed.pipeline_name in names else 0
        name = st.selectbox("Preset", names, index=default, key=f"{K}:preset:{source}",
                            help="The demo pipeline matches the variation of the shapes data set; the others are the editor's presets.")
        if name in ENGINE_PIPELINES:
            pipeline = ENGINE_PIPELINES[name]
        else:
            st.caption(get_pipeline_preset(name).rationale)
            pipeline = training_dict(create_pipeline_preset(name))
    elif choice == "editor":
        pipeline = pipeline_dict()
        if pipeline is None:
            st.warning("The pipeline editor has no enabled step yet, so both arms would be identical.", icon=":material/warning:")
            st.page_link("pages/pipeline.py", label="Open the pipeline editor", icon=":material/account_tree:",
                         help="Add steps there; they are used here as soon as you come back.")
    else:
        pipeline = None
    if pipeline is not None:
        st.caption("Steps: " + ", ".join(pipeline_steps(pipeline)))
        if prepared is not None:
            try:
                grid = render_grid_bounded(build_compose(pipeline), [prepared.dataset.images[i] for i in range(0, len(prepared.dataset.images), max(1, len(prepared.dataset.images) // 4))][:4],
                                   n=8, seed=0, encode=False, keep_images=True)
                st.image([enlarge(t.image, 80) for t in grid.tiles], width=80)
            except AugLabError as exc:
                show_error(exc)
    mix_l, mix_r = st.columns(2)
    take_link("mixup_alpha", f"{K}:mixup")
    take_link("cutmix_alpha", f"{K}:cutmix")
    st.session_state.setdefault(f"{K}:mixup", 0.0)
    st.session_state.setdefault(f"{K}:cutmix", 0.0)
    mixup = mix_l.number_input("MixUp α (0 = off)", *ALPHA_RANGE, step=0.1, key=f"{K}:mixup",
                               help="Blend pairs of training images and their labels; typical α 0.2-0.4.")
    cutmix = mix_r.number_input("CutMix α (0 = off)", *ALPHA_RANGE, step=0.1, key=f"{K}:cutmix",
                                help="Paste a patch of one image into another and mix labels by area; typical α 1.0.")
    return pipeline, float(mixup), float(cutmix)


def _download_weights(backbone: str, key: str) -> None:
    """A button that downloads a backbone's weights with a progress bar; raises until they are cached."""
    info = get_backbone_info(backbone)
    title = info.title.split(",")[0]
    st.warning(f"{title} needs its ImageNet weights ({info.download_mb:.0f} MB), downloaded once from "
               f"{weights_url(backbone)} and kept for offline use. Nothing is downloaded until you press the button.",
               icon=":material/cloud_download:")
    if st.button(f"Download the {title} weights", key=key, icon=":material/download:",
                 help="Fetches the file once (SHA-256 checked) into torch's cache; later runs use it offline."):
        bar = st.progress(0.0, text="Starting the download…")

        def progress(got: int, total: int) -> None:
            bar.progress(min(1.0, got / total) if total else 0.0,
                         text=f"{got / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{got / 1e6:.1f} MB")

        try:
            fetch_weights(backbone, progress=progress)
        except AugLabError as exc:
            show_error(exc)
        else:
            st.rerun()
    raise AugLabError("Download the weights first, or choose another backbone.", field="backbone")


def training_section(source: str, prepared: PreparedData | None) -> dict[str, Any]:
    """Backbone, strategy and numbers (defaults per data set); returns ExperimentSpec keyword arguments."""
    images = len(prepared.dataset.labels) if prepared else 0
    base = default_spec(source, classes=len(prepared.dataset.class_names) if prepared else 2, images=images)
    proposal = _proposal(source, prepared)
    if proposal is not None:  # uploads: settings fitted to the images, each with its reason
        base = replace(base, **proposal.values)
        with st.expander("Why these settings" + (" (your images look like photos)" if proposal.looks_like_photos else ""),
                         icon=":material/tips_and_updates:"):
            st.markdown("\n".join(f"- **{name.replace('_', ' ')}**: {why}" for name, why in proposal.reasons.items()))
    k = f"{K}:{source}"
    backbones = list_backbones()
    for field in ("backbone", "strategy", "seeds", "epochs", "image_size"):
        take_link(field, f"{k}:{field}")
    # Every default below is computed from the chosen data; it follows the data unless the user set it.
    derived_default(f"{k}:backbone", base.backbone if base.backbone in backbones else backbones[0])
    derived_default(f"{k}:strategy", base.strategy)
    backbone = st.selectbox("Backbone", backbones, format_func=lambda b: get_backbone_info(b).title, key=f"{k}:backbone",
                            help="The network that is fine-tuned: a small CNN pre-trained here, or ImageNet ResNet-18 or MobileNetV3-Small (download once).")
    info = get_backbone_info(backbone)
    st.caption(info.description)
    if proposal is not None and proposal.looks_like_photos and not info.photo:
        st.warning(f"{info.title.split(',')[0]} was pre-trained on {'synthetic curves at 32 px' if 'synthetic' in backbone else 'nothing'} "
                   "and has never seen a photograph: on photos like these expect accuracy near chance, and a verdict that "
                   "cannot tell. An ImageNet backbone is proposed for photos.", icon=":material/photo_camera:")
    if info.downloads and not weights_cached(backbone):
        _download_weights(backbone, f"{k}:download")
    strategy = st.selectbox("Fine-tuning strategy", list(STRATEGIES), format_func=lambda s: STRATEGIES[s], key=f"{k}:strategy",
                            help="Which layers learn: only the new head, the last block too, or all layers.")
    for field, value in (("epochs", base.epochs), ("seeds", base.seeds), ("lr", base.lr), ("batch", base.batch_size),
                         ("image_size", base.image_size), ("repeats", base.epoch_repeats), ("val", base.val_fraction),
                         ("per_class", base.train_per_class or 0), ("seed", base.seed)):
        derived_default(f"{k}:{field}", value)
    c1, c2, c3, c4 = st.columns(4)
    epochs = c1.number_input("Epochs", 1, spec_limit("epochs"), key=f"{k}:epochs", help="Evaluations of the validation set per arm and seed.")
    seeds = c2.number_input("Seeds", *SEEDS_RANGE, key=f"{k}:seeds",
                            help="Repetitions with different splits and initialisations; 3 or more give a confidence interval.")
    lr = c3.number_input("Learning rate", 1e-5, 1.0, format="%.4f", step=1e-4, key=f"{k}:lr",
                         help="How big each training step is; too high diverges, too low learns slowly.")
    batch = c4.number_input("Batch size", 2, spec_limit("batch_size"), key=f"{k}:batch", help="Training images per step.")
    c5, c6, c7, c8 = st.columns(4)
    size = c5.number_input("Image size (px)", *IMAGE_SIZE_RANGE, step=16, key=f"{k}:image_size",
                           help="Images are resized to a square of this side.")
    repeats = c6.number_input("Passes per epoch", 1, spec_limit("epoch_repeats"), key=f"{k}:repeats",
                              help="Passes over the training images between two evaluations (tiny sets need several); follows the number of images unless you set it.")
    val = c7.number_input("Validation share", 0.05, 0.95, step=0.05, key=f"{k}:val", help="Share of each class held out.")
    per_class = c8.number_input("Training images per class (0 = all)", 0, spec_limit("train_per_class"), key=f"{k}:per_class",
                                help="Keep only this many training images per class: a few-shot setting. Validation is untouched.")
    seed = st.number_input("Base seed", 0, 2**31 - 1, key=f"{k}:seed", help="Seed i uses base + i for split, init, batches and augmentation.")
    return {"backbone": backbone, "strategy": strategy, "epochs": int(epochs), "seeds": int(seeds), "lr": float(lr),
            "batch_size": int(batch), "image_size": int(size), "epoch_repeats": int(repeats), "val_fraction": float(val),
            "train_per_class": int(per_class) or None, "seed": int(seed), "optimizer": base.optimizer,
            "weight_decay": base.weight_decay, "schedule": base.schedule, "backbone_lr_factor": base.backbone_lr_factor}


def build_spec(choice: DataChoice, pipeline: dict[str, Any] | None, mixup: float, cutmix: float,
               training: dict[str, Any]) -> ExperimentSpec:
    """The frozen spec the engine runs (raises :class:`AugLabError` for invalid combinations).

    Built with ``dataclasses.replace`` on the data's default spec, so a field the form does not
    show keeps its default rather than being dropped when ``ExperimentSpec`` gains a field.
    """
    assert choice.prepared is not None
    prepared = choice.prepared
    label = choice.source if choice.source in list_datasets() else prepared.dataset.name
    base = default_spec(choice.source, classes=len(prepared.dataset.class_names), images=len(prepared.dataset.labels))
    known = next((n for n, p in ENGINE_PIPELINES.items() if p == pipeline), None)
    pipeline_name = known or (f"{len(pipeline_steps(pipeline))}-step pipeline" if pipeline else None)
    return replace(base, name=run_name(label, training, pipeline_name), dataset=prepared.spec_dataset,
                   dataset_options=prepared.spec_options, pipeline=pipeline, mixup_alpha=mixup, cutmix_alpha=cutmix,
                   square=choice.square, **training)
