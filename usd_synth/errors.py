"""The one exception type for bad input.

Every reader, writer and command raises :class:`UsdSynthError` for problems the user can fix (a wrong
shape, a NaN, an unknown format, a bad option). The CLI prints its message on one line and exits with
code 2, so the message must name the file (or option) and say what is wrong.
"""

from __future__ import annotations

from pathlib import Path


class UsdSynthError(Exception):
    """Bad input: the message names the file or option and the problem, on one line."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        text = " ".join(str(message).split())  # one line, always
        if path is not None:
            text = f"{path}: {text}"
        super().__init__(text)
        self.path = None if path is None else Path(path)
