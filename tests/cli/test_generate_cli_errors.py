"""``usd-synth generate`` / ``init-config`` on bad input: one ``usd-synth: error:`` line per problem, exit 2,
nothing written. Nothing here renders: every generate run fails before its jobs, or is a ``--dry-run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from usd_synth.cli.main import cli

from usd_synth.dataset.builder import DATASET_FILE, prepare_folder
from usd_synth.dataset.config import dataset_config, load_dataset_config
from usd_synth.dataset.template import template_text
from usd_synth.errors import UsdSynthError

TINY = Path(__file__).resolve().parents[2] / "examples" / "tiny.yaml"
PREFIX = "usd-synth: error: "


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _good() -> dict:
    return {
        "classes": {
            "walk": {"sources": [{"builtin": "walk", "count": 3}]},
            "wave": {"sources": [{"builtin": "wave", "count": 3}]},
        },
        "balance": {"target": 2},
    }


def _run(args: list[str], cwd: Path, monkeypatch):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(cli, [str(a) for a in args])


def _error_lines(result) -> list[str]:
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith(PREFIX) for line in lines), lines
    assert "Traceback" not in result.output
    return lines


@pytest.fixture
def work(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


# -------------------------------------------------------------------------------------------- generate ----
def test_three_problems_give_three_lines(work: Path, monkeypatch) -> None:
    data = _good()
    data["render"] = {"fsp": 24, "resolution": "big"}
    data["split"] = {"train": 1.5, "val": 0.0, "test": 0.0}
    bad = work / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    before = _snapshot(work)
    result = _run(["generate", bad, "-o", work / "out"], work, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = _error_lines(result)
    assert len(lines) == 3, lines
    keys = sorted(line.removeprefix(PREFIX).removeprefix(f"{bad}: ").split(": ")[0] for line in lines)
    assert keys == ["render.fsp", "render.resolution", "split.train"]
    assert all("bad.yaml" in line for line in lines)
    assert not (work / "out").exists()
    assert _snapshot(work) == before


def test_semantic_problems_give_one_line_each(work: Path, monkeypatch) -> None:
    data = _good()
    data["classes"]["walk"]["sources"].append({"file": "missing.bvh"})
    data["classes"]["wave"]["sources"][0]["builtin"] = "levitate"
    data["render"] = {"backend": "povray"}
    data["real_counts"] = {"dance": 2}
    bad = work / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = _run(["generate", bad, "-o", work / "out", "--dry-run"], work, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = _error_lines(result)
    assert len(lines) == 4, lines
    for key in ("classes.walk.sources.1.file", "classes.wave.sources.0.builtin", "render.backend",
                "real_counts.dance"):  # fmt: skip
        assert sum(key in line for line in lines) == 1, (key, lines)
    assert result.stdout == ""


def test_plan_problem_is_one_line(work: Path, monkeypatch) -> None:
    data = _good()
    data["max_clips"] = 3
    cfg = work / "big.yaml"
    cfg.write_text(yaml.safe_dump(data))
    result = _run(["generate", cfg, "-o", work / "out"], work, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = _error_lines(result)
    assert len(lines) == 1 and "balance" in lines[0] and "max_clips" in lines[0], lines
    assert not (work / "out").exists()


@pytest.mark.parametrize(
    ("text", "needle"),
    [("seed: [unclosed\nclasses: {\n", "not readable as yaml or json"), ("- 1\n- 2\n", "must be a mapping"),
     ("\x00\x01garbage: : :\n\t- [", "garbage.yaml")],
    ids=["unclosed", "a-list", "binary"],
)  # fmt: skip
def test_unreadable_config_is_one_line(text: str, needle: str, work: Path, monkeypatch) -> None:
    path = work / "garbage.yaml"
    path.write_text(text)
    before = _snapshot(work)
    result = _run(["generate", path, "-o", work / "out"], work, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = _error_lines(result)
    assert len(lines) == 1, lines
    assert needle in lines[0].lower() and "garbage.yaml" in lines[0], lines
    assert _snapshot(work) == before


def test_bad_json_config(work: Path, monkeypatch) -> None:
    path = work / "c.json"
    path.write_text('{"classes": ')
    result = _run(["generate", path, "--dry-run"], work, monkeypatch)
    assert result.exit_code == 2
    assert len(_error_lines(result)) == 1


def test_missing_config_file(work: Path, monkeypatch) -> None:
    result = _run(["generate", work / "nope.yaml", "-o", work / "out"], work, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = _error_lines(result)
    assert len(lines) == 1 and "nope.yaml" in lines[0], lines
    assert _snapshot(work) == set()


def test_config_is_a_folder(work: Path, monkeypatch) -> None:
    (work / "conf.yaml").mkdir()
    result = _run(["generate", work / "conf.yaml", "--dry-run"], work, monkeypatch)
    assert result.exit_code == 2
    assert len(_error_lines(result)) == 1


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_workers_below_one(workers: str, work: Path, monkeypatch) -> None:
    cfg = work / "good.yaml"
    cfg.write_text(yaml.safe_dump(_good()))
    before = _snapshot(work)
    result = _run(["generate", cfg, "-o", work / "out", "--workers", workers], work, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = _error_lines(result)
    assert len(lines) == 1 and "--workers" in lines[0], lines
    assert not (work / "out").exists()
    assert _snapshot(work) == before


def test_max_failures_negative(work: Path, monkeypatch) -> None:
    cfg = work / "good.yaml"
    cfg.write_text(yaml.safe_dump(_good()))
    result = _run(["generate", cfg, "-o", work / "out", "--max-failures", "-1"], work, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = _error_lines(result)
    assert len(lines) == 1 and "--max-failures" in lines[0], lines
    assert not (work / "out").exists()


def test_unknown_executor(work: Path, monkeypatch) -> None:
    cfg = work / "good.yaml"
    cfg.write_text(yaml.safe_dump(_good()))
    result = _run(["generate", cfg, "-o", work / "out", "--executor", "bogus"], work, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = _error_lines(result)
    assert len(lines) == 1 and "--executor" in lines[0] and "bogus" in lines[0], lines
    assert not (work / "out").exists()


def test_no_output_without_dry_run(work: Path, monkeypatch) -> None:
    cfg = work / "good.yaml"
    cfg.write_text(yaml.safe_dump(_good()))
    result = _run(["generate", cfg], work, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = _error_lines(result)
    assert len(lines) == 1 and "--output" in lines[0] and "--dry-run" in lines[0], lines


def test_dry_run_prints_the_plan_and_writes_nothing(work: Path, monkeypatch) -> None:
    out = work / "tiny_dataset"
    result = _run(["generate", TINY, "-o", out, "--dry-run"], work, monkeypatch)
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stderr.strip() == ""
    text = result.stdout
    lines = text.splitlines()
    header = lines[0].split()
    assert header == ["class", "real", "synthetic", "total"]
    rows = {ln.split()[0]: ln.split()[1:] for ln in lines[1:3]}
    assert rows == {"walk": ["0", "4", "4"], "wave": ["0", "4", "4"]}
    assert "clips by split" in text and "mixes" in text
    assert "8 jobs, 8 clips; estimate:" in text and "min on one worker" in text and "MB" in text
    assert not out.exists()
    assert _snapshot(work) == set()


def test_dry_run_without_output(work: Path, monkeypatch) -> None:
    result = _run(["generate", TINY, "--dry-run"], work, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "estimate" in result.stdout
    assert _snapshot(work) == set()


# ----------------------------------------------------------------------------------------- init-config ----
def test_init_config_prints_a_valid_config(work: Path, monkeypatch) -> None:
    result = _run(["init-config"], work, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.stdout == template_text()
    assert dataset_config(yaml.safe_load(result.stdout)).classes
    assert _snapshot(work) == set()


def test_init_config_writes_a_file_once(work: Path, monkeypatch) -> None:
    target = work / "my.yaml"
    first = _run(["init-config", "-o", target], work, monkeypatch)
    assert first.exit_code == 0, first.output
    assert target.read_text() == template_text()
    assert load_dataset_config(target).classes
    target.write_text("# mine\n" + template_text())
    again = _run(["init-config", "-o", target], work, monkeypatch)
    assert again.exit_code == 2, again.output
    lines = _error_lines(again)
    assert len(lines) == 1 and "--overwrite" in lines[0] and "my.yaml" in lines[0], lines
    assert target.read_text().startswith("# mine\n")  # untouched
    forced = _run(["init-config", "-o", target, "--overwrite"], work, monkeypatch)
    assert forced.exit_code == 0, forced.output
    assert target.read_text() == template_text()
    assert _snapshot(work) == {"my.yaml"}  # no temporary file left


def test_init_config_output_under_a_file(work: Path, monkeypatch) -> None:
    (work / "afile").write_text("x")
    result = _run(["init-config", "-o", work / "afile" / "c.yaml"], work, monkeypatch)
    assert result.exit_code == 2, result.output
    assert len(_error_lines(result)) == 1
    assert _snapshot(work) == {"afile"}


# ------------------------------------------------------------------------------- the dataset folder ----
@pytest.fixture
def cfg():
    return dataset_config(_good())


def test_prepare_folder_refuses_other_files(tmp_path: Path, cfg) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("mine")
    with pytest.raises(UsdSynthError) as info:
        prepare_folder(out, cfg, resume=False, overwrite=False)
    assert "other files" in info.value.message and info.value.field == "out"
    with pytest.raises(UsdSynthError):
        prepare_folder(out, cfg, resume=True, overwrite=False)  # resume does not adopt a foreign folder
    assert _snapshot(out) == {"mine.txt"}


def test_prepare_folder_refuses_another_config(tmp_path: Path, cfg) -> None:
    out = tmp_path / "out"
    out.mkdir()
    other = dataset_config({**_good(), "seed": 1})
    assert other.fingerprint() != cfg.fingerprint()
    (out / DATASET_FILE).write_text(json.dumps({"fingerprint": other.fingerprint()}))
    for resume in (False, True):
        with pytest.raises(UsdSynthError) as info:
            prepare_folder(out, cfg, resume=resume, overwrite=False)
        assert "different config" in info.value.message
    assert _snapshot(out) == {DATASET_FILE}


def test_prepare_folder_with_an_unreadable_dataset_json(tmp_path: Path, cfg) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / DATASET_FILE).write_text("{not json")
    with pytest.raises(UsdSynthError):
        prepare_folder(out, cfg, resume=True, overwrite=False)
    assert (out / DATASET_FILE).read_text() == "{not json"


def test_prepare_folder_same_config_needs_resume(tmp_path: Path, cfg) -> None:
    out = tmp_path / "out"
    (out / "videos").mkdir(parents=True)
    (out / "videos" / "clip.mp4").write_bytes(b"x")
    (out / DATASET_FILE).write_text(json.dumps({"fingerprint": cfg.fingerprint()}))
    with pytest.raises(UsdSynthError) as info:
        prepare_folder(out, cfg, resume=False, overwrite=False)
    assert "resume" in info.value.message and set(info.value.mentions) == {"resume", "overwrite"}
    before = _snapshot(out)
    prepare_folder(out, cfg, resume=True, overwrite=False)  # resume keeps what is there
    assert _snapshot(out) == before


def test_prepare_folder_overwrite_empties_it(tmp_path: Path, cfg) -> None:
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "mine.txt").write_text("mine")
    (out / DATASET_FILE).write_text(json.dumps({"fingerprint": "0" * 64}))
    prepare_folder(out, cfg, resume=False, overwrite=True)
    assert out.is_dir()
    assert list(out.iterdir()) == []


def test_prepare_folder_new_or_empty(tmp_path: Path, cfg) -> None:
    new = tmp_path / "a" / "b"
    prepare_folder(new, cfg, resume=False, overwrite=False)
    assert new.is_dir() and list(new.iterdir()) == []
    prepare_folder(new, cfg, resume=False, overwrite=False)  # empty: fine again
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(UsdSynthError):
        prepare_folder(afile, cfg, resume=False, overwrite=True)
    assert afile.read_text() == "x"
