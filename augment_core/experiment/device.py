"""Where training runs: ``AUGLAB_DEVICE`` (auto, cpu, cuda) resolved to a ``torch.device``, and what a run records of it.

Example:
    >>> select_device("auto")  # CUDA where torch.cuda.is_available(), else the CPU
    device(type='cpu')
"""

from __future__ import annotations

import torch

from augment_core.errors import AugLabError
from augment_core.settings import get_setting

DEVICES = ("auto", "cpu", "cuda")


def select_device(value: str | None = None) -> torch.device:
    """The device ``AUGLAB_DEVICE`` (or ``value``) asks for: auto, cpu or cuda.

    "auto" is CUDA where ``torch.cuda.is_available()``, else the CPU; "cuda" where CUDA is not
    available is refused with a message rather than silently trained on the CPU.

    Raises:
        AugLabError: an unknown value, or "cuda" without CUDA.
    """
    wanted = (value if value is not None else get_setting("AUGLAB_DEVICE")).strip().lower()
    if wanted not in DEVICES:
        raise AugLabError(f"AUGLAB_DEVICE is “{wanted}”; it must be one of {', '.join(DEVICES)}.", field="AUGLAB_DEVICE")
    if wanted == "cuda" and not torch.cuda.is_available():
        raise AugLabError("AUGLAB_DEVICE=cuda, but CUDA is not available here (torch.cuda.is_available() is False: no "
                          f"GPU, no driver, or a CPU-only torch {torch.__version__}).",
                          hint="Use auto (CUDA when there is one, else the CPU) or cpu.", field="AUGLAB_DEVICE")
    if wanted == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", torch.cuda.current_device())


def device_versions(device: torch.device) -> dict[str, str]:
    """What a run records about its device: ``{"device": "cpu" | "cuda:0"}``, plus the GPU's name on CUDA."""
    if device.type != "cuda":
        return {"device": device.type}
    return {"device": str(device), "gpu": torch.cuda.get_device_name(device)}
