"""The optimizer's built-in evaluator: a tiny skeleton-sequence action classifier that trains on CPU in
seconds.

Clips are 2D keypoint sequences of the SMPL-24 skeleton (T, 24, 2) in pixels. :func:`normalise` makes them
invariant to where the person stands in the image and how large they appear (pelvis-centred, in torso
lengths, resampled to :data:`T_FIXED` frames) while keeping locomotion (the pelvis velocity). :class:`TinyTCN`
is a two-layer temporal convolution; :func:`train_and_score` trains it on some clips for a few seeds and
scores it on held-out ones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from usd_synth.errors import UsdSynthError
from usd_synth.skeleton import MIRROR, NUM_JOINTS

#: Frames every clip is resampled to.
T_FIXED = 32
PELVIS = 0
NECK = 12
#: Features per frame: 24 joints x (u, v) and the pelvis velocity (du, dv).
FEATURES = NUM_JOINTS * 2 + 2


def normalise(kp: np.ndarray) -> np.ndarray:
    """(T_FIXED, 50) float32 features of a clip ``kp`` (T, 24, 2).

    Linear resampling in time to :data:`T_FIXED` frames; each frame centred on the pelvis (joint 0); all
    scaled by the clip's median torso length (pelvis to neck, joint 12; 1 when unknown or zero); the pelvis
    velocity per resampled frame (same scale, 0 for the first frame) appended. NaN (unknown) values become 0.
    """
    x = np.asarray(kp, dtype=np.float64)
    if x.ndim != 3 or x.shape[1:] != (NUM_JOINTS, 2):
        raise UsdSynthError(f"keypoints must be (T, {NUM_JOINTS}, 2), got {x.shape}", field="keypoints")
    if x.shape[0] == 0:
        return np.zeros((T_FIXED, FEATURES), dtype=np.float32)
    x = np.where(np.isfinite(x), x, np.nan)
    t = x.shape[0]
    pos = np.linspace(0.0, t - 1, T_FIXED)
    i0 = np.minimum(np.floor(pos).astype(int), max(t - 2, 0))
    i1 = np.minimum(i0 + 1, t - 1)
    w = (pos - i0)[:, None, None]
    x = x[i0] * (1 - w) + x[i1] * w
    pelvis = x[:, PELVIS]  # (T_FIXED, 2)
    with np.errstate(invalid="ignore"):
        torso = np.linalg.norm(x[:, NECK] - pelvis, axis=-1)
    torso = torso[np.isfinite(torso)]
    scale = float(np.median(torso)) if torso.size else 1.0
    if not (np.isfinite(scale) and scale > 1e-6):
        scale = 1.0
    joints = (x - pelvis[:, None]) / scale
    vel = np.zeros_like(pelvis)
    vel[1:] = (pelvis[1:] - pelvis[:-1]) / scale
    out = np.concatenate([joints.reshape(T_FIXED, -1), vel], axis=1)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


class TinyTCN(nn.Module):
    """Two temporal convolutions (the second dilated), global average pooling, dropout, a linear head.

    Input (B, 50, T), output logits (B, classes).
    """

    def __init__(self, num_classes: int, in_features: int = FEATURES, width: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(in_features, width, kernel_size=5, padding=2)
        self.conv2 = nn.Conv1d(width, width, kernel_size=5, padding=4, dilation=2)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x))
        h = torch.relu(self.conv2(h))
        return self.head(self.dropout(h.mean(dim=-1)))


def _mirror_index() -> torch.Tensor:
    """Feature permutation of a horizontal flip: joint j takes its partner's (u, v); velocity stays."""
    idx = np.concatenate([(2 * MIRROR[:, None] + np.arange(2)).reshape(-1), [FEATURES - 2, FEATURES - 1]])
    return torch.as_tensor(idx, dtype=torch.long)


_SIGN_X = torch.tensor([-1.0, 1.0] * (FEATURES // 2))


def _augment(x: torch.Tensor, gen: torch.Generator, mirror: torch.Tensor) -> torch.Tensor:
    """Random horizontal flip (left/right swapped), scale in [0.9, 1.1], time shift of up to 2 frames
    (edge frames repeated) of features ``x`` (B, T, F)."""
    b, t, _ = x.shape
    flip = torch.rand(b, generator=gen) < 0.5
    flipped = x[..., mirror] * _SIGN_X
    x = torch.where(flip[:, None, None], flipped, x)
    x = x * (0.9 + 0.2 * torch.rand(b, 1, 1, generator=gen))
    shift = torch.randint(-2, 3, (b, 1), generator=gen)
    idx = (torch.arange(t)[None] + shift).clamp(0, t - 1)
    return torch.gather(x, 1, idx[..., None].expand(-1, -1, x.shape[-1]))


def _stack(clips: Sequence[np.ndarray]) -> torch.Tensor:
    if not len(clips):
        return torch.zeros((0, T_FIXED, FEATURES))
    return torch.as_tensor(np.stack([normalise(c) for c in clips]))


def _labels(y: Sequence[int], n: int, num_classes: int, field: str) -> torch.Tensor:
    arr = np.asarray(list(y), dtype=np.int64).reshape(-1)
    if arr.size != n:
        raise UsdSynthError(f"{field}: {arr.size} labels for {n} clips", field=field)
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise UsdSynthError(
            f"{field}: labels must lie in [0, {num_classes}), got {arr.min()}..{arr.max()}", field=field
        )
    return torch.as_tensor(arr)


def train_and_score(
    train_x: Sequence[np.ndarray],
    train_y: Sequence[int],
    test_x: Sequence[np.ndarray],
    test_y: Sequence[int],
    num_classes: int,
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int = 150,
    augment: bool = True,
    batch_size: int = 64,
) -> dict:
    """Train a :class:`TinyTCN` on ``train_x`` / ``train_y`` once per seed; accuracy on ``test_x``.

    Adam (lr 3e-3, weight decay 1e-4), mini-batches of ``batch_size``, class-balanced cross-entropy (a class
    absent from training gets weight 0), augmentation by flip / scale / time shift. One thread, restored
    afterwards; the same seed gives the same score. An empty training set scores the untrained network.

    Returns ``{"mean", "std", "scores", "seconds"}`` (accuracies in [0, 1]).
    Raises :class:`UsdSynthError` (``field="held_out"``) when there is no test clip.
    """
    start = time.perf_counter()
    if num_classes < 1:
        raise UsdSynthError(f"num_classes must be positive, got {num_classes}", field="num_classes")
    if not len(test_x):
        raise UsdSynthError("no held-out clip to score on", field="held_out")
    if not len(seeds):
        raise UsdSynthError("at least one seed is needed", field="seeds")
    xtr, xte = _stack(train_x), _stack(test_x)
    ytr = _labels(train_y, len(xtr), num_classes, "train_y")
    yte = _labels(test_y, len(xte), num_classes, "held_out")
    counts = torch.bincount(ytr, minlength=num_classes).double()
    present = counts > 0
    weight = torch.zeros(num_classes, dtype=torch.float64)
    weight[present] = counts.sum() / (present.sum() * counts[present])
    loss_fn = nn.CrossEntropyLoss(weight=weight.float())
    mirror = _mirror_index()
    xte_t = xte.transpose(1, 2).contiguous()

    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    scores: list[float] = []
    try:
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        for seed in seeds:
            torch.manual_seed(int(seed))
            gen = torch.Generator().manual_seed(int(seed))
            model = TinyTCN(num_classes)
            opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
            n = len(xtr)
            model.train()
            for _ in range(epochs if n else 0):
                order = torch.randperm(n, generator=gen)
                for lo in range(0, n, batch_size):
                    sel = order[lo : lo + batch_size]
                    xb = xtr[sel]
                    if augment:
                        xb = _augment(xb, gen, mirror)
                    loss = loss_fn(model(xb.transpose(1, 2)), ytr[sel])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
            model.eval()
            with torch.no_grad():
                pred = model(xte_t).argmax(dim=1)
            scores.append(float((pred == yte).double().mean()))
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    arr = np.asarray(scores)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std()),
        "scores": scores,
        "seconds": time.perf_counter() - start,
    }
