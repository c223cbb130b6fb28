"""Atomic output: build every file or folder under a temporary name beside its target, then rename.

A failure, Ctrl-C or SIGTERM never leaves a partial file at the target: the context managers remove their
temporary paths on any exception (``KeyboardInterrupt`` and ``SystemExit`` included; the CLI turns SIGTERM
into ``SystemExit``). A run killed outright (SIGKILL, power loss) cannot clean up, so temporary names are
predictable, ``.<TARGET>.usd-synth-tmp-<pid>``, and the next run into the same target removes those whose
process is gone (:func:`remove_stale`).

Files are written inside a private temporary *folder* (``atomic_path`` yields ``<tmpdir>/<target name>``),
so whatever a writer puts beside its file (USD's own safe-save temporaries) goes away with the folder.

Folders (:func:`atomic_dir`) refuse a non-empty target unless ``overwrite`` is given, and never replace the
working directory, one of its parents, the file system root or the home folder.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from usd_synth.errors import UsdSynthError

#: Marker in the names of temporary paths; ``.<target>.usd-synth-tmp-<pid>[-<n>]``.
TMP_MARK = ".usd-synth-tmp-"
OLD_MARK = ".usd-synth-old-"
_TMP_RE = re.compile(r"^\.(?P<target>.+)\.usd-synth-(?:tmp|old)-(?P<pid>\d+)(?:-\d+)?(?:\.[^.]*)?$")
#: Longest file name most file systems accept (bytes).
NAME_MAX = 255
#: Room a temporary name needs beyond the target's own name.
_TMP_EXTRA = len(TMP_MARK) + 2 + 12


@functools.cache
def _umask() -> int:
    """The process's umask, read once (reading it means setting it, which is not thread-safe)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale(target: str | Path) -> list[Path]:
    """Remove temporary paths of ``target`` left by runs whose process no longer exists; return them."""
    target = Path(target)
    parent = target.parent
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_RE.match(entry.name)
        if not m or m.group("target") != target.name or _pid_alive(int(m.group("pid"))):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def temporary_name(target: Path, mark: str = TMP_MARK) -> Path:
    """A free, predictable temporary path beside ``target``: ``.<name><mark><pid>[-n]``."""
    base = f".{target.name}{mark}{os.getpid()}"
    candidate = target.with_name(base)
    n = 0
    while os.path.lexists(candidate):
        n += 1
        candidate = target.with_name(f"{base}-{n}")
    return candidate


def _protected(target: Path) -> str | None:
    """Why ``target`` must never be replaced (None when it may)."""
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError):
        return None
    cwd = Path.cwd().resolve()
    if resolved == Path(resolved.anchor):
        return "is the file system root"
    if resolved == cwd or resolved in cwd.parents:
        return "is the working folder or one of its parents"
    home = os.environ.get("HOME")
    if home and resolved == Path(home).resolve():
        return "is the home folder"
    return None


def _name_problem(path: Path) -> str | None:
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            return f"name too long ({len(os.fsencode(part))} bytes; the limit is {NAME_MAX})"
    if len(os.fsencode(path.name)) + _TMP_EXTRA > NAME_MAX:
        return f"name too long to write safely ({len(os.fsencode(path.name))} bytes)"
    return None


def _check_parent(path: Path, field: str | None) -> None:
    """The folders above ``path`` exist as folders, or can be made (no file in the way)."""
    for parent in [path.parent, *path.parent.parents]:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise UsdSynthError(f"{parent} is not a folder", path, field=field)
            if not os.access(parent, os.W_OK | os.X_OK) and parent == path.parent:
                raise UsdSynthError("the folder is not writable", path, field=field)
            return


def check_output_file(path: str | Path, field: str | None = "out") -> Path:
    """Refuse, before any work, an output file name that cannot be written: a folder, a path under a
    file, a name the file system refuses."""
    path = Path(path)
    if str(path) in ("", ".") or path.name in ("", ".", ".."):
        raise UsdSynthError("names a folder, not a file", path, field=field)
    problem = _name_problem(path)
    if problem:
        raise UsdSynthError(problem, path, field=field)
    if path.is_dir():
        raise UsdSynthError("is a folder; give a file name", path, field=field)
    _check_parent(path, field)
    return path


def check_output_dir(
    path: str | Path,
    overwrite: bool = False,
    field: str | None = "out_dir",
    replaceable: Sequence[str] | None = None,
) -> Path:
    """Refuse, before any work, an output folder that cannot be (re)placed.

    A non-empty folder is refused unless ``overwrite`` (or every entry is in ``replaceable``: names of a
    previous run's own output); the working folder, its parents, ``/`` and the home folder always are.
    """
    path = Path(path)
    if str(path) == "":
        raise UsdSynthError("empty folder name", path, field=field)
    problem = _name_problem(path.resolve() if path.name in ("", ".", "..") else path)
    if problem:
        raise UsdSynthError(problem, path, field=field)
    why = _protected(path)
    if why:
        raise UsdSynthError(f"{why}; it is never replaced, choose a new folder", path, field=field)
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise UsdSynthError("exists and is not a folder", path, field=field)
        entries = [e for e in os.listdir(path)]
        own = replaceable is not None and entries and all(e in replaceable for e in entries)
        if entries and not overwrite and not own:
            raise UsdSynthError(
                "the folder is not empty; pass overwrite to replace it",
                path,
                field=field,
                mentions=("overwrite",),
            )
    _check_parent(path, field)
    return path


def _os_error(exc: OSError, target: Path, field: str | None) -> UsdSynthError:
    reason = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied",
        errno.EROFS: "read-only file system",
        errno.ENAMETOOLONG: "name too long",
        errno.EISDIR: "is a folder",
        errno.ENOTDIR: "a part of the path is not a folder",
    }.get(exc.errno, exc.strerror or type(exc).__name__)
    return UsdSynthError(f"cannot write: {reason}", target, field=field)


@contextlib.contextmanager
def _tmp_dir_for(target: Path, field: str | None) -> Iterator[Path]:
    remove_stale(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        while True:  # another thread of this process may take the same name between the test and mkdir
            tmp = temporary_name(target)
            try:
                os.mkdir(tmp, 0o700)
                break
            except FileExistsError:
                continue
    except OSError as exc:
        raise _os_error(exc, target, field) from None
    try:
        yield tmp
    finally:
        _remove_tree(tmp)


def _remove_tree(path: Path) -> None:
    """``rmtree`` that finishes even when Ctrl-C or SIGTERM arrives during it (then re-raised)."""
    pending: BaseException | None = None
    for _ in range(3):
        try:
            shutil.rmtree(path, ignore_errors=True)
            break
        except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt, SystemExit: finish first
            pending = exc
    if pending is not None:
        raise pending


@contextlib.contextmanager
def atomic_path(target: str | Path, field: str | None = None) -> Iterator[Path]:
    """Yield a temporary path named like ``target`` (same name, so the same format) in a private folder
    beside it; rename it onto ``target`` on success. On any exception nothing appears at ``target`` and
    the temporary folder is removed."""
    with atomic_paths([target], field=field) as (tmp,):
        yield tmp


def write_json(path: str | Path, data, indent: int | None = 1) -> Path:
    """Write ``data`` as JSON to ``path`` atomically (parent folders made); the records, manifests and
    summaries that a resumed run reads back must never be half-written."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=indent) + "\n")
    return path


@contextlib.contextmanager
def atomic_paths(targets: Sequence[str | Path], field: str | None = None) -> Iterator[list[Path]]:
    """Several files that belong together, written in one temporary folder beside the first target and
    renamed into place *in the order given* (e.g. a sidecar before the file that references it)."""
    targets = [Path(t) for t in targets]
    for t in targets:
        check_output_file(t, field)
    with _tmp_dir_for(targets[0], field) as tmp_dir:
        tmps = [tmp_dir / f"{i}" / t.name for i, t in enumerate(targets)]
        for p in tmps:
            p.parent.mkdir()
        yield tmps
        mode = 0o666 & ~_umask()
        try:
            for tmp, target in zip(tmps, targets, strict=True):
                if not tmp.exists():
                    raise UsdSynthError("nothing was written", target, field=field)
                os.chmod(tmp, mode)
            for tmp, target in zip(tmps, targets, strict=True):
                os.replace(tmp, target)
        except OSError as exc:
            raise _os_error(exc, target, field) from None


@contextlib.contextmanager
def atomic_dir(
    target: str | Path,
    overwrite: bool = True,
    field: str | None = "out_dir",
    replaceable: Sequence[str] | None = None,
) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; move it into place on success, remove it on failure.

    An existing ``target`` is replaced only after the new content is complete, and only when it is empty
    or ``overwrite`` is true (see :func:`check_output_dir`, which it calls first).
    """
    target = Path(target)
    check_output_dir(target, overwrite=overwrite, field=field, replaceable=replaceable)
    with _tmp_dir_for(target, field) as tmp:
        yield tmp
        try:
            os.chmod(tmp, 0o777 & ~_umask())
            old = None
            try:
                if target.exists():
                    old = temporary_name(target, OLD_MARK)
                    os.replace(target, old)
                    try:
                        os.replace(tmp, target)
                    except BaseException:
                        os.replace(old, target)  # put the previous content back
                        old = None
                        raise
                else:
                    os.replace(tmp, target)
            finally:
                if old is not None:
                    _remove_tree(old)
        except OSError as exc:
            raise _os_error(exc, target, field) from None


def check_finite(values, what: str, path: str | Path | None = None) -> None:
    """Raise :class:`UsdSynthError` when the array-like ``values`` holds NaN or infinity."""
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        raise UsdSynthError(f"{what} has non-finite values (NaN or infinity); nothing was written", path)
