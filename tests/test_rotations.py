import numpy as np
from scipy.spatial.transform import Rotation

from usd_synth.rotations import (
    axis_angle_to_quat,
    make_continuous,
    matrix_to_quat,
    quat_angle,
    quat_apply,
    quat_conj,
    quat_mul,
    quat_to_axis_angle,
    quat_to_matrix,
)


def _random(n, seed):
    return Rotation.random(n, random_state=seed).as_quat()


def test_matches_scipy_conventions():
    q1, q2 = _random(500, 1), _random(500, 2)
    r1, r2 = Rotation.from_quat(q1), Rotation.from_quat(q2)
    np.testing.assert_allclose(quat_to_matrix(q1), r1.as_matrix(), atol=1e-12)
    np.testing.assert_allclose(quat_to_matrix(quat_mul(q1, q2)), (r1 * r2).as_matrix(), atol=1e-12)
    v = np.random.default_rng(0).normal(size=(500, 3))
    np.testing.assert_allclose(quat_apply(q1, v), r1.apply(v), atol=1e-12)
    np.testing.assert_allclose(quat_to_matrix(quat_conj(q1)), r1.inv().as_matrix(), atol=1e-12)


def test_matrix_and_axis_angle_round_trips():
    q = _random(1000, 3)
    back = matrix_to_quat(quat_to_matrix(q))
    assert np.all(quat_angle(q, back) < 1e-7)
    assert np.all(back[:, 3] >= 0)
    aa = Rotation.from_quat(q).as_rotvec()
    np.testing.assert_allclose(quat_to_axis_angle(q), aa, atol=1e-10)
    assert np.all(quat_angle(axis_angle_to_quat(aa), q) < 1e-7)
    # Small angles stay accurate (no 0/0).
    tiny = np.array([[1e-12, 0.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(quat_to_axis_angle(axis_angle_to_quat(tiny)), tiny, atol=1e-15)


def test_make_continuous_removes_sign_flips():
    q = np.tile(_random(1, 4), (10, 1))
    q[3::2] *= -1
    c = make_continuous(q)
    assert np.all(np.sum(c[1:] * c[:-1], axis=-1) > 0)
    assert np.all(quat_angle(c, q) < 1e-7)
