"""The dataset config schema (pydantic v2) and its loader, which reports every problem at once.

A config says what to make (classes and their motion sources), how much (balancing against the user's real
clips), how (mixes, motion variation, bodies, the scene schema of :mod:`usd_synth.compose.config`, the
render settings) and where it goes (layouts, split). :func:`load_dataset_config` returns a validated
:class:`DatasetConfig` or raises :class:`ConfigErrors` with one line per problem, each naming its key path
(``classes.wave.sources.0.file: no such file``), so a user fixes a config in one pass instead of one error
per run.

Paths in the config (motion files and folders, the real dataset, a props folder) are relative to the
config file's folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from usd_synth.compose.config import Range, SceneConfig
from usd_synth.config_files import read_config_file
from usd_synth.errors import UsdSynthError

SPLITS = ("train", "val", "test")
LAYOUTS = ("tao", "videos", "coco", "skeletons", "passes")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg")
_CLASS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ConfigErrors(UsdSynthError):
    """Every problem of one config: ``problems`` holds one line per problem, each naming its key."""

    def __init__(self, problems: list[str], path: str | Path | None = None) -> None:
        self.problems = list(problems)
        where = f"{path}: " if path is not None else ""
        self.lines = [f"{where}{p}" for p in self.problems]
        super().__init__(f"{len(self.problems)} problem(s): " + "; ".join(self.problems), path)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: A closed interval a value is drawn from uniformly: the scene schema's own range type (one concept).
Interval = Range


class SourceSpec(_Model):
    """One motion source: a built-in action (``count`` seeds from ``seed``), a file, or a folder of files."""

    builtin: str | None = Field(None, description="a built-in action (usd-synth motion list)")
    count: int = Field(1, ge=1, le=1000, description="built-in: how many motions (consecutive seeds)")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="built-in: the first seed")
    file: str | None = Field(None, description="a motion file any reader reads (BVH, npz, npy, usd...)")
    folder: str | None = Field(None, description="every motion file directly inside this folder")
    format: str | None = Field(None, description="reader name, when the content alone does not tell")

    @model_validator(mode="after")
    def _one_kind(self) -> SourceSpec:
        given = [k for k in ("builtin", "file", "folder") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of builtin, file or folder")
        return self


class ClassSpec(_Model):
    sources: list[SourceSpec] = Field(min_length=1, description="the class's real motions")
    synthetic: list[SourceSpec] = Field(
        default_factory=list, description="generated motions, partners of synthetic-mix blends"
    )


class RealDataset(_Model):
    path: str = Field(description="folder of class folders of videos")
    extensions: list[str] = Field(default_factory=lambda: list(VIDEO_EXTENSIONS), min_length=1)


class QualityConfig(_Model):
    """Limits above which a blend is rejected (see :class:`usd_synth.motion.quality.QualityThresholds`)."""

    foot_skate: float = Field(0.2, gt=0, le=100)
    ground_penetration: float = Field(0.04, gt=0, le=10)
    floating: float = Field(0.1, gt=0, le=1)
    jerk: float = Field(2000.0, gt=0, le=1e7)
    joint_limit_violations: float = Field(0.05, ge=0, le=1)


class MixesConfig(_Model):
    real_mix: float = Field(0.5, ge=0, le=1, description="share of clips blended from two real motions")
    synthetic_mix: float = Field(0.2, ge=0, le=1, description="share blended real x synthetic")
    weights: list[float] | None = Field(None, min_length=1, description="weights drawn from (0 = source A)")
    weight_range: Interval = Field(default_factory=lambda: Interval(min=0.25, max=0.75))
    class_weights: dict[str, float] | None = Field(
        None, description="class -> the one weight of its blends (overrides weights/weight_range)"
    )
    alignment: Literal["dtw", "linear"] = "dtw"
    quality: QualityConfig = Field(default_factory=QualityConfig)
    on_reject: Literal["fallback", "keep"] = Field(
        "fallback", description="a rejected blend: use source A alone (fallback) or keep it, marked"
    )

    @model_validator(mode="after")
    def _checks(self) -> MixesConfig:
        if self.real_mix + self.synthetic_mix > 1 + 1e-9:
            raise ValueError("real_mix + synthetic_mix must not exceed 1")
        for w in self.weights or []:
            if not 0 <= w <= 1:
                raise ValueError(f"weights must lie in [0, 1], got {w}")
        if not (self.weight_range.min >= 0 and self.weight_range.max <= 1):
            raise ValueError("weight_range must lie in [0, 1]")
        for c, w in (self.class_weights or {}).items():
            if not 0 <= w <= 1:
                raise ValueError(f"class_weights.{c} must lie in [0, 1], got {w}")
        return self


class BalanceConfig(_Model):
    target: int | None = Field(None, ge=1, le=1_000_000, description="top every class up to this many")
    ratio: float | None = Field(None, gt=0, le=100, description="top up to ratio x the largest class")
    max_synthetic_per_class: int | None = Field(None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _one(self) -> BalanceConfig:
        if self.target is not None and self.ratio is not None:
            raise ValueError("give target or ratio, not both")
        return self


class Chance(_Model):
    probability: float = Field(0.0, ge=0, le=1)
    range: Interval = Field(default_factory=lambda: Interval(min=1.0, max=1.0))


class MirrorConfig(_Model):
    probability: float = Field(0.0, ge=0, le=1)
    pairs: dict[str, str] = Field(
        default_factory=dict, description="class -> class a mirrored motion becomes (both ways)"
    )


def _chance(p: float, lo: float, hi: float):
    return Field(default_factory=lambda: Chance(probability=p, range=Interval(min=lo, max=hi)))


class VariationConfig(_Model):
    tempo: Chance = _chance(0.5, 0.85, 1.15)
    amplitude: Chance = _chance(0.5, 0.8, 1.2)
    noise: Chance = _chance(0.3, 0.0, 2.0)
    mirror: MirrorConfig = Field(default_factory=MirrorConfig)

    @model_validator(mode="after")
    def _ranges(self) -> VariationConfig:
        for name, lo, hi in (("tempo", 0.25, 4.0), ("amplitude", 0.0, 3.0), ("noise", 0.0, 20.0)):
            r = getattr(self, name).range
            if r.min < lo or r.max > hi:
                raise ValueError(f"{name}.range must lie in [{lo}, {hi}]")
        return self


class BodiesConfig(_Model):
    model: Literal["anny"] = "anny"


class RenderConfig(_Model):
    backend: str = "pyrender"
    resolution: str = Field("320x240", pattern=r"^\d{1,5}x\d{1,5}$")
    fps: float = Field(30.0, gt=0, le=240)
    frames: int = Field(48, ge=2, le=10000, description="clip length; shorter motions give shorter clips")
    cameras_per_clip: int = Field(1, ge=1, le=16, description="views of each scene, one video each")
    passes: list[str] = Field(default_factory=lambda: ["rgb", "depth", "instance", "keypoints"])
    effects: dict[str, Any] | None = None


class OutputsConfig(_Model):
    layouts: list[Literal[LAYOUTS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["tao", "videos", "coco", "skeletons"], min_length=1
    )
    keep_scenes: bool = Field(False, description="keep each clip's USD stage under scenes/")


class SplitConfig(_Model):
    train: float = Field(0.8, ge=0, le=1)
    val: float = Field(0.1, ge=0, le=1)
    test: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> SplitConfig:
        if abs(self.train + self.val + self.test - 1.0) > 1e-6:
            raise ValueError("train + val + test must be 1")
        return self

    def fractions(self) -> dict[str, float]:
        return {s: getattr(self, s) for s in SPLITS if getattr(self, s) > 0}


class EvaluationConfig(_Model):
    """How ``usd-synth optimize --evaluator builtin`` scores a dataset (ignored by ``generate``)."""

    held_out: float = Field(0.5, gt=0, lt=1, description="share of each class's real motions held out")
    views: int = Field(4, ge=1, le=64, description="cameras each real motion is seen from")
    seeds: int = Field(3, ge=1, le=20, description="classifier trainings averaged per score")
    epochs: int = Field(150, ge=1, le=5000)


class DatasetConfig(_Model):
    seed: int = Field(0, ge=0, le=2**31 - 1)
    classes: dict[str, ClassSpec] = Field(min_length=1)
    real_dataset: RealDataset | None = None
    real_counts: dict[str, int] | None = Field(None, description="clips per class in the user's real set")
    mixes: MixesConfig = Field(default_factory=MixesConfig)
    balance: BalanceConfig = Field(default_factory=lambda: BalanceConfig(target=4))
    variation: VariationConfig = Field(default_factory=VariationConfig)
    bodies: BodiesConfig = Field(default_factory=BodiesConfig)
    scene: SceneConfig = Field(default_factory=SceneConfig)
    render: RenderConfig = Field(default_factory=RenderConfig)
    outputs: OutputsConfig = Field(default_factory=OutputsConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    max_clips: int = Field(100_000, ge=1, le=10_000_000, description="refuse plans larger than this")
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of the config: a folder made with another config is refused."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def scene_config(self) -> SceneConfig:
        """The scene schema with the clip length, frame rate and camera count of the render section."""
        data = self.scene.model_dump(mode="json")
        data["clip"] = {
            **data["clip"],
            "fps": self.render.fps,
            "frames": None,
            "max_frames": self.render.frames,
        }
        data["cameras"] = {**data["cameras"], "count": self.render.cameras_per_clip}
        return SceneConfig.model_validate(data)


# ---------------------------------------------------------------------------------------------------------
# loading: every problem at once
# ---------------------------------------------------------------------------------------------------------


def _key(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith(("function-", "Literal[")))]
    return ".".join(parts) or "config"


def _schema_problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        msg = msg.removeprefix("Value error, ")
        out.append(f"{_key(err['loc'])}: {msg}")
    return list(dict.fromkeys(out))


def _resolve(base: Path, text: str) -> Path:
    p = Path(text).expanduser()
    return p if p.is_absolute() else base / p


def _source_problems(cfg: DatasetConfig, base: Path) -> list[str]:
    from usd_synth.motion.library import ACTIONS

    out = []
    for cname, spec in cfg.classes.items():
        if not _CLASS_NAME.match(cname):
            out.append(f"classes.{cname}: class names are letters, digits, '_', '-', '.' (at most 64)")
        for group in ("sources", "synthetic"):
            for i, src in enumerate(getattr(spec, group)):
                key = f"classes.{cname}.{group}.{i}"
                if src.builtin is not None and src.builtin not in ACTIONS:
                    out.append(f"{key}.builtin: unknown action {src.builtin!r} (see usd-synth motion list)")
                if src.file is not None and not _resolve(base, src.file).is_file():
                    out.append(f"{key}.file: no such file: {_resolve(base, src.file)}")
                if src.folder is not None and not _resolve(base, src.folder).is_dir():
                    out.append(f"{key}.folder: no such folder: {_resolve(base, src.folder)}")
    return out


def _other_problems(cfg: DatasetConfig, base: Path) -> list[str]:
    from usd_synth.render.protocol import ALL_PASSES
    from usd_synth.render.registry import backend_names

    out = []
    names = set(cfg.classes)
    for a, b in cfg.variation.mirror.pairs.items():
        for side, name in (("key", a), ("value", b)):
            if name not in names:
                out.append(f"variation.mirror.pairs.{a}: {side} {name!r} is not a class")
    for name in cfg.mixes.class_weights or {}:
        if name not in names:
            out.append(f"mixes.class_weights.{name}: not a class")
    if cfg.real_counts is not None:
        if cfg.real_dataset is not None:
            out.append("real_counts: give real_dataset or real_counts, not both")
        for name, n in cfg.real_counts.items():
            if name not in names:
                out.append(f"real_counts.{name}: not a class")
            if n < 0:
                out.append(f"real_counts.{name}: must be at least 0")
    if cfg.real_dataset is not None and not _resolve(base, cfg.real_dataset.path).is_dir():
        out.append(f"real_dataset.path: no such folder: {_resolve(base, cfg.real_dataset.path)}")
    if cfg.balance.ratio is not None and cfg.real_dataset is None and not cfg.real_counts:
        out.append("balance.ratio: needs real clip counts (real_dataset or real_counts); use balance.target")
    if cfg.render.backend not in backend_names():
        out.append(
            f"render.backend: unknown backend {cfg.render.backend!r} (known: {', '.join(backend_names())})"
        )
    for p in cfg.render.passes:
        if p not in ALL_PASSES:
            out.append(f"render.passes: unknown pass {p!r} (known: {', '.join(ALL_PASSES)})")
    pictured = [layout for layout in ("tao", "videos", "coco") if layout in cfg.outputs.layouts]
    if pictured and "rgb" not in cfg.render.passes:
        out.append(f"render.passes: rgb is needed for the layouts {', '.join(pictured)}")
    if not pictured and "keypoints" not in cfg.render.passes:
        out.append("render.passes: keypoints is needed when no layout holds images")
    w, h = (int(v) for v in cfg.render.resolution.split("x"))
    if not (8 <= w <= 8192 and 8 <= h <= 8192):
        out.append(f"render.resolution: must be between 8 and 8192 pixels a side, got {w}x{h}")
    if cfg.render.effects is not None:
        from usd_synth.render.effects import effects_config

        try:
            effects_config(cfg.render.effects)
        except UsdSynthError as exc:
            out.append(f"render.effects: {exc.message}")
    if cfg.scene.props.user_dir is not None and not _resolve(base, cfg.scene.props.user_dir).is_dir():
        out.append(f"scene.props.user_dir: no such folder: {_resolve(base, cfg.scene.props.user_dir)}")
    return out


def dataset_config(data: Any, path: str | Path | None = None) -> DatasetConfig:
    """A validated :class:`DatasetConfig` from a mapping; :class:`ConfigErrors` lists every problem."""
    base = Path(path).resolve().parent if path is not None else Path.cwd()
    if isinstance(data, DatasetConfig):
        cfg = data
    else:
        if not isinstance(data, dict):
            raise ConfigErrors([f"config: must be a mapping, got {type(data).__name__}"], path)
        try:
            cfg = DatasetConfig.model_validate(data)
        except ValidationError as exc:
            raise ConfigErrors(_schema_problems(exc), path) from None
    problems = _source_problems(cfg, base) + _other_problems(cfg, base)
    if problems:
        raise ConfigErrors(problems, path)
    return cfg


def load_dataset_config(path: str | Path) -> DatasetConfig:
    """Read and validate a dataset config file; relative paths inside it are relative to its folder."""
    data = read_config_file(path)
    return dataset_config({} if data is None else data, path)


def config_base(path: str | Path | None) -> Path:
    """The folder relative paths of a config are resolved against."""
    return Path(path).resolve().parent if path is not None else Path.cwd()


def resolve_path(base: Path, text: str) -> Path:
    """A config path made absolute against ``base`` (the config file's folder)."""
    return _resolve(base, text)
