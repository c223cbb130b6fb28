"""The optional torch refinement lowers the closed-form residual on inconsistent (noisy) input."""

import numpy as np
import pytest

from usd_synth.motion.retarget import retarget_positions

from ..conftest import smooth_random_motion

pytest.importorskip("torch")


def test_refine_lowers_the_residual():
    m = smooth_random_motion(num_frames=40, seed=6)
    pos = m.joint_positions() + np.random.default_rng(1).normal(0, 0.01, (40, 24, 3))
    closed = retarget_positions(pos, m.fps)
    refined = retarget_positions(pos, m.fps, refine=True)
    assert refined.mpjpe < 0.95 * closed.mpjpe
    assert refined.motion.source["refined"] is True
    assert refined.motion.source["residual_closed_form_mpjpe_m"] == pytest.approx(closed.mpjpe, abs=1e-6)
    # Still one skeleton: bone lengths constant over time.
    p = refined.motion.joint_positions()
    from usd_synth.skeleton import SMPL_PARENTS

    lengths = np.linalg.norm(p[:, 1:] - p[:, SMPL_PARENTS[1:]], axis=-1)
    assert lengths.std(axis=0).max() < 1e-9


def test_cli_refine(tmp_path):
    from click.testing import CliRunner
    from usd_synth.cli.main import cli

    from ..inputs import humanml3d_joints

    m = smooth_random_motion(num_frames=30, fps=20, seed=2)
    joints = humanml3d_joints(m, noise=0.01, seed=4)
    np.save(tmp_path / "t2m.npy", joints)
    r = CliRunner().invoke(
        cli, ["motion", "import", str(tmp_path / "t2m.npy"), "-o", str(tmp_path / "r.usd"), "--refine"]
    )
    assert r.exit_code == 0, r.output
    from usd_synth.motion.readers import read_motion

    back = read_motion(tmp_path / "r.usd")
    assert back.source["refined"] is True
    assert back.source["residual_mpjpe_m"] < back.source["residual_closed_form_mpjpe_m"]
