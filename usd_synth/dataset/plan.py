"""Job planning: a config -> sources per class, real clip counts, balancing, a split by source motion, and a
deterministic list of jobs (one scene each, ``cameras_per_clip`` clips).

Everything here is a pure function of the config (and the files it names), so the same config plans the
same jobs on any machine and with any worker count:

1. :func:`resolve_sources` lists each class's motions with stable ids (``builtin:walk:3``,
   ``file:mocap/walk_01.bvh`` relative to the config's folder);
2. :func:`real_counts` counts the user's real clips per class (class folders of videos, or given counts);
3. :func:`balance` decides how many synthetic clips each class gets (top up to a target or a ratio of the
   largest class, never flooding: SynthDa's point is a controlled top-up);
4. :func:`assign_splits` puts every source motion in exactly one split, so no motion's blends leak across
   train/val/test;
5. :func:`plan_jobs` draws each job's mix, partners, weight and mirroring from ``rng_for(seed, "plan",
   class, split, k)`` and names it by a hash of those inputs; the job's own randomness (variation, window,
   scene, body) comes later from ``rng_for(seed, "job", job id)``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from usd_synth.dataset.config import SPLITS, ConfigErrors, DatasetConfig, resolve_path
from usd_synth.randomize.seeding import rng_for

MIX_KINDS = ("real-mix", "synthetic-mix", "single")


@dataclass(frozen=True)
class SourceRef:
    """One source motion: how to load it, and where it came from."""

    id: str
    cls: str
    synthetic: bool
    builtin: str | None = None
    seed: int = 0
    path: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class Job:
    """One scene with one actor; renders ``cameras`` clips. ``sources`` are source ids (A, then B)."""

    id: str
    cls: str
    split: str
    mix: str
    sources: tuple[str, ...]
    weight: float | None
    mirrored: bool
    index: int
    seed: int
    cameras: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sources"] = list(self.sources)
        return d


@dataclass
class Plan:
    jobs: list[Job]
    sources: dict[str, SourceRef]
    real: dict[str, int]
    synthetic: dict[str, int]
    splits: dict[str, dict[str, int]]  #: split -> class -> clips
    source_splits: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def clips(self) -> int:
        return sum(j.cameras for j in self.jobs)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per class: real clips, synthetic clips planned, and the total after balancing."""
        made: dict[str, int] = {c: 0 for c in self.real}
        for j in self.jobs:
            made[j.cls] += j.cameras
        return {
            "real": dict(self.real),
            "synthetic": made,
            "total": {c: self.real[c] + made[c] for c in self.real},
        }


# ---------------------------------------------------------------------------------------------------------
# 1. sources
# ---------------------------------------------------------------------------------------------------------


def _file_id(path: Path, base: Path) -> str:
    try:
        return "file:" + path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return "file:" + path.resolve().as_posix()


def _folder_files(folder: Path) -> list[Path]:
    from usd_synth.motion.readers import detect_format

    found = []
    for p in sorted(folder.iterdir()):
        if p.is_file() and not p.name.startswith("."):
            try:
                detect_format(p)
            except Exception:  # noqa: BLE001 - not a motion file; folders hold notes, images...
                continue
            found.append(p)
    return found


def resolve_sources(cfg: DatasetConfig, base: Path) -> dict[str, SourceRef]:
    """Every source motion of every class, by id, in config order (real first, then synthetic)."""
    out: dict[str, SourceRef] = {}
    problems = []
    for cname, spec in cfg.classes.items():
        for group in ("sources", "synthetic"):
            synthetic = group == "synthetic"
            for i, src in enumerate(getattr(spec, group)):
                refs: list[SourceRef] = []
                if src.builtin is not None:
                    refs = [
                        SourceRef(f"builtin:{src.builtin}:{s}", cname, synthetic, builtin=src.builtin, seed=s)
                        for s in range(src.seed, src.seed + src.count)
                    ]
                else:
                    paths = (
                        [resolve_path(base, src.file)]
                        if src.file is not None
                        else _folder_files(resolve_path(base, src.folder))
                    )
                    if not paths:
                        problems.append(f"classes.{cname}.{group}.{i}.folder: holds no motion file")
                    refs = [
                        SourceRef(_file_id(p, base), cname, synthetic, path=str(p), format=src.format)
                        for p in paths
                    ]
                for r in refs:
                    if r.id in out and out[r.id].cls != cname:
                        other = out[r.id].cls
                        problems.append(f"classes.{cname}.{group}.{i}: {r.id} is already a source of {other}")
                    out.setdefault(r.id, r)
    if problems:
        raise ConfigErrors(problems)
    return out


# ---------------------------------------------------------------------------------------------------------
# 2-3. counts and balancing
# ---------------------------------------------------------------------------------------------------------


def real_counts(cfg: DatasetConfig, base: Path) -> dict[str, int]:
    """Clips per class in the user's real dataset (0 where none is given)."""
    counts = {c: 0 for c in cfg.classes}
    if cfg.real_counts:
        counts.update({c: int(n) for c, n in cfg.real_counts.items()})
    elif cfg.real_dataset is not None:
        root = resolve_path(base, cfg.real_dataset.path)
        exts = {e.lower() if e.startswith(".") else f".{e.lower()}" for e in cfg.real_dataset.extensions}
        for c in counts:
            folder = root / c
            if folder.is_dir():
                counts[c] = sum(1 for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in exts)
    return counts


def balance(cfg: DatasetConfig, real: dict[str, int]) -> dict[str, int]:
    """Synthetic clips per class: each class topped up to the target (or ratio x the largest class)."""
    b = cfg.balance
    if b.ratio is not None:
        target = math.ceil(b.ratio * max(real.values(), default=0))
        if target == 0:
            raise ConfigErrors(["balance.ratio: every class has 0 real clips; use balance.target"])
    else:
        target = int(b.target or 0)
    out = {}
    for c, n in real.items():
        extra = max(0, target - n)
        if b.max_synthetic_per_class is not None:
            extra = min(extra, b.max_synthetic_per_class)
        out[c] = extra
    total = sum(out.values())
    if total > cfg.max_clips:
        raise ConfigErrors([f"balance: the plan needs {total} clips, more than max_clips ({cfg.max_clips})"])
    return out


def _largest_remainder(n: int, fractions: dict[str, float]) -> dict[str, int]:
    raw = {k: n * f for k, f in fractions.items()}
    out = {k: int(math.floor(v)) for k, v in raw.items()}
    rest = n - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), SPLITS.index(k)))[:rest]:
        out[k] += 1
    return out


# ---------------------------------------------------------------------------------------------------------
# 4. splits
# ---------------------------------------------------------------------------------------------------------


def assign_splits(
    cfg: DatasetConfig, sources: dict[str, SourceRef], needed: dict[str, int]
) -> dict[str, str]:
    """Each source id -> its split. Per class the real motions are shuffled (``rng_for(seed, "split",
    class)``) and dealt by the split fractions, every split with a share getting at least one motion of a
    class that needs clips; synthetic partners are dealt the same way."""
    fractions = cfg.split.fractions()
    out: dict[str, str] = {}
    problems = []
    for cname in cfg.classes:
        for synthetic in (False, True):
            ids = [s.id for s in sources.values() if s.cls == cname and s.synthetic == synthetic]
            if not ids:
                continue
            order = rng_for(cfg.seed, "split", cname, "synthetic" if synthetic else "real").permutation(
                len(ids)
            )
            shares = _largest_remainder(len(ids), fractions)
            if not synthetic and needed.get(cname, 0) > 0:
                empty = [s for s in fractions if shares[s] == 0]
                if len(ids) < len(fractions):
                    problems.append(
                        f"split: class {cname} has {len(ids)} real motion(s), too few for the "
                        f"{len(fractions)} splits with a share ({', '.join(fractions)}); add sources or "
                        "set a split's share to 0"
                    )
                    continue
                for s in empty:  # take one from the split with the most
                    donor = max(shares, key=lambda k: (shares[k], -SPLITS.index(k)))
                    shares[donor] -= 1
                    shares[s] += 1
            k = 0
            for split in SPLITS:
                for _ in range(shares.get(split, 0)):
                    out[ids[int(order[k])]] = split
                    k += 1
    if problems:
        raise ConfigErrors(problems)
    return out


# ---------------------------------------------------------------------------------------------------------
# 5. jobs
# ---------------------------------------------------------------------------------------------------------


def job_id(payload: dict[str, Any]) -> str:
    """12 hex digits of the sha256 of the job's inputs (canonical JSON)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _mirror_partner(cfg: DatasetConfig, cname: str) -> str:
    pairs = cfg.variation.mirror.pairs
    for a, b in pairs.items():
        if cname == a:
            return b
        if cname == b:
            return a
    return cname


def plan_jobs(cfg: DatasetConfig, base: Path) -> Plan:
    """The whole plan (see the module docstring); :class:`ConfigErrors` when it cannot be made."""
    sources = resolve_sources(cfg, base)
    real = real_counts(cfg, base)
    synthetic = balance(cfg, real)
    source_splits = assign_splits(cfg, sources, synthetic)
    fractions = cfg.split.fractions()
    cams = cfg.render.cameras_per_clip
    weights = cfg.mixes.weights
    jobs: list[Job] = []
    splits: dict[str, dict[str, int]] = {s: {c: 0 for c in cfg.classes} for s in fractions}
    notes: list[str] = []

    def pool(cname: str, split: str, syn: bool) -> list[str]:
        return [i for i, s in sources.items() if s.cls == cname and s.synthetic == syn
                and source_splits.get(i) == split]  # fmt: skip

    for cname in cfg.classes:
        per_split = _largest_remainder(synthetic[cname], fractions)
        for split, n_clips in per_split.items():
            for k in range(math.ceil(n_clips / cams)):
                rng = rng_for(cfg.seed, "plan", cname, split, k)
                u_mirror, u_kind, u_weight = rng.random(3)
                picks = rng.integers(0, 2**31, size=3)
                mirrored = bool(u_mirror < cfg.variation.mirror.probability)
                owner = _mirror_partner(cfg, cname) if mirrored else cname
                reals, syns = pool(owner, split, False), pool(owner, split, True)
                if not reals:  # the partner class has no motion in this split: use the class's own
                    owner, reals, syns = cname, pool(cname, split, False), pool(cname, split, True)
                    notes.append(f"{cname}/{split}/{k}: mirror partner has no motion in {split}")
                a = reals[int(picks[0]) % len(reals)]
                mix, partners = "single", [a]
                if u_kind < cfg.mixes.real_mix and len(reals) >= 2:
                    others = [r for r in reals if r != a]
                    mix, partners = "real-mix", [a, others[int(picks[1]) % len(others)]]
                elif u_kind < cfg.mixes.real_mix + cfg.mixes.synthetic_mix and syns:
                    mix, partners = "synthetic-mix", [a, syns[int(picks[2]) % len(syns)]]
                weight = None
                class_weights = cfg.mixes.class_weights or {}
                if mix != "single":
                    if cname in class_weights:
                        weight = float(class_weights[cname])
                    elif weights:
                        weight = float(weights[int(u_weight * len(weights)) % len(weights)])
                    else:
                        lo, hi = cfg.mixes.weight_range.min, cfg.mixes.weight_range.max
                        weight = round(lo + (hi - lo) * float(u_weight), 4)
                n_cams = min(cams, n_clips - k * cams)
                payload = {"class": cname, "split": split, "mix": mix, "sources": partners, "weight": weight,
                           "mirrored": mirrored, "index": k, "seed": cfg.seed, "cameras": n_cams}  # fmt: skip
                jid = job_id(payload)
                seed = int(rng_for(cfg.seed, "job", jid).integers(0, 2**31))
                jobs.append(Job(jid, cname, split, mix, tuple(partners), weight, mirrored, k, seed, n_cams))
                splits[split][cname] += n_cams
    return Plan(jobs, sources, real, synthetic, splits, source_splits, notes)
