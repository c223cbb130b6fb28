"""What the CLI commands share: the options several commands take, choices taken from the library's own
constants, library errors told in flag terms, and progress bars that stay quiet when piped.

Options. ``-o/--output``, ``--seed``, ``--device``, ``--workers``, ``--overwrite`` and ``-v`` are declared
here once (:func:`output_option`, :func:`seed_option`, ...), so every command spells and explains them
alike; a command passes only what differs (its own help text, a default).

Errors. The library names *fields* (``size must be at least 16 (got 8)``, with ``field="size"``), never
flags. :func:`in_flag_terms` rewrites such an error into the terms of the command that ran: the field is
the option whose parameter name is the field (``video_format`` -> ``--format``) or whose flag is the field
with dashes (``clips_per_class`` -> ``--clips-per-class``); a command lists exceptions in
``Command(field_flags=...)``. The group in :mod:`usd_synth.cli.main` prints the result on one line.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import math
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from usd_synth.errors import UsdSynthError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

#: Key in ``click.Context.meta`` (shared by a context and its children) naming the command that ran.
COMMAND_KEY = "usd_synth.command"


# ------------------------------------------------------------------------------------------ errors ----
class Command(click.Command):
    """A usd-synth command: it records itself for the error handler, and ``field_flags`` maps library
    fields to flags where the automatic rule (see :func:`flag_for`) does not find them."""

    def __init__(self, *args: Any, field_flags: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.field_flags = dict(field_flags or {})

    def invoke(self, ctx: click.Context) -> Any:
        ctx.meta[COMMAND_KEY] = self
        return super().invoke(ctx)


class Group(click.Group):
    """A command group whose subcommands are :class:`Command` s."""

    command_class = Command


def _flag_name(param: click.Parameter) -> str:
    if isinstance(param, click.Option):
        return next((o for o in param.opts if o.startswith("--")), param.opts[0])
    return param.human_readable_name  # an argument: its metavar, e.g. SRC


def flag_for(field: str, command: click.Command | None) -> str:
    """The flag (or argument) of ``command`` that sets the library field ``field``.

    In order: the command's ``field_flags``; the option (or argument) whose parameter name is ``field``;
    else ``--field-with-dashes`` (the spelling every option of the CLI follows).
    """
    dashed = "--" + field.replace("_", "-")
    if command is None:
        return dashed
    explicit = getattr(command, "field_flags", {})
    if field in explicit:
        return explicit[field]
    for param in command.params:
        if param.name == field:
            return _flag_name(param)
    return dashed


def _word(name: str) -> str:
    """A field name as a whole word: not part of a longer name, a path, a quoted value or ``[extra]``."""
    return rf"(?<![\w\-\[./'\"]){re.escape(name)}(?![\w\-\]/'\"])"


def in_flag_terms(exc: UsdSynthError, command: click.Command | None) -> str:
    """The one-line message of ``exc`` with its fields named by ``command``'s flags.

    The first whole-word occurrence of ``field`` and of each of ``mentions`` becomes its flag
    (``--size must be at least 16``, ``pass --overwrite to replace it``); later occurrences of the same
    word are prose (``device tpu: unknown device``). A message that does not contain its ``field`` gets
    the flag in front (``--output: the folder is not empty``). The path, if any, comes first.
    """
    text = exc.message
    for i, name in enumerate(exc.fields):
        flag = flag_for(name, command)
        text, found = re.subn(_word(name), lambda _m, flag=flag: flag, text, count=1)
        if not found and i == 0 and exc.field:
            text = f"{flag}: {text}"
    return text if exc.path is None else f"{exc.path}: {text}"


# ----------------------------------------------------------------------------------------- choices ----
class LibraryChoice(click.Choice):
    """A :class:`click.Choice` over a library constant (``"module:NAME"``), imported when first needed, so
    that listing the commands (``usd-synth --help``) does not import the library."""

    def __init__(self, target: str, case_sensitive: bool = True) -> None:
        self.target = target
        self.case_sensitive = case_sensitive

    @functools.cached_property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        module, name = self.target.split(":")
        return tuple(getattr(importlib.import_module(module), name))


# ------------------------------------------------------------------------------------------- types ----
class FiniteFloat(click.ParamType):
    """A float that is a number: ``nan``, ``inf`` and ``-inf`` are refused as usage errors."""

    name = "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float) and math.isfinite(value):
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


#: Every float option of the CLI.
FLOAT = FiniteFloat()
#: Seeds: non-negative, as numpy's SeedSequence wants them.
SEED = click.IntRange(0, 2**63 - 1)


def check_output_file(out: Path) -> Path:
    """Refuse an ``-o`` file name that cannot be written (a folder, under a file, too long) before work."""
    from usd_synth.fileio import check_output_file as check

    return check(out, field="out")


def check_output_folder(out: Path, overwrite: bool = False, replaceable: Iterable[str] | None = None) -> Path:
    """Refuse an ``-o`` folder that is not empty (without ``--overwrite``) or may never be replaced."""
    from usd_synth.fileio import check_output_dir

    names = None if replaceable is None else tuple(replaceable)
    return check_output_dir(out, overwrite=overwrite, field="out", replaceable=names)


# ----------------------------------------------------------------------------------------- options ----
def output_option(
    help: str, *, default: str | None = None, folder: bool = False, required: bool | None = None
) -> Callable[[F], F]:
    """``-o/--output`` (parameter ``out``, a Path): required unless a ``default`` is given or ``required``
    is False (a command with a listing mode, such as ``--list-backends``, checks it itself); ``folder``
    refuses an existing file."""
    # click 8.5 lets an explicit ``default=None`` satisfy ``required``: pass a default only when there is one.
    extra: dict[str, Any] = {} if default is None else {"default": default, "show_default": True}
    return click.option(
        "-o",
        "--output",
        "out",
        required=(default is None) if required is None else required,
        type=click.Path(path_type=Path, file_okay=not folder),
        help=help,
        **extra,
    )


def seed_option(help: str = "Run seed.", *, default: int | None = 0) -> Callable[[F], F]:
    """``--seed N``: every random choice follows from it (same seed, same output)."""
    return click.option("--seed", type=SEED, default=default, show_default=default is not None, help=help)


def device_option(default: str = "cpu") -> Callable[[F], F]:
    """``--device``: the Warp device; the library resolves and checks the name."""
    return click.option(
        "--device",
        default=default,
        show_default=True,
        help="Warp device: cpu, cuda (or cuda:N) or auto (CUDA when present).",
    )


def workers_option(
    help: str = "Jobs run in parallel, one thread each (the output does not depend on it).",
) -> Callable[[F], F]:
    """``--workers N``: parallel jobs; the library checks the number."""
    return click.option("--workers", type=int, default=1, show_default=True, help=help)


def overwrite_option(help: str = "Replace a non-empty output folder.") -> Callable[[F], F]:
    """``--overwrite``: allow replacing existing output."""
    return click.option("--overwrite", is_flag=True, help=help)


def verbose_option() -> Callable[[F], F]:
    """``-v/--verbose`` (count): log progress (-v) or debug detail (-vv)."""
    return click.option("-v", "--verbose", count=True, help="Log progress (-v) or debug detail (-vv).")


# ---------------------------------------------------------------------------------------- progress ----
def progress(items: Iterable[T], label: str, length: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on a terminal; plain iteration when stderr is not a tty."""
    if not sys.stderr.isatty():
        yield from items
        return
    with click.progressbar(items, label=label, length=length, file=sys.stderr) as bar:
        yield from bar


@contextlib.contextmanager
def progress_callback(label: str, rate_unit: str | None = None) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a bar on a terminal; a no-op when stderr is not a tty.
    ``rate_unit`` (e.g. ``"jobs"``) adds the position and the rate (``12.5 jobs/min``) beside the ETA."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    t0 = time.monotonic()

    def rate(done: int | None) -> str:
        elapsed = time.monotonic() - t0
        return f"{done / elapsed * 60:.1f} {rate_unit}/min" if done and elapsed > 0 else ""

    extra = {"show_pos": True, "item_show_func": rate} if rate_unit else {}
    with click.progressbar(length=1, label=label, file=sys.stderr, **extra) as bar:

        def update(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos, current_item=done)

        yield update
