"""Optional torch refinement of a closed-form retargeting (``--refine``, the ``refine`` extra).

The closed form aims every bone exactly, so its only error comes from bones whose length varies in the
input. Refinement trades a little of that exactness per bone for a lower error overall: it adjusts each
local rotation by a small correction, the root path, and one length per bone (the skeleton stays one
skeleton for the whole sequence), minimising the position error with light smoothness and size priors.
"""

from __future__ import annotations

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
from usd_synth.rotations import matrix_to_quat, quat_to_matrix
from usd_synth.skeleton import NUM_JOINTS, SMPL_PARENTS

_Y = np.array([0.0, 1.0, 0.0])


def _torch():
    try:
        import torch
    except ImportError:
        raise UsdSynthError("refine needs torch: pip install 'usd-synth[refine]'", field="refine") from None
    return torch


def local_to_world_torch(local, offsets, root_translation, parents=SMPL_PARENTS):
    """The torch twin of :func:`usd_synth.kinematics.local_to_world` (same chain, differentiable).

    ``local`` (T, J, 3, 3) local rotations, ``offsets`` (J, 3) rest offsets, ``root_translation`` (T, 3)
    the root's path; returns world rotations (T, J, 3, 3) and positions (T, J, 3). Kept here, apart from
    the numpy chain, because autograd needs torch operations and lists rather than in-place writes.
    """
    torch = _torch()
    world_r = [local[:, 0]]
    world_p = [root_translation]
    for j in range(1, len(parents)):
        p = parents[j]
        world_p.append(world_p[p] + world_r[p] @ offsets[j])
        world_r.append(world_r[p] @ local[:, j])
    return torch.stack(world_r, 1), torch.stack(world_p, 1)


def refine_retarget(
    motion: Motion,
    positions: np.ndarray,
    measured: np.ndarray,
    end_sites: dict[int, np.ndarray] | None = None,
    iterations: int = 30,
    smooth_weight: float = 1e-3,
    size_weight: float = 1e-4,
) -> tuple[Motion, float]:
    """Refine ``motion`` (a closed-form retargeting of ``positions``); returns it and its new MPJPE (m)."""
    torch = _torch()
    end_sites = end_sites or {}
    dt = torch.float64
    target = torch.tensor(positions, dtype=dt)
    meas = torch.tensor(np.nonzero(measured)[0])
    local0 = torch.tensor(quat_to_matrix(motion.rotations), dtype=dt)
    trans0 = torch.tensor(motion.translation, dtype=dt)
    offsets0 = torch.tensor(motion.offsets, dtype=dt)
    sites = {
        j: (torch.tensor(s, dtype=dt), float(np.median(np.linalg.norm(s - positions[:, j], axis=-1))))
        for j, s in end_sites.items()
    }
    t_len = motion.num_frames

    corr = torch.zeros((t_len, NUM_JOINTS, 3), dtype=dt, requires_grad=True)
    dtrans = torch.zeros((t_len, 3), dtype=dt, requires_grad=True)
    log_len = torch.zeros(NUM_JOINTS, dtype=dt, requires_grad=True)

    def rodrigues(v):
        angle = torch.sqrt((v * v).sum(-1, keepdim=True) + 1e-20)
        k = v / angle
        kx, ky, kz = k.unbind(-1)
        zero = torch.zeros_like(kx)
        kmat = torch.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], -1).reshape(v.shape + (3,))
        eye = torch.eye(3, dtype=dt).expand(v.shape[:-1] + (3, 3))
        s, c = torch.sin(angle)[..., None], torch.cos(angle)[..., None]
        return eye + s * kmat + (1 - c) * kmat @ kmat

    def forward():
        local = rodrigues(corr) @ local0
        offsets = offsets0 * torch.exp(log_len)[:, None]
        world_r, world_p = local_to_world_torch(local, offsets, trans0 + dtrans)
        return world_r, world_p, local, offsets

    def residuals(world_r, world_p):
        errs = [(world_p[:, meas] - target[:, meas]).norm(dim=-1)]
        for j, (site, length) in sites.items():
            tip = world_p[:, j] + world_r[:, j] @ torch.tensor(_Y * length, dtype=dt)
            errs.append((tip - site).norm(dim=-1)[:, None])
        return torch.cat(errs, 1)

    opt = torch.optim.LBFGS(
        [corr, dtrans, log_len], lr=1.0, max_iter=iterations, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        world_r, world_p, _, _ = forward()
        loss = (residuals(world_r, world_p) ** 2).mean()
        loss = loss + smooth_weight * ((corr[1:] - corr[:-1]) ** 2).mean() + size_weight * (corr**2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        world_r, world_p, local, offsets = forward()
        mpjpe = float(residuals(world_r, world_p).mean())
        out = motion.copy()
        out.rotations = matrix_to_quat(local.numpy())
        out.translation = (trans0 + dtrans).numpy().copy()
        out.offsets = offsets.numpy().copy()
    out.__post_init__()
    out.source["residual_closed_form_mpjpe_m"] = motion.source.get("residual_mpjpe_m")
    out.source["residual_mpjpe_m"] = round(mpjpe, 6)
    out.source["refined"] = True
    return out, mpjpe
