"""Errors in library terms: :class:`UsdSynthError` names fields (``size``), never command-line flags; the
CLI tells the same error in its own flags (``--size``), see ``usd_synth.cli.common.in_flag_terms``."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import click
import numpy as np
import pytest
from usd_synth.cli.common import Command, flag_for, in_flag_terms

import usd_synth
from usd_synth.errors import UsdSynthError

LIBRARY = Path(usd_synth.__file__).parent
#: A flag as the CLI spells it: ``--size``, ``-o`` (not a negative number, not a word with a hyphen).
FLAG = re.compile(r"(?:^|[\s(\"'])--?[A-Za-z]")


# ------------------------------------------------------------------------------------ the exception ----
def test_one_line_with_path_field_and_mentions() -> None:
    exc = UsdSynthError(
        "the folder is not empty;\n pass overwrite  to replace it", "/data/out", field="out_dir",
        mentions=("overwrite",),
    )  # fmt: skip
    assert str(exc) == "/data/out: the folder is not empty; pass overwrite to replace it"
    assert exc.message == "the folder is not empty; pass overwrite to replace it"
    assert exc.path == Path("/data/out") and exc.field == "out_dir" and exc.mentions == ("overwrite",)
    assert exc.fields == ("out_dir", "overwrite")
    plain = UsdSynthError("bad")
    assert str(plain) == "bad" and plain.field is None and plain.fields == () and plain.path is None


def test_pickles_with_its_field() -> None:
    """Errors cross process boundaries (worker pools) with their field, so the CLI can still name the flag."""
    exc = UsdSynthError("size must be at least 16 (got 8)", "cfg.json", field="size", mentions=("fps",))
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is UsdSynthError and str(back) == str(exc)
    assert (back.message, back.path, back.field, back.mentions) == (exc.message, exc.path, "size", ("fps",))


# ----------------------------------------------------------------------------- library checks ----
def _fractal_spec(**kw):
    from usd_synth.fractal.dataset import FractalDatasetSpec

    return FractalDatasetSpec(**{"classes": 1, "clips_per_class": 1, "size": 32, "frames": 4, **kw})


def _raise(case: str, tmp_path: Path) -> None:
    """Call the library the way a config-driven caller would, with one bad value."""
    if case == "size":
        _fractal_spec(size=8).validate()
    elif case == "clips_per_class":
        _fractal_spec(clips_per_class=0).validate()
    elif case == "workers":
        from usd_synth.fractal.dataset import generate_dataset

        generate_dataset(_fractal_spec(), tmp_path / "out", workers=0)
    elif case == "out_dir":
        from usd_synth.fractal.dataset import generate_dataset

        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "mine.txt").write_text("x")
        generate_dataset(_fractal_spec(), tmp_path / "full")
    elif case == "emulation":
        from usd_synth.fractal.emulation import load_emulation

        load_emulation("sparkle")
    elif case == "smpl_dir":
        from usd_synth.body import make_body

        make_body("smpl", 0)
    elif case == "overrides":
        from usd_synth.body.shapes import parse_overrides

        parse_overrides(["age"])
    elif case == "weights":
        from usd_synth.motion.blend import check_weights

        check_weights([0.2, 2.0], "weights")
    elif case == "align_method":
        from usd_synth.motion.align import align
        from usd_synth.motion.library import make_motion

        walk = make_motion("walk", seconds=0.5)
        align(walk, walk, method="warp")
    elif case == "seconds":
        from usd_synth.motion.library import make_motion

        make_motion("walk", seconds=-1)
    elif case == "fps":
        from usd_synth.motion.readers import read_motion

        np.save(tmp_path / "j.npy", np.zeros((4, 22, 3)))
        read_motion(tmp_path / "j.npy", format="humanml3d", fps=-3)
    else:
        raise AssertionError(case)


@pytest.mark.parametrize(
    "field",
    ["size", "clips_per_class", "workers", "out_dir", "emulation", "smpl_dir", "overrides", "weights",
     "align_method", "seconds", "fps"],
)  # fmt: skip
def test_library_errors_name_the_field_and_no_flag(field: str, tmp_path: Path) -> None:
    with pytest.raises(UsdSynthError) as info:
        _raise(field, tmp_path)
    exc = info.value
    assert exc.field == field
    assert not FLAG.search(str(exc)), str(exc)
    assert "\n" not in str(exc)
    if field != "out_dir":  # a path error: the path names what is wrong
        assert re.search(rf"(?<![\w-]){field}(?![\w-])", exc.message), exc.message


def _error_texts(node: ast.expr) -> list[str]:
    """The literal text of an error message expression (f-string parts included)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value for v in node.values if isinstance(v, ast.Constant))]
    if isinstance(node, ast.BinOp):
        return _error_texts(node.left) + _error_texts(node.right)
    return []


def test_no_library_error_message_names_a_flag() -> None:
    """Every ``UsdSynthError(...)`` written in the library: its message has no ``--flag`` (or ``-o``)."""
    bad = []
    for path in sorted(LIBRARY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "UsdSynthError"):
                continue
            for text in _error_texts(node.args[0]) if node.args else []:
                if FLAG.search(text):
                    bad.append(f"{path.relative_to(LIBRARY)}:{node.lineno}: {text!r}")
    assert not bad, "library errors must name fields, not CLI flags:\n" + "\n".join(bad)


# ---------------------------------------------------------------------------------- in flag terms ----
@click.command(cls=Command, field_flags={"out_dir": "--output"})
@click.argument("src")
@click.option("-o", "--output", "out")
@click.option("--size", type=int)
@click.option("--format", "video_format")
@click.option("--clips-per-class", type=int)
@click.option("--overwrite", is_flag=True)
@click.option("--device")
def _command(**_: object) -> None:
    """A command with the usual kinds of option."""


@pytest.mark.parametrize(
    ("exc", "told"),
    [
        (UsdSynthError("size must be at least 16 (got 8)", field="size"),
         "--size must be at least 16 (got 8)"),
        (UsdSynthError("video_format must be mp4 or png (got gif)", field="video_format"),
         "--format must be mp4 or png (got gif)"),
        (UsdSynthError("clips_per_class must be at least 1", field="clips_per_class"),
         "--clips-per-class must be at least 1"),
        (UsdSynthError("device tpu: unknown device (use cpu)", field="device"),
         "--device tpu: unknown device (use cpu)"),
        (UsdSynthError("the folder is not empty; pass overwrite to replace it", "/x", field="out_dir",
                       mentions=("overwrite",)),
         "/x: --output: the folder is not empty; pass --overwrite to replace it"),
        (UsdSynthError("size must be even; or use video_format png", field="size",
                       mentions=("video_format",)),
         "--size must be even; or use --format png"),
        (UsdSynthError("must be at least 1 (got 0)", field="workers"),
         "--workers: must be at least 1 (got 0)"),
        (UsdSynthError("burn_in must be in [0, iterations)", field="burn_in"),
         "--burn-in must be in [0, iterations)"),
        (UsdSynthError("src: file is empty", field="src"), "SRC: file is empty"),
        (UsdSynthError("size of [size] in size.json and resize", field="size"),
         "--size of [size] in size.json and resize"),
        (UsdSynthError("file is empty", "/a.npy"), "/a.npy: file is empty"),
    ],
)  # fmt: skip
def test_in_flag_terms(exc: UsdSynthError, told: str) -> None:
    assert in_flag_terms(exc, _command) == told


def test_flag_for_without_a_command_uses_dashes() -> None:
    assert flag_for("clips_per_class", None) == "--clips-per-class"
    assert in_flag_terms(UsdSynthError("size must be even", field="size"), None) == "--size must be even"
