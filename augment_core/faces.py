"""Package faces that import on first use.

Each package's ``__init__`` lists its public names and the module that holds each one. The
module is imported only when a name is first used, so importing a face is free: the Playground
can import :mod:`augment_core.prove` for a sidebar helper without loading torch.

Example::

    __getattr__, __dir__, __all__ = lazy_face(__name__, {"catalog": ["list_transforms"]})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_face(package: str, exports: dict[str, list[str]]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Build the module-level ``__getattr__``, ``__dir__`` and ``__all__`` of a package face.

    Args:
        package: the package's ``__name__``.
        exports: module name (relative to the package) -> the public names it defines.
    """
    where = {name: module for module, names in exports.items() for name in names}
    if len(where) != sum(len(names) for names in exports.values()):
        raise ValueError(f"{package}: a public name is exported by two modules")
    if set(where) & set(exports):
        # ``from package import name`` would return the submodule once it has been imported
        raise ValueError(f"{package}: a public name is also a module name: {sorted(set(where) & set(exports))}")

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(where) | set(vars(sys.modules[package])))

    return __getattr__, __dir__, sorted(where)
