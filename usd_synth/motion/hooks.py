"""Hooks: external pose estimators and text-to-motion models run as declared commands.

Why hooks and not imports: the research repositories that estimate 3D poses from video (StridedTransformer,
VideoPose3D, ...) or generate motions from text (MDM, T2M-GPT, MoMask, ...) each pin their own Python,
torch and weights. usd-synth does not import them; it runs their own scripts as commands, in their own
working directory and environment, with a timeout, then finds the files they wrote by a glob pattern and
reads them with the readers it already has (``humanml3d``, ``strided``, ``joints2smpl``...).

A hook is declared in a YAML file (see :func:`find_hooks_file` for where it is looked for)::

    hooks:
      mdm:
        kind: text                       # text -> motion (``motion generate``); ``video`` for estimators
        command: python -m sample.generate --text_prompt {text} --output_dir {out_dir} --seed {seed}
        cwd: ~/src/motion-diffusion-model   # default: the output folder
        timeout: 900                      # seconds
        output: "**/*.npy"                # glob under {out_dir}; the first match in sorted order is read
        format: humanml3d                 # reader name (default: detected from the content)
        fps: 20                           # frame rate when the output file lacks one
        env: {CUDA_VISIBLE_DEVICES: "0"}

The command is split into words *before* placeholders are filled in, and runs without a shell, so a prompt
with quotes or semicolons stays one argument and cannot run anything. Placeholders: ``{text}``,
``{video}``, ``{out_dir}``, ``{seed}``; ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import string
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion

log = logging.getLogger(__name__)

#: What a hook consumes: a text prompt (text-to-motion) or a video file (pose estimation).
HOOK_KINDS: tuple[str, ...] = ("text", "video")
#: Placeholders a command template may use.
PLACEHOLDERS: tuple[str, ...] = ("text", "video", "out_dir", "seed")
#: Environment variable naming the hooks file; checked before the default locations.
HOOKS_ENV = "USD_SYNTH_HOOKS"
#: Default hooks files, in the order they are looked for.
DEFAULT_HOOKS_FILES: tuple[str, ...] = ("usd-synth-hooks.yaml", "~/.config/usd-synth/hooks.yaml")
#: Longest timeout a hook may declare (seconds): a day; generation jobs longer than that are not hooks.
MAX_TIMEOUT_S = 86_400.0
#: Lines of the command's stderr quoted in a failure message.
STDERR_TAIL_LINES = 3
#: Bytes of the command's output kept in memory (the rest goes to the log file only).
_TAIL_BYTES = 4096
#: Largest hooks file read (bytes): a declaration file, not a data set.
_MAX_HOOKS_FILE = 1 << 20

_HOOK_KEYS = {"kind", "command", "cwd", "timeout", "output", "format", "fps", "env", "description"}


@dataclass(frozen=True)
class Hook:
    """One declared external command that produces motion files."""

    name: str
    kind: str
    command: tuple[str, ...]
    output: str = "**/*"
    cwd: Path | None = None
    timeout: float = 600.0
    format: str | None = None
    fps: float | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def describe(self) -> str:
        """One line for ``usd-synth motion hooks``."""
        what = self.description or shlex.join(self.command)
        reader = self.format or "detected"
        return f"{self.name}\t{self.kind}\t{reader}\t{what}"


def _template_fields(word: str, where: str) -> set[str]:
    """The placeholder names one command word uses; unknown or positional ones are errors."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(word))
    except ValueError as exc:
        raise UsdSynthError(f"{where}: bad placeholder in {word!r} ({exc})") from None
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conv:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise UsdSynthError(f"{where}: unknown placeholder {{{name}}} in the command; known: {known}")
        names.add(name)
    return names


def parse_hook(name: str, spec: Any, where: str = "hook") -> Hook:
    """A :class:`Hook` from its declaration (a mapping), checked key by key."""
    where = f"{where} {name!r}"
    if not isinstance(spec, Mapping):
        raise UsdSynthError(f"{where} must be a mapping of settings, got {type(spec).__name__}")
    unknown = sorted(set(map(str, spec)) - _HOOK_KEYS)
    if unknown:
        raise UsdSynthError(
            f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(_HOOK_KEYS))}"
        )
    kind = spec.get("kind", "text")
    if kind not in HOOK_KINDS:
        raise UsdSynthError(f"{where}: kind must be one of {', '.join(HOOK_KINDS)}, got {kind!r}")
    command = spec.get("command")
    if isinstance(command, str):
        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise UsdSynthError(f"{where}: command cannot be split into words ({exc})") from None
    elif isinstance(command, list) and all(isinstance(w, str) for w in command):
        words = list(command)
    else:
        raise UsdSynthError(f"{where}: command must be a string or a list of strings")
    if not words:
        raise UsdSynthError(f"{where}: command is empty")
    used = set().union(*(_template_fields(w, where) for w in words))
    if "out_dir" not in used:
        raise UsdSynthError(f"{where}: command must pass {{out_dir}}, where its output files go")
    needed = "text" if kind == "text" else "video"
    if needed not in used:
        raise UsdSynthError(f"{where}: a {kind} hook's command must use {{{needed}}}")
    timeout = spec.get("timeout", 600.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT_S:
        raise UsdSynthError(f"{where}: timeout must be seconds in (0, {MAX_TIMEOUT_S:g}], got {timeout!r}")
    fps = spec.get("fps")
    if fps is not None and (
        isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000
    ):
        raise UsdSynthError(f"{where}: fps must be a frame rate in (0, 1000], got {fps!r}")
    env = spec.get("env") or {}
    if not isinstance(env, Mapping) or not all(isinstance(k, str) for k in env):
        raise UsdSynthError(f"{where}: env must be a mapping of variable names to values")
    output = spec.get("output", "**/*")
    if not isinstance(output, str) or not output or Path(output).is_absolute() or ".." in Path(output).parts:
        raise UsdSynthError(
            f"{where}: output must be a relative glob pattern under {{out_dir}}, got {output!r}"
        )
    fmt = spec.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise UsdSynthError(f"{where}: format must be a reader name")
    cwd = spec.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise UsdSynthError(f"{where}: cwd must be a folder path")
    return Hook(
        name=name,
        kind=kind,
        command=tuple(words),
        output=output,
        cwd=None if cwd is None else Path(cwd).expanduser(),
        timeout=float(timeout),
        format=fmt,
        fps=None if fps is None else float(fps),
        env={k: str(v) for k, v in env.items()},
        description=str(spec.get("description", "")),
    )


def find_hooks_file(explicit: str | Path | None = None) -> Path | None:
    """The hooks file to use: ``explicit``, else ``$USD_SYNTH_HOOKS``, else the first default that exists."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(HOOKS_ENV)
    if env:
        return Path(env)
    for candidate in DEFAULT_HOOKS_FILES:
        path = Path(candidate).expanduser()
        if path.is_file():
            return path
    return None


def load_hooks(path: str | Path | None = None) -> dict[str, Hook]:
    """The hooks declared in ``path`` (or the file :func:`find_hooks_file` finds; none -> empty)."""
    import yaml

    found = find_hooks_file(path)
    if found is None:
        return {}
    if not found.is_file():
        raise UsdSynthError("no such hooks file", found)
    if found.stat().st_size > _MAX_HOOKS_FILE:
        raise UsdSynthError(f"hooks file is larger than {_MAX_HOOKS_FILE} bytes", found)
    try:
        data = yaml.safe_load(found.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsdSynthError(f"not a valid YAML hooks file ({first})", found) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) - {"hooks"} or not isinstance(data.get("hooks", {}), dict):
        raise UsdSynthError("a hooks file holds one key, 'hooks', mapping names to hook settings", found)
    return {str(n): parse_hook(str(n), s, where=f"{found}: hook") for n, s in data.get("hooks", {}).items()}


def get_hook(name: str, path: str | Path | None = None) -> Hook:
    """The declared hook ``name``; an error listing the declared ones when it is missing."""
    hooks = load_hooks(path)
    if name not in hooks:
        where = find_hooks_file(path)
        known = ", ".join(hooks) or "none declared"
        hint = (
            f" in {where}"
            if where
            else f" (no hooks file: set ${HOOKS_ENV} or create {DEFAULT_HOOKS_FILES[0]})"
        )
        raise UsdSynthError(f"unknown hook {name!r}{hint}; known: {known}")
    return hooks[name]


def _fill(words: tuple[str, ...], values: Mapping[str, str]) -> list[str]:
    """Placeholders filled word by word (after splitting, so a value is never re-split or shell-parsed)."""
    return [w.format_map(values) for w in words]


def _tail(data: bytes, lines: int = STDERR_TAIL_LINES) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    last = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
    return " | ".join(last) if last else "(no output)"


def run_hook(hook: Hook, out_dir: Path, *, text: str = "", video: Path | None = None, seed: int = 0) -> Path:
    """Run ``hook`` writing into ``out_dir``; the output file it made (first glob match, sorted).

    The command runs in its own process group so that a timeout kills what it started too (a Python script
    that forks a data loader). Its stdout and stderr go to ``out_dir/hook.log``; a failure quotes the last
    lines of stderr.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    video_arg = "" if video is None else str(Path(video).resolve())
    values = {"text": text, "video": video_arg, "out_dir": str(out_dir), "seed": str(int(seed))}
    argv = _fill(hook.command, values)
    cwd = hook.cwd if hook.cwd is not None else out_dir
    if not cwd.is_dir():
        raise UsdSynthError(f"hook {hook.name!r}: working directory {cwd} does not exist")
    env = {**os.environ, **hook.env}
    log.info("hook %s: %s (in %s)", hook.name, shlex.join(argv), cwd)
    with tempfile.TemporaryFile() as err_file, tempfile.TemporaryFile() as out_file:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out_file,
                                    stderr=err_file, start_new_session=True)  # fmt: skip
        except OSError as exc:
            raise UsdSynthError(f"hook {hook.name!r}: cannot run {argv[0]!r} ({exc.strerror})") from None
        try:
            code = proc.wait(timeout=hook.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            err_file.seek(0)
            tail = _tail(err_file.read()[-_TAIL_BYTES:])
            raise UsdSynthError(
                f"hook {hook.name!r} timed out after {hook.timeout:g} s; stderr: {tail}"
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
        err_file.seek(0)
        err = err_file.read()
        out_file.seek(0)
        (out_dir / "hook.log").write_bytes(out_file.read() + err)
    if code != 0:
        tail = _tail(err[-_TAIL_BYTES:])
        raise UsdSynthError(f"hook {hook.name!r} failed with exit code {code}; stderr: {tail}")
    matches = sorted(p for p in out_dir.glob(hook.output) if p.is_file() and p.name != "hook.log")
    if not matches:
        raise UsdSynthError(
            f"hook {hook.name!r} succeeded but wrote no file matching {hook.output!r} in {out_dir}"
        )
    return matches[0]


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the command and everything it started; reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def motion_from_hook(hook: Hook, work_dir: Path, *, text: str = "", video: Path | None = None, seed: int = 0,
                     label: str | None = None) -> Motion:  # fmt: skip
    """Run ``hook`` and read its output with the project's readers; provenance records the hook."""
    from usd_synth.motion.readers import read_motion

    if hook.kind == "text" and not text.strip():
        raise UsdSynthError(f"hook {hook.name!r} generates from text: give a non-empty text prompt")
    if hook.kind == "video":
        if video is None:
            raise UsdSynthError(f"hook {hook.name!r} estimates from video: give a video file")
        if not Path(video).is_file():
            raise UsdSynthError("no such video file", video)
    produced = run_hook(hook, work_dir, text=text, video=video, seed=seed)
    motion = read_motion(produced, format=hook.format, fps=hook.fps)
    motion.source.update({"hook": hook.name, "hook_kind": hook.kind})
    if hook.kind == "text":
        motion.source["text"] = text
    else:
        motion.source["video"] = Path(video).name  # type: ignore[arg-type]
    if label is not None:
        motion.label = label
    elif not motion.label:
        motion.label = hook.name
    return motion
