"""Following a training job from a page: the follow token in the URL, the session's secret, the polling fragment.

Two tokens (see :mod:`augment_core.prove.jobs`): the *follow* token (``?lab=…``) is public: it is
kept in the URL so a reloaded page, or anyone sent the link, finds and watches the page's runs.
The *secret* lives only in this session (or is the logged-in user, where the app uses
``st.login``): only it may cancel or delete the runs it started. The fragment reads the job from
the database every second and reruns the whole page once the job has finished.
"""

from __future__ import annotations

import streamlit as st

from augment_core import AugLabError
from augment_core.prove import JobManager, JobSnapshot, format_duration, new_owner_token
from ui.results_view import curve_controls, curves_panel

_TOKEN = "auglab:owner"
_SECRET = "auglab:secret"
POLL_SECONDS = 1.0


def owner_token() -> str:
    """This page's owner token: from session state, else the URL, else a new one; written back to the URL."""
    token = st.session_state.get(_TOKEN) or st.query_params.get("lab") or new_owner_token()
    st.session_state[_TOKEN] = token
    if st.query_params.get("lab") != token:
        st.query_params["lab"] = token
    return token


def session_secret() -> str:
    """Who may cancel and delete: the logged-in user where Streamlit authentication is set up, else this session."""
    try:
        if st.user.is_logged_in:
            return f"user:{st.user.get('email') or st.user.get('sub')}"
    except (AttributeError, KeyError, st.errors.StreamlitAPIException):  # no authentication configured
        pass
    if _SECRET not in st.session_state:
        st.session_state[_SECRET] = new_owner_token()
    return str(st.session_state[_SECRET])


def current_snapshot(manager: JobManager, owner: str) -> JobSnapshot | None:
    """The owner's running or latest job, if the server still knows it."""
    job_id = manager.job_for(owner)
    if job_id is None:
        return None
    try:
        return manager.snapshot(job_id)
    except AugLabError:
        return None


def progress_text(snap: JobSnapshot) -> str:
    """"37% · seed 1 of 2 · epoch 3 of 4 · … · 12 s elapsed · about 20 s left" (or the queue position)."""
    if snap.queued:
        return f"Waiting: {snap.queue_text()}"
    if snap.cancel_requested:
        return f"{snap.fraction:.0%} · stopping after the current step…"
    return f"{snap.fraction:.0%} · {snap.phase()} · {format_duration(snap.elapsed_s)} elapsed · {snap.eta_text()}"


def live_job_panel(manager: JobManager, job_id: str, *, key: str = "live") -> None:
    """Progress bar with ETA (or queue position), cancel button for its owner, and the curves, redrawn every second."""
    secret = session_secret()

    drawn: list[str] = []  # the status the page around the fragment was drawn with

    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        try:
            snap = manager.snapshot(job_id)
        except AugLabError as exc:
            st.error(exc.message, icon=":material/error:")
            return
        if not drawn:
            drawn.append(snap.status)
        if not snap.running or snap.status != drawn[0]:
            st.rerun()  # the whole page: it now shows the results, or "Training" instead of "Queued"
        bar, button = st.columns([5, 1], vertical_alignment="center")
        if snap.queued:
            bar.info(snap.queue_text().capitalize() + ". It runs by itself; you can leave this page and come back.",
                     icon=":material/schedule:")
        else:
            bar.progress(min(1.0, snap.fraction), text=progress_text(snap))
        if not manager.can_cancel(job_id, secret):
            button.caption("Started by another session: you can follow it here, not cancel it.")
        elif button.button("Cancel", icon=":material/stop_circle:", key=f"{key}:cancel",
                           help="Stop after the current training step (a queued run is dropped at once). "
                                "Finished epochs are kept and stored."):
            try:
                manager.cancel(job_id, secret)
            except AugLabError as exc:
                st.error(exc.message, icon=":material/error:")
            else:
                st.toast("Stopping after the current step…", icon=":material/stop_circle:")
        smoothing, show_seeds = curve_controls(key)
        curves_panel([e.to_dict() for e in snap.epochs], epochs=snap.spec.epochs, key=key, smoothing=smoothing,
                     show_seeds=show_seeds, file_name="curves_so_far")

    poll()
