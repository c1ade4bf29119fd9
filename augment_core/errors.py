"""The one exception type that carries a message meant for the user."""

from __future__ import annotations


class AugLabError(Exception):
    """An error whose message is written for the person using the app.

    Library errors (pydantic validation from albumentations, PIL decode errors, bad zip files)
    are translated into this type at the boundary, with what went wrong and what to do.

    Args:
        message: Plain-words explanation for the user.
        hint: Optional suggestion of what to do next.
        field: Optional name of the parameter, file or step the problem is about.
    """

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


_MARKDOWN_SPECIAL = set("\\`*_[]<>$~|")  # emphasis, code, links, HTML, LaTeX, tables


def markdown_text(text: str) -> str:
    """``text`` with every Markdown character escaped, so Streamlit shows it as typed.

    User-supplied names (folders, files, classes) reach messages and reports; a folder called
    ``[x](javascript:…)`` must show as those characters, never as a link.

    Example:
        >>> print(markdown_text("[x](y)"))
        \\[x\\](y)
    """
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in str(text)).replace("\n", " ")
