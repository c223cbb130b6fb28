"""A corpus of bad command lines, over every command: each must fail cleanly.

Every case asserts: exit code 2; exactly one line on stderr, ``usd-synth: error: ...``, naming the file or
the option at fault; no traceback; nothing left behind where the output would have gone (no file, no
temporary file or folder); done within 10 s. The inputs are built by the tests (see ``conftest.py``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from usd_synth.cli.main import cli

LONG = "a" * 300

# ------------------------------------------------------------------------------ bad output locations ----
#: Commands that write one file; the output path is appended.
FILE_OUTPUT = {
    "import": ["motion", "import", "{in}/walk.usd", "-o"],
    "builtin": ["motion", "builtin", "walk", "-o"],
    "generate": ["motion", "generate", "--text", "x", "--hook", "h", "--hooks", "{in}/hooks.yaml", "-o"],
    "estimate": ["motion", "estimate", "{in}/text.txt", "--hook", "h", "--hooks", "{in}/hooks.yaml", "-o"],
    "body": ["body", "-o"],
    "actor": ["actor", "{in}/walk.usd", "--seed", "0", "-o"],
    "bake": ["bake", "{in}/walk.usd", "-o"],
    "blend": ["blend", "{in}/walk.usd", "{in}/run.usd", "--weight", "0.5", "-o"],
}
#: name -> (output argument(s), what the line must name)
BAD_FILES = {
    "is_folder": (["{work}/dir.usd"], "dir.usd"),
    "under_file": (["{work}/afile/x.usd"], "afile"),
    "under_file_deep": (["{work}/afile/sub/x.usd"], "afile"),
    "long_name": ([f"{{work}}/{LONG}.usd"], "name too long"),
    "long_folder": ([f"{{work}}/{LONG}/x.usd"], "name too long"),
    "bad_suffix": (["{work}/x.txt"], "x.txt"),
}
#: Commands that write a folder.
DIR_OUTPUT = {
    "fractal": ["fractal", "--classes", "1", "--clips-per-class", "1", "--size", "32", "--frames", "2", "-o"],
    "blend_weights": ["blend", "{in}/walk.usd", "{in}/run.usd", "--weights", "0.2,0.5", "-o"],
    "demo": ["demo", "-o"],
}
BAD_DIRS = {
    "is_file": (["{work}/afile"], "afile"),
    "not_empty": (["{work}/full"], "--overwrite"),
    "cwd": (["."], "working folder"),
    "cwd_overwrite": ([".", "--overwrite"], "working folder"),
    "parent_overwrite": (["..", "--overwrite"], "working folder"),
    "root_overwrite": (["/", "--overwrite"], "root"),
    "home_overwrite": (["{home}", "--overwrite"], "home folder"),
    "under_file": (["{work}/afile/x"], "afile"),
    "long_name": ([f"{{work}}/{LONG}"], "name too long"),
}

CASES: list[tuple[str, list[str], str]] = []
for cmd, head in FILE_OUTPUT.items():
    for bad, (tail, needle) in BAD_FILES.items():
        CASES.append((f"{cmd}-out-{bad}", head + tail, needle))
for cmd, head in DIR_OUTPUT.items():
    for bad, (tail, needle) in BAD_DIRS.items():
        CASES.append((f"{cmd}-out-{bad}", head + tail, needle))

# ---------------------------------------------------------------------------------- bad option values ----
O = ["-o", "{work}/out.usd"]
B = ["motion", "builtin", "walk", *O]
I = ["motion", "import"]  # noqa: E741
F = ["fractal", "-o", "{work}/set", "--size", "32", "--frames", "2"]
FC = [*F, "--classes", "1"]
BL = ["blend", "{in}/walk.usd", "{in}/run.usd"]
CASES += [
    # the group itself
    ("no-such-command", ["dance"], "dance"),
    ("no-such-option", ["--bogus"], "--bogus"),
    ("motion-no-such-command", ["motion", "dance"], "dance"),
    ("verbose-value", ["-v", "motion", "builtin"], "NAME"),
    # motion builtin
    ("builtin-unknown-name", ["motion", "builtin", "moonwalk", *O], "moonwalk"),
    ("builtin-no-output", ["motion", "builtin", "walk"], "--output"),
    ("builtin-no-name", ["motion", "builtin", *O], "NAME"),
    ("builtin-seconds-nan", [*B, "--seconds", "nan"], "--seconds"),
    ("builtin-seconds-inf", [*B, "--seconds", "inf"], "--seconds"),
    ("builtin-seconds-neg-inf", [*B, "--seconds", "-inf"], "--seconds"),
    ("builtin-seconds-negative", [*B, "--seconds", "-1"], "--seconds"),
    ("builtin-seconds-zero", [*B, "--seconds", "0"], "--seconds"),
    ("builtin-seconds-huge", [*B, "--seconds", "1e7"], "--seconds"),
    ("builtin-seconds-word", [*B, "--seconds", "long"], "--seconds"),
    ("builtin-fps-nan", [*B, "--fps", "nan"], "--fps"),
    ("builtin-fps-zero", [*B, "--fps", "0"], "--fps"),
    ("builtin-fps-negative", [*B, "--fps", "-5"], "--fps"),
    ("builtin-fps-huge", [*B, "--fps", "1e9"], "--fps"),
    ("builtin-fps-word", [*B, "--fps", "fast"], "--fps"),
    ("builtin-seed-negative", [*B, "--seed", "-1"], "--seed"),
    ("builtin-seed-word", [*B, "--seed", "abc"], "--seed"),
    ("builtin-seed-float", [*B, "--seed", "1.5"], "--seed"),
    ("builtin-seed-huge", [*B, "--seed", str(2**64)], "--seed"),
    ("builtin-unknown-option", [*B, "--speed", "2"], "--speed"),
    # motion import
    ("import-missing", [*I, "{in}/missing.npy", *O], "missing.npy"),
    ("import-empty", [*I, "{in}/empty.npy", *O], "empty.npy"),
    ("import-garbage", [*I, "{in}/garbage.npy", *O], "garbage.npy"),
    ("import-text", [*I, "{in}/text.txt", *O], "text.txt"),
    ("import-folder", [*I, "{in}/folder", *O], "folder"),
    ("import-nan", [*I, "{in}/nan.npy", *O], "nan.npy"),
    ("import-shape", [*I, "{in}/shape.npy", *O], "shape.npy"),
    ("import-empty-usd", [*I, "{in}/empty.usd", *O], "empty.usd"),
    ("import-garbage-usd", [*I, "{in}/garbage.usd", *O], "garbage.usd"),
    ("import-truncated-usd", [*I, "{in}/truncated.usd", *O], "truncated.usd"),
    ("import-fps-nan", [*I, "{in}/zeros.npy", *O, "--fps", "nan"], "--fps"),
    ("import-fps-negative", [*I, "{in}/zeros.npy", *O, "--fps", "-3"], "--fps"),
    ("import-fps-inf", [*I, "{in}/zeros.npy", *O, "--fps", "inf"], "--fps"),
    ("import-format-unknown", [*I, "{in}/walk.usd", *O, "--format", "fbx"], "fbx"),
    ("import-unit-unknown", [*I, "{in}/walk.usd", *O, "--unit", "furlong"], "--unit"),
    ("import-up-axis-unknown", [*I, "{in}/walk.usd", *O, "--up-axis", "w"], "--up-axis"),
    ("import-rig-unknown", [*I, "{in}/walk.usd", *O, "--rig", "nosuchrig"], "--rig"),
    ("import-target-fps-nan", [*I, "{in}/walk.usd", *O, "--target-fps", "nan"], "--target-fps"),
    ("import-joint-map-folder", [*I, "{in}/walk.usd", *O, "--joint-map", "{in}/folder"], "folder"),
    ("import-no-source", [*I, *O], "SRC"),
    # motion info / quality / formats
    ("info-missing", ["motion", "info", "{in}/missing.usd"], "missing.usd"),
    ("info-empty", ["motion", "info", "{in}/empty.usd"], "empty.usd"),
    ("info-garbage", ["motion", "info", "{in}/garbage.usd"], "garbage.usd"),
    ("info-truncated", ["motion", "info", "{in}/truncated.usd"], "truncated.usd"),
    ("info-folder", ["motion", "info", "{in}/folder"], "folder"),
    ("info-nan", ["motion", "info", "{in}/nan.npy"], "nan.npy"),
    ("info-format-unknown", ["motion", "info", "{in}/walk.usd", "--format", "fbx"], "fbx"),
    ("info-no-file", ["motion", "info"], "FILE"),
    ("quality-missing", ["motion", "quality", "{in}/missing.usd"], "missing.usd"),
    ("quality-empty", ["motion", "quality", "{in}/empty.usd"], "empty.usd"),
    ("quality-garbage", ["motion", "quality", "{in}/garbage.usd"], "garbage.usd"),
    ("quality-text", ["motion", "quality", "{in}/text.txt"], "text.txt"),
    ("quality-format-unknown", ["motion", "quality", "{in}/walk.usd", "--format", "x"], "walk.usd"),
    ("formats-extra-argument", ["motion", "formats", "extra"], "extra"),
    # motion generate / estimate / hooks
    ("generate-no-text", ["motion", "generate", "--hook", "h", *O], "--text"),
    ("generate-no-hook", ["motion", "generate", "--text", "x", *O], "--hook"),
    (
        "generate-unknown-hook",
        ["motion", "generate", "--text", "x", "--hook", "h", "--hooks", "{in}/hooks.yaml", *O],
        "'h'",
    ),  # fmt: skip
    (
        "generate-hooks-missing",
        ["motion", "generate", "--text", "x", "--hook", "h", "--hooks", "{in}/nohooks.yaml", *O],
        "nohooks.yaml",
    ),  # fmt: skip
    (
        "generate-hooks-bad-yaml",
        ["motion", "generate", "--text", "x", "--hook", "h", "--hooks", "{in}/bad_hooks.yaml", *O],
        "bad_hooks.yaml",
    ),  # fmt: skip
    (
        "generate-seed-negative",
        ["motion", "generate", "--text", "x", "--hook", "h", "--seed", "-2", *O],
        "--seed",
    ),  # fmt: skip
    (
        "estimate-unknown-hook",
        ["motion", "estimate", "{in}/text.txt", "--hook", "h", "--hooks", "{in}/hooks.yaml", *O],
        "'h'",
    ),  # fmt: skip
    ("estimate-no-video", ["motion", "estimate", "--hook", "h", *O], "VIDEO"),
    ("hooks-missing", ["motion", "hooks", "--hooks", "{in}/nohooks.yaml"], "nohooks.yaml"),
    ("hooks-bad-yaml", ["motion", "hooks", "--hooks", "{in}/bad_hooks.yaml"], "bad_hooks.yaml"),
    ("hooks-folder", ["motion", "hooks", "--hooks", "{in}/folder"], "folder"),
    # body
    ("body-model-unknown", ["body", *O, "--model", "mannequin"], "--model"),
    ("body-seed-negative", ["body", *O, "--seed", "-1"], "--seed"),
    ("body-seed-word", ["body", *O, "--seed", "x"], "--seed"),
    ("body-smpl-no-dir", ["body", *O, "--model", "smpl"], "--smpl-dir"),
    ("body-smpl-dir-missing", ["body", *O, "--model", "smpl", "--smpl-dir", "{in}/nosmpl"], "nosmpl"),
    ("body-smpl-dir-empty", ["body", *O, "--model", "smpl", "--smpl-dir", "{in}/folder"], "folder"),
    ("body-set-no-value", ["body", *O, "--set", "age"], "age"),
    ("body-set-unknown-key", ["body", *O, "--set", "wingspan=2"], "wingspan"),
    ("body-set-nan", ["body", *O, "--set", "age=nan"], "age"),
    ("body-set-out-of-range", ["body", *O, "--set", "age=5"], "age"),
    ("body-set-word", ["body", *O, "--set", "height=tall"], "height"),
    ("body-no-output", ["body"], "--output"),
    # actor
    ("actor-missing-motion", ["actor", "{in}/missing.usd", *O], "missing.usd"),
    ("actor-empty-motion", ["actor", "{in}/empty.usd", *O], "empty.usd"),
    ("actor-garbage-motion", ["actor", "{in}/garbage.usd", *O], "garbage.usd"),
    ("actor-nan-motion", ["actor", "{in}/nan.npy", *O], "nan.npy"),
    ("actor-body-missing", ["actor", "{in}/walk.usd", *O, "--body", "{in}/nobody.usd"], "nobody.usd"),
    ("actor-body-not-a-body", ["actor", "{in}/walk.usd", *O, "--body", "{in}/walk.usd"], "walk.usd"),
    ("actor-body-empty", ["actor", "{in}/walk.usd", *O, "--body", "{in}/empty.usd"], "empty.usd"),
    (
        "actor-body-and-seed",
        ["actor", "{in}/walk.usd", *O, "--body", "{in}/walk.usd", "--seed", "1"],
        "--seed",
    ),  # fmt: skip
    ("actor-seed-negative", ["actor", "{in}/walk.usd", *O, "--seed", "-1"], "--seed"),
    # bake
    ("bake-missing", ["bake", "{in}/missing.usd", *O], "missing.usd"),
    ("bake-empty", ["bake", "{in}/empty.usd", *O], "empty.usd"),
    ("bake-garbage", ["bake", "{in}/garbage.usd", *O], "garbage.usd"),
    ("bake-truncated", ["bake", "{in}/truncated.usd", *O], "truncated.usd"),
    ("bake-no-mesh", ["bake", "{in}/walk.usd", *O], "walk.usd"),
    ("bake-usda-output", ["bake", "{in}/walk.usd", "-o", "{work}/baked.usda"], "baked.usda"),
    ("bake-device-unknown", ["bake", "{in}/walk.usd", *O, "--device", "tpu"], "--device"),
    # blend
    ("blend-missing-a", ["blend", "{in}/missing.usd", "{in}/run.usd", *O, "--weight", "0.5"], "missing.usd"),
    ("blend-missing-b", ["blend", "{in}/walk.usd", "{in}/missing.usd", *O, "--weight", "0.5"], "missing.usd"),
    ("blend-empty-b", ["blend", "{in}/walk.usd", "{in}/empty.usd", *O, "--weight", "0.5"], "empty.usd"),
    ("blend-garbage-a", ["blend", "{in}/garbage.usd", "{in}/run.usd", *O, "--weight", "0.5"], "garbage.usd"),
    ("blend-weight-nan", [*BL, *O, "--weight", "nan"], "--weight"),
    ("blend-weight-inf", [*BL, *O, "--weight", "inf"], "--weight"),
    ("blend-weight-above", [*BL, *O, "--weight", "2"], "--weight"),
    ("blend-weight-below", [*BL, *O, "--weight", "-0.5"], "--weight"),
    ("blend-weight-word", [*BL, *O, "--weight", "half"], "--weight"),
    ("blend-weights-words", [*BL, "-o", "{work}/mix", "--weights", "a,b"], "--weights"),
    ("blend-weights-empty", [*BL, "-o", "{work}/mix", "--weights", ""], "--weights"),
    ("blend-weights-nan", [*BL, "-o", "{work}/mix", "--weights", "0.1,nan"], "--weights"),
    ("blend-weights-duplicate", [*BL, "-o", "{work}/mix", "--weights", "0.1,0.1"], "--weights"),
    ("blend-weights-above", [*BL, "-o", "{work}/mix", "--weights", "0.1,1.5"], "--weights"),
    ("blend-weight-and-weights", [*BL, *O, "--weight", "0.5", "--weights", "0.1"], "--weight"),
    ("blend-no-weight", [*BL, *O], "--weight"),
    ("blend-band-nan", [*BL, *O, "--weight", "0.5", "--band", "nan"], "--band"),
    ("blend-formula-unknown", [*BL, *O, "--weight", "0.5", "--formula", "lerp"], "--formula"),
    ("blend-align-unknown", [*BL, *O, "--weight", "0.5", "--align", "magic"], "--align"),
    ("blend-duration-unknown", [*BL, *O, "--weight", "0.5", "--duration", "c"], "--duration"),
    ("blend-synthda-dtw", [*BL, *O, "--weight", "0.5", "--formula", "synthda", "--align", "dtw"], "--align"),
    (
        "blend-synthda-duration",
        [*BL, *O, "--weight", "0.5", "--formula", "synthda", "--duration", "blend"],
        "--duration",
    ),  # fmt: skip
    ("blend-missing-b-arg", ["blend", "{in}/walk.usd", *O, "--weight", "0.5"], "B"),
    # validate
    ("validate-missing", ["validate", "--no-omni", "{in}/missing.usd"], "missing.usd"),
    ("validate-empty", ["validate", "--no-omni", "{in}/empty.usd"], "empty.usd"),
    ("validate-garbage", ["validate", "--no-omni", "{in}/garbage.usd"], "garbage.usd"),
    ("validate-truncated", ["validate", "--no-omni", "{in}/truncated.usd"], "truncated.usd"),
    ("validate-folder", ["validate", "--no-omni", "{in}/folder"], "folder"),
    ("validate-text", ["validate", "--no-omni", "{in}/text.txt"], "text.txt"),
    ("validate-no-files", ["validate"], "FILES"),
    # fractal
    ("fractal-no-classes", [*F], "--classes"),
    ("fractal-classes-zero", [*F, "--classes", "0"], "--classes"),
    ("fractal-classes-negative", [*F, "--classes", "-3"], "--classes"),
    ("fractal-classes-word", [*F, "--classes", "many"], "--classes"),
    ("fractal-clips-per-class-zero", [*FC, "--clips-per-class", "0"], "--clips-per-class"),
    ("fractal-clips-per-class-huge", [*FC, "--clips-per-class", "1000000000"], "--clips-per-class"),
    ("fractal-clips-per-class-float", [*FC, "--clips-per-class", "1e9"], "--clips-per-class"),
    (
        "fractal-classes-times-clips",
        [*F, "--classes", "100000", "--clips-per-class", "100"],
        "--clips-per-class",
    ),  # fmt: skip
    ("fractal-frames-one", [*FC, "--frames", "1"], "--frames"),
    ("fractal-frames-huge", [*FC, "--frames", "10000000"], "--frames"),
    ("fractal-size-small", [*FC, "--size", "8"], "--size"),
    ("fractal-size-odd", [*FC, "--size", "33"], "--size"),
    ("fractal-size-huge", [*FC, "--size", "100000"], "--size"),
    ("fractal-size-memory", [*FC, "--size", "8192", "--frames", "5000"], "--size"),
    ("fractal-fps-zero", [*FC, "--fps", "0"], "--fps"),
    ("fractal-points-zero", [*FC, "--points", "0"], "--points"),
    ("fractal-points-huge", [*FC, "--points", "1000000000"], "--points"),
    ("fractal-iterations-zero", [*FC, "--iterations", "0"], "--iterations"),
    ("fractal-iterations-huge", [*FC, "--iterations", "1000000000"], "--iterations"),
    ("fractal-format-unknown", [*FC, "--format", "gif"], "--format"),
    ("fractal-val-fraction-nan", [*FC, "--val-fraction", "nan"], "--val-fraction"),
    ("fractal-val-fraction-one", [*FC, "--val-fraction", "1"], "--val-fraction"),
    ("fractal-val-fraction-negative", [*FC, "--val-fraction", "-0.1"], "--val-fraction"),
    ("fractal-variation-p-above", [*FC, "--variation-p", "2"], "--variation-p"),
    ("fractal-variation-p-nan", [*FC, "--variation-p", "nan"], "--variation-p"),
    ("fractal-jitter-nan", [*FC, "--instance-jitter", "nan"], "--instance-jitter"),
    ("fractal-jitter-inf", [*FC, "--instance-jitter", "inf"], "--instance-jitter"),
    ("fractal-jitter-negative", [*FC, "--instance-jitter", "-1"], "--instance-jitter"),
    ("fractal-emulate-unknown", [*FC, "--emulate", "sparkle"], "--emulate"),
    ("fractal-emulate-missing", [*FC, "--emulate", "{in}/missing.json"], "--emulate"),
    ("fractal-emulate-deep", [*FC, "--emulate", "{in}/deep.json"], "deep.json"),
    ("fractal-emulate-huge", [*FC, "--emulate", "{in}/huge.json"], "huge.json"),
    ("fractal-emulate-list", [*FC, "--emulate", "{in}/list.json"], "list.json"),
    ("fractal-emulate-unknown-key", [*FC, "--emulate", "{in}/unknown_key.json"], "unknown_key.json"),
    ("fractal-emulate-bad-json", [*FC, "--emulate", "{in}/bad.json"], "bad.json"),
    ("fractal-workers-zero", [*FC, "--workers", "0"], "--workers"),
    ("fractal-workers-huge", [*FC, "--workers", "100000"], "--workers"),
    ("fractal-device-unknown", [*FC, "--device", "tpu"], "--device"),
    ("fractal-seed-negative", [*FC, "--seed", "-1"], "--seed"),
    ("fractal-unlabelled-no-clips", [*F, "--unlabelled"], "--clips"),
    ("fractal-unlabelled-clips-zero", [*F, "--unlabelled", "--clips", "0"], "--clips"),
    ("fractal-unlabelled-clips-huge", [*F, "--unlabelled", "--clips", "100000000"], "--clips"),
    ("fractal-unlabelled-and-classes", [*F, "--unlabelled", "--clips", "2", "--classes", "2"], "--classes"),
    ("fractal-clips-without-unlabelled", [*FC, "--clips", "2"], "--clips"),
    ("fractal-no-output", ["fractal", "--classes", "1"], "--output"),
    # demo
    ("demo-seed-negative", ["demo", "-o", "{work}/d", "--seed", "-1"], "--seed"),
    ("demo-seed-word", ["demo", "-o", "{work}/d", "--seed", "x"], "--seed"),
    ("demo-unknown-option", ["demo", "--fast"], "--fast"),
]


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize(("args", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_command_line(args: list[str], needle: str, inputs: Path, tmp_path: Path, monkeypatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "afile").write_text("mine\n")
    (work / "dir.usd").mkdir()
    (work / "full").mkdir()
    (work / "full" / "mine.txt").write_text("mine\n")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(work)
    if "{home}" in args:  # only there: other commands keep their caches (Anny's) in the real home
        monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("USD_SYNTH_HOOKS", raising=False)
    argv = [a.format(**{"in": inputs, "work": work, "home": home}) for a in args]
    before = _snapshot(tmp_path)
    start = time.monotonic()
    result = CliRunner().invoke(cli, argv)
    elapsed = time.monotonic() - start
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("usd-synth: error: "), lines[0]
    assert needle.format(**{"in": inputs}) in lines[0], lines[0]
    assert (
        "Traceback" not in result.output
        and not isinstance(result.exception, Exception)
        or isinstance(result.exception, SystemExit)
    )
    assert _snapshot(tmp_path) == before, "something was left behind"
    assert not [n for n in os.listdir(inputs) if ".usd-synth-" in n]
    assert elapsed < 10.0, f"took {elapsed:.1f} s"


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 170, len(CASES)
    assert len({c[0] for c in CASES}) == len(CASES), "case names must be unique"
