"""Tests of job planning (usd_synth.dataset.plan): deterministic, leak-free splits, balancing, mixes."""

from __future__ import annotations

import copy
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from usd_synth.dataset.config import SPLITS, ConfigErrors, dataset_config
from usd_synth.dataset.plan import Plan, assign_splits, balance, plan_jobs, real_counts, resolve_sources


def base(**over: Any) -> dict[str, Any]:
    """Two classes of built-in motions (5 real each, 3 synthetic walks), 6 clips a class."""
    data: dict[str, Any] = {
        "seed": 7,
        "classes": {
            "walk": {
                "sources": [{"builtin": "walk", "count": 5}],
                "synthetic": [{"builtin": "walk", "count": 3, "seed": 1000}],
            },
            "wave": {"sources": [{"builtin": "wave", "count": 5}]},
        },
        "balance": {"target": 6},
        "split": {"train": 0.6, "val": 0.2, "test": 0.2},
    }
    data.update(copy.deepcopy(over))
    return data


def plan_of(data: dict[str, Any], base_dir: Path | None = None) -> Plan:
    return plan_jobs(dataset_config(data), base_dir or Path.cwd())


def check_consistent(plan: Plan) -> None:
    """What holds for every plan: split counts, per-class counts and sources agree with the jobs."""
    made = Counter()
    by_split: dict[str, Counter] = {s: Counter() for s in plan.splits}
    for j in plan.jobs:
        assert j.split in plan.splits
        assert j.cameras >= 1
        made[j.cls] += j.cameras
        by_split[j.split][j.cls] += j.cameras
        for sid in j.sources:
            assert sid in plan.sources
            assert plan.source_splits[sid] == j.split, (j, plan.source_splits[sid])
        assert plan.sources[j.sources[0]].synthetic is False
        assert len(j.sources) == (1 if j.mix == "single" else 2)
        assert (j.weight is None) == (j.mix == "single")
    for c in plan.real:
        assert made[c] == plan.synthetic[c]
        assert sum(plan.splits[s][c] for s in plan.splits) == plan.synthetic[c]
        for s in plan.splits:
            assert by_split[s][c] == plan.splits[s][c]


# -------------------------------------------------------------------------------------- determinism ----
def test_planning_twice_gives_the_same_jobs() -> None:
    a, b = plan_of(base()), plan_of(base())
    assert a.jobs == b.jobs
    assert a.source_splits == b.source_splits
    assert [j.to_dict() for j in a.jobs] == [j.to_dict() for j in b.jobs]
    check_consistent(a)


def test_job_ids_are_unique_hashes() -> None:
    plan = plan_of(base(balance={"target": 40}))
    ids = [j.id for j in plan.jobs]
    assert len(ids) == 40 * 2
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 12 and int(i, 16) >= 0 for i in ids)
    assert len({j.seed for j in plan.jobs}) > len(ids) // 2


def test_the_seed_changes_the_ids() -> None:
    a, b = plan_of(base()), plan_of(base(seed=8))
    assert not {j.id for j in a.jobs} & {j.id for j in b.jobs}
    assert [j.seed for j in a.jobs] != [j.seed for j in b.jobs]


def test_the_plan_does_not_depend_on_the_working_folder(tmp_path: Path, monkeypatch) -> None:
    a = plan_of(base())
    monkeypatch.chdir(tmp_path)
    assert plan_of(base(), tmp_path).jobs == a.jobs


def test_source_ids_and_owners() -> None:
    sources = resolve_sources(dataset_config(base()), Path.cwd())
    assert list(sources)[:5] == [f"builtin:walk:{s}" for s in range(5)]
    assert [sources[f"builtin:walk:{s}"].synthetic for s in (0, 1000, 1002)] == [False, True, True]
    assert {r.cls for i, r in sources.items() if i.startswith("builtin:wave")} == {"wave"}
    assert len(sources) == 13


def test_a_source_of_two_classes_is_refused() -> None:
    data = base()
    data["classes"]["wave"]["sources"].append({"builtin": "walk", "seed": 4})
    with pytest.raises(ConfigErrors) as info:
        plan_of(data)
    assert info.value.problems[0].startswith("classes.wave.sources.1: builtin:walk:4")


# ---------------------------------------------------------------------------------------- splits ----
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_no_source_is_in_two_splits(seed: int) -> None:
    plan = plan_of(base(seed=seed, balance={"target": 30}))
    assert set(plan.source_splits) == set(plan.sources)  # every source has exactly one split
    assert set(plan.source_splits.values()) <= set(SPLITS)
    for c in ("walk", "wave"):  # every split with a share gets a real motion of every class
        real_splits = {s for i, s in plan.source_splits.items() if plan.sources[i].cls == c
                       and not plan.sources[i].synthetic}  # fmt: skip
        assert real_splits == {"train", "val", "test"}
    check_consistent(plan)
    used: dict[str, set[str]] = {}
    for j in plan.jobs:
        for sid in j.sources:
            used.setdefault(sid, set()).add(j.split)
    assert all(len(s) == 1 for s in used.values()), used


def test_split_shares_follow_the_fractions() -> None:
    plan = plan_of(base(balance={"target": 10}))
    for c in ("walk", "wave"):
        assert [plan.splits[s][c] for s in SPLITS] == [6, 2, 2]
    shares = Counter(s for i, s in plan.source_splits.items() if i.startswith("builtin:wave"))
    assert shares == {"train": 3, "val": 1, "test": 1}


def test_too_few_motions_for_the_splits() -> None:
    data = base()
    data["classes"]["wave"]["sources"] = [{"builtin": "wave", "count": 2}]
    with pytest.raises(ConfigErrors) as info:
        plan_of(data)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("split: class wave has 2 real motion(s)")


def test_too_few_motions_is_fine_for_a_class_that_needs_no_clips() -> None:
    data = base(real_counts={"wave": 50})
    data["classes"]["wave"]["sources"] = [{"builtin": "wave", "count": 2}]
    plan = plan_of(data)
    assert plan.synthetic["wave"] == 0
    assert not [j for j in plan.jobs if j.cls == "wave"]


def test_a_zero_share_split_gets_no_clips() -> None:
    data = base(split={"train": 0.5, "val": 0.5, "test": 0.0}, balance={"target": 9})
    data["classes"]["wave"]["sources"] = [{"builtin": "wave", "count": 2}]  # enough for two splits
    plan = plan_of(data)
    assert set(plan.splits) == {"train", "val"}
    assert "test" not in plan.source_splits.values()
    assert {j.split for j in plan.jobs} == {"train", "val"}
    assert plan.splits["train"]["wave"] + plan.splits["val"]["wave"] == 9
    check_consistent(plan)


def test_assign_splits_directly() -> None:
    cfg = dataset_config(base())
    sources = resolve_sources(cfg, Path.cwd())
    out = assign_splits(cfg, sources, {"walk": 1, "wave": 1})
    assert out == assign_splits(cfg, sources, {"walk": 1, "wave": 1})
    assert set(out) == set(sources)
    other = assign_splits(dataset_config(base(seed=8)), sources, {"walk": 1, "wave": 1})
    # another seed deals the motions differently (the counts per split stay)
    assert Counter(out.values()) == Counter(other.values())


# --------------------------------------------------------------------------------------- balance ----
def test_balance_to_a_target() -> None:
    plan = plan_of(base(real_counts={"walk": 2, "wave": 10}, balance={"target": 6}))
    assert plan.real == {"walk": 2, "wave": 10}
    assert plan.synthetic == {"walk": 4, "wave": 0}
    counts = plan.counts()
    assert counts["total"] == {"walk": 6, "wave": 10}
    assert not [j for j in plan.jobs if j.cls == "wave"]
    check_consistent(plan)


def test_balance_without_real_counts_gives_every_class_the_target() -> None:
    plan = plan_of(base(balance={"target": 5}))
    assert plan.real == {"walk": 0, "wave": 0}
    assert plan.counts()["total"] == {"walk": 5, "wave": 5}


@pytest.mark.parametrize(("ratio", "expected"), [(1.0, {"walk": 4, "wave": 0}), (1.5, {"walk": 8, "wave": 4}),
                                                 (0.25, {"walk": 0, "wave": 0})])  # fmt: skip
def test_balance_to_a_ratio_of_the_largest_class(ratio: float, expected: dict[str, int]) -> None:
    data = base(real_counts={"walk": 3, "wave": 7}, balance={"ratio": ratio})
    target = math.ceil(ratio * 7)
    assert expected == {c: max(0, target - n) for c, n in {"walk": 3, "wave": 7}.items()}
    plan = plan_of(data)
    assert plan.synthetic == expected
    check_consistent(plan)


def test_ratio_with_no_real_clips_is_refused() -> None:
    cfg = dataset_config(base(real_counts={"walk": 0, "wave": 0}, balance={"ratio": 1.0}))
    with pytest.raises(ConfigErrors) as info:
        balance(cfg, {"walk": 0, "wave": 0})
    assert info.value.problems[0].startswith("balance.ratio")


def test_max_synthetic_per_class_caps() -> None:
    plan = plan_of(
        base(real_counts={"walk": 1, "wave": 8}, balance={"target": 10, "max_synthetic_per_class": 3})
    )
    assert plan.synthetic == {"walk": 3, "wave": 2}
    assert plan.counts()["total"] == {"walk": 4, "wave": 10}
    check_consistent(plan)


def test_max_synthetic_zero_makes_nothing() -> None:
    plan = plan_of(base(balance={"target": 10, "max_synthetic_per_class": 0}))
    assert plan.jobs == []
    assert plan.clips == 0


def test_real_dataset_counts_video_files_only(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "walk" / "nested").mkdir(parents=True)
    for name in ("a.mp4", "b.avi", "notes.txt", "C.MKV", ".hidden.json"):
        (real / "walk" / name).write_bytes(b"")
    (real / "walk" / "nested" / "d.mov").write_bytes(b"")
    (real / "walk" / "folder.mp4").mkdir()  # a folder, not a clip
    (real / "dance").mkdir()  # not a class: ignored
    (real / "dance" / "x.mp4").write_bytes(b"")
    data = base(real_dataset={"path": "real"}, balance={"target": 6})
    cfg = dataset_config(data, tmp_path / "c.yaml")
    assert real_counts(cfg, tmp_path) == {"walk": 4, "wave": 0}
    plan = plan_jobs(cfg, tmp_path)
    assert plan.synthetic == {"walk": 2, "wave": 6}


def test_real_dataset_extensions(tmp_path: Path) -> None:
    real = tmp_path / "real" / "wave"
    real.mkdir(parents=True)
    for name in ("a.mp4", "b.avi", "c.webm"):
        (real / name).write_bytes(b"")
    cfg = dataset_config(
        base(real_dataset={"path": "real", "extensions": ["avi", ".WEBM"]}), tmp_path / "c.yaml"
    )
    assert real_counts(cfg, tmp_path) == {"walk": 0, "wave": 2}


def test_too_many_clips_is_refused() -> None:
    with pytest.raises(ConfigErrors) as info:
        plan_of(base(balance={"target": 6}, max_clips=11))
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("balance: the plan needs 12 clips")
    assert len(plan_of(base(balance={"target": 6}, max_clips=12)).jobs) == 12


# ------------------------------------------------------------------------------------------ mixes ----
def test_real_mix_one_blends_two_distinct_real_sources() -> None:
    data = base(mixes={"real_mix": 1.0, "synthetic_mix": 0.0}, balance={"target": 20},
                split={"train": 0.5, "val": 0.5, "test": 0.0})  # fmt: skip
    data["classes"]["walk"]["sources"] = [{"builtin": "walk", "count": 4}]
    data["classes"]["wave"]["sources"] = [{"builtin": "wave", "count": 4}]
    plan = plan_of(data)
    assert len(plan.jobs) == 40
    for j in plan.jobs:
        assert j.mix == "real-mix"
        a, b = j.sources
        assert a != b
        assert not plan.sources[a].synthetic and not plan.sources[b].synthetic
        assert plan.sources[a].cls == plan.sources[b].cls == j.cls
    check_consistent(plan)


def test_real_mix_needs_two_sources_in_the_split() -> None:
    data = base(mixes={"real_mix": 1.0, "synthetic_mix": 0.0}, balance={"target": 6})
    data["classes"]["wave"]["sources"] = [{"builtin": "wave", "count": 3}]  # one per split
    plan = plan_of(data)
    assert {j.mix for j in plan.jobs if j.cls == "wave"} == {"single"}
    check_consistent(plan)


def test_synthetic_mix_one_uses_a_synthetic_partner() -> None:
    data = base(mixes={"real_mix": 0.0, "synthetic_mix": 1.0}, balance={"target": 12},
                split={"train": 1.0, "val": 0.0, "test": 0.0})  # fmt: skip
    plan = plan_of(data)
    walk = [j for j in plan.jobs if j.cls == "walk"]
    assert len(walk) == 12
    for j in walk:
        assert j.mix == "synthetic-mix"
        a, b = j.sources
        assert not plan.sources[a].synthetic and plan.sources[b].synthetic
        assert plan.sources[b].cls == "walk"
    # wave has no synthetic source: single
    assert {j.mix for j in plan.jobs if j.cls == "wave"} == {"single"}
    assert len({j.sources[1] for j in walk}) > 1
    check_consistent(plan)


def test_mix_shares_are_roughly_followed() -> None:
    data = base(mixes={"real_mix": 0.5, "synthetic_mix": 0.3}, balance={"target": 300},
                split={"train": 1.0, "val": 0.0, "test": 0.0})  # fmt: skip
    kinds = Counter(j.mix for j in plan_of(data).jobs if j.cls == "walk")
    assert 100 <= kinds["real-mix"] <= 200
    assert 50 <= kinds["synthetic-mix"] <= 130
    assert 30 <= kinds["single"] <= 100


def test_weights_come_from_the_list() -> None:
    weights = [0.1, 0.35, 0.9]
    data = base(mixes={"real_mix": 0.6, "synthetic_mix": 0.4, "weights": weights}, balance={"target": 40})
    plan = plan_of(data)
    drawn = [j.weight for j in plan.jobs if j.mix != "single"]
    assert len(drawn) > 30
    assert set(drawn) == set(weights)
    check_consistent(plan)


def test_weights_respect_the_range() -> None:
    data = base(mixes={"real_mix": 0.6, "synthetic_mix": 0.4, "weight_range": {"min": 0.3, "max": 0.4}},
                balance={"target": 40})  # fmt: skip
    plan = plan_of(data)
    drawn = [j.weight for j in plan.jobs if j.mix != "single"]
    assert len(drawn) > 30
    assert all(0.3 <= w <= 0.4 for w in drawn), drawn
    assert len(set(drawn)) > 10
    fixed = plan_of(
        base(mixes={"real_mix": 1.0, "synthetic_mix": 0.0, "weight_range": {"min": 0.5, "max": 0.5}})
    )
    assert {j.weight for j in fixed.jobs if j.mix != "single"} == {0.5}


# ----------------------------------------------------------------------------------------- mirror ----
def test_mirrored_jobs_draw_from_the_partner_class() -> None:
    data = {
        "seed": 1,
        "classes": {
            "wave_left": {"sources": [{"builtin": "wave", "count": 3}]},
            "wave_right": {"sources": [{"builtin": "wave", "count": 3, "seed": 100}]},
        },
        "balance": {"target": 9},
        "variation": {"mirror": {"probability": 1.0, "pairs": {"wave_left": "wave_right"}}},
        "mixes": {"real_mix": 0.0, "synthetic_mix": 0.0},
    }
    plan = plan_of(data)
    assert len(plan.jobs) == 18
    for j in plan.jobs:
        assert j.mirrored
        other = "wave_right" if j.cls == "wave_left" else "wave_left"  # pairs work both ways
        assert {plan.sources[s].cls for s in j.sources} == {other}, j
    assert plan.notes == []
    check_consistent(plan)


def test_unmirrored_and_unpaired_jobs_use_their_own_class() -> None:
    data = base(variation={"mirror": {"probability": 1.0, "pairs": {}}})
    plan = plan_of(data)
    assert all(j.mirrored for j in plan.jobs)
    assert all(plan.sources[s].cls == j.cls for j in plan.jobs for s in j.sources)
    plan = plan_of(base(variation={"mirror": {"probability": 0.0, "pairs": {"walk": "wave"}}}))
    assert not any(j.mirrored for j in plan.jobs)
    assert all(plan.sources[s].cls == j.cls for j in plan.jobs for s in j.sources)


def test_mirror_partner_without_motions_in_the_split_falls_back() -> None:
    data = {
        "classes": {
            "wave_left": {"sources": [{"builtin": "wave", "count": 3}]},
            "wave_right": {"sources": [{"builtin": "wave", "count": 2, "seed": 100}]},
        },
        "real_counts": {"wave_right": 100},  # needs no clips, so it may miss a split
        "balance": {"target": 6},
        "variation": {"mirror": {"probability": 1.0, "pairs": {"wave_left": "wave_right"}}},
    }
    plan = plan_of(data)
    missing = set(plan.splits) - {
        s for i, s in plan.source_splits.items() if plan.sources[i].cls == "wave_right"
    }
    assert missing  # 2 motions cannot cover 3 splits
    for j in plan.jobs:
        owner = {plan.sources[s].cls for s in j.sources}
        assert owner == ({"wave_left"} if j.split in missing else {"wave_right"})
    assert plan.notes
    check_consistent(plan)


# ---------------------------------------------------------------------------------------- cameras ----
@pytest.mark.parametrize("target", [1, 5, 6, 11])
def test_cameras_per_clip(target: int) -> None:
    plan = plan_of(base(balance={"target": target}, render={"cameras_per_clip": 2}))
    for c in ("walk", "wave"):
        jobs = [j for j in plan.jobs if j.cls == c]
        assert sum(j.cameras for j in jobs) == target == plan.synthetic[c]
        assert all(j.cameras in (1, 2) for j in jobs)
        for s in plan.splits:
            n = plan.splits[s][c]
            assert len([j for j in jobs if j.split == s]) == math.ceil(n / 2)
    assert plan.clips == 2 * target
    assert plan.counts()["synthetic"] == {"walk": target, "wave": target}
    check_consistent(plan)
