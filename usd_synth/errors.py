"""The one exception type for bad input.

Every reader, writer and command raises :class:`UsdSynthError` for problems the user can fix (a wrong
shape, a NaN, an unknown format, a bad value). The CLI prints its message on one line and exits with
code 2, so the message must name the file (or field) and say what is wrong.

The library speaks in its own terms, never in command-line flags: a config-driven caller (the dataset
builder) must not tell its users about flags they never typed. A check of a value names the *field*
(the library's parameter or spec attribute, e.g. ``size``), best at the start of its message, and passes
it as ``field``::

    raise UsdSynthError(f"size must be at least 16 (got {size})", field="size")

Other fields the message names (a hint, a conflicting setting) go in ``mentions``::

    raise UsdSynthError("the folder is not empty; pass overwrite to replace it", out_dir,
                        field="out_dir", mentions=("overwrite",))

The CLI turns these names into its flags: the *first* whole-word occurrence of each named field becomes
the flag (``--size must be at least 16 (got 8)``, ``pass --overwrite``), later ones stay prose (``device
tpu: unknown device``), and a message that does not contain its ``field`` gets the flag in front
(``--output: the folder is not empty``); see ``usd_synth.cli.common.in_flag_terms``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class UsdSynthError(Exception):
    """Bad input: the message names the file or field and the problem, on one line.

    ``message`` is the text without the path; ``field`` the library field the error is about (named in
    the message, or implied); ``mentions`` other field names the message uses, as whole words, in hints
    such as "pass overwrite to replace it".
    """

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        *,
        field: str | None = None,
        mentions: Sequence[str] = (),
    ) -> None:
        text = " ".join(str(message).split())  # one line, always
        self.message = text
        self.path = None if path is None else Path(path)
        self.field = field
        self.mentions = tuple(mentions)
        super().__init__(text if path is None else f"{path}: {text}")

    def __reduce__(self):
        # Keep path, field and mentions across processes (worker pools, Ray), not just the text.
        return (type(self), (self.message, self.path), dict(self.__dict__))

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field the message names: ``field`` first, then ``mentions``."""
        return ((self.field,) if self.field else ()) + self.mentions
