"""SMPL bodies from user model files; a synthetic file of SMPL's structure stands in for the real one."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from click.testing import CliRunner
from usd_synth.cli.main import cli

from usd_synth.body import make_body
from usd_synth.body.smpl_body import find_model_file, load_model, shaped_rest, smpl_body
from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import rest_positions_from_offsets
from usd_synth.skeleton import SMPL_PARENTS, template_offsets
from usd_synth.usd.body_io import read_body, write_body

V, F = 6890, 13776


def fake_smpl(rng: np.random.Generator, sparse_regressor: bool = True) -> dict:
    """Random contents, SMPL's structure: a 1.7 m column of points around SMPL-like joints (Y up)."""
    joints = rest_positions_from_offsets(template_offsets()) - [0.0, 0.93, 0.0]  # pelvis at the origin
    owner = rng.integers(0, 24, V)
    v_template = joints[owner] + rng.normal(scale=0.04, size=(V, 3))
    weights = rng.random((V, 24)) ** 8
    weights[np.arange(V), owner] += 2.0
    weights /= weights.sum(axis=1, keepdims=True)
    regressor = np.zeros((24, V))
    for j in range(24):
        members = np.nonzero(owner == j)[0][:20]
        regressor[j, members] = 1.0 / len(members)
    kintree = np.stack([SMPL_PARENTS, np.arange(24)]).astype(np.int64)
    kintree[0, 0] = 4294967295  # what the real files hold for the root's parent
    return {
        "v_template": v_template,
        "shapedirs": rng.normal(scale=0.01, size=(V, 3, 10)),
        "posedirs": rng.normal(scale=0.001, size=(V, 3, 207)).astype(np.float32),
        "J_regressor": scipy.sparse.csc_matrix(regressor) if sparse_regressor else regressor,
        "weights": weights,
        "kintree_table": kintree,
        "f": rng.integers(0, V, size=(F, 3)).astype(np.uint32),
    }


@pytest.fixture(scope="module")
def smpl_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("smpl")
    with open(d / "SMPL_NEUTRAL.pkl", "wb") as fh:
        pickle.dump(fake_smpl(np.random.default_rng(0)), fh, protocol=2)
    (d / "smpl").mkdir()
    female = fake_smpl(np.random.default_rng(1), sparse_regressor=False)
    np.savez(d / "smpl" / "SMPL_FEMALE.npz", **female)
    return d


def test_loads_pkl_and_npz(smpl_dir: Path) -> None:
    assert find_model_file(smpl_dir).name == "SMPL_NEUTRAL.pkl"
    assert find_model_file(smpl_dir, "female").name == "SMPL_FEMALE.npz"
    data = load_model(find_model_file(smpl_dir))
    assert data["J_regressor"].shape == (24, V) and data["weights"].shape == (V, 24)
    female = load_model(find_model_file(smpl_dir, "female"))
    assert not np.allclose(female["v_template"], data["v_template"])


def test_shape_from_betas(smpl_dir: Path) -> None:
    path = find_model_file(smpl_dir)
    data = load_model(path)
    betas = np.linspace(-2.0, 2.0, 10)
    verts, joints = shaped_rest(data, betas, path)
    expected = data["v_template"] + data["shapedirs"] @ betas
    np.testing.assert_allclose(verts, expected, atol=1e-9)
    np.testing.assert_allclose(joints, data["J_regressor"] @ expected, atol=1e-9)
    zero, _ = shaped_rest(data, np.zeros(10), path)
    assert np.abs(verts - zero).max() > 0.01


def test_smpl_body_rig(smpl_dir: Path, tmp_path: Path) -> None:
    body = smpl_body(smpl_dir, np.zeros(10))
    assert body.num_points == V and body.faces.shape == (F, 3)
    np.testing.assert_allclose(body.joint_weights.sum(axis=1), 1.0, atol=1e-6)
    assert body.influences == 4
    assert abs(body.points[:, 1].min()) < 1e-9  # standing on the ground
    np.testing.assert_allclose(body.bind_rotations, np.tile(np.eye(3), (24, 1, 1)))  # SMPL is T-posed
    out = write_body(body, tmp_path / "smpl.usd")
    back = read_body(out)
    assert back.model == "smpl" and back.params["betas"] == [0.0] * 10
    np.testing.assert_allclose(back.points, body.points, atol=1e-6)


def test_make_body_smpl_seeded_and_overrides(smpl_dir: Path) -> None:
    a = make_body("smpl", 3, smpl_dir=smpl_dir)
    b = make_body("smpl", 3, smpl_dir=smpl_dir)
    c = make_body("smpl", 4, smpl_dir=smpl_dir)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.allclose(a.points, c.points)
    d = make_body("smpl", 3, {"betas": "1,2", "beta3": "-1", "gender": "female"}, smpl_dir)
    assert d.params["betas"][:4] == [1.0, 2.0, 0.0, -1.0] and d.params["gender"] == "female"
    # SMPL has no finger bones: its hands stay open.
    assert make_body("smpl", 3, {"hands": "open"}, smpl_dir).points.shape == d.points.shape
    with pytest.raises(UsdSynthError, match="only hands=open"):
        make_body("smpl", 3, {"hands": "relaxed"}, smpl_dir)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no SMPL model file"),
        ({"SMPL_NEUTRAL.pkl": b"not a pickle"}, "not a readable SMPL model file"),
        ({"SMPL_NEUTRAL.pkl": pickle.dumps({"v_template": np.zeros((5, 3))})}, "missing"),
    ],
)
def test_bad_smpl_files(tmp_path: Path, files: dict, message: str) -> None:
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    with pytest.raises(UsdSynthError, match=message):
        smpl_body(tmp_path, np.zeros(10))


def test_wrong_structure_is_rejected(tmp_path: Path) -> None:
    data = fake_smpl(np.random.default_rng(2))
    data["weights"] = data["weights"][:, :22]
    with open(tmp_path / "SMPL_NEUTRAL.pkl", "wb") as fh:
        pickle.dump(data, fh)
    with pytest.raises(UsdSynthError, match=r"weights must be \(V, 24\)"):
        smpl_body(tmp_path, np.zeros(10))


def test_cli_smpl(smpl_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "b.usd"
    res = runner.invoke(cli, ["body", "-o", str(out), "--model", "smpl", "--smpl-dir", str(smpl_dir)])
    assert res.exit_code == 0, res.output
    assert out.is_file() and "smpl body" in res.output
    for args, needle in (
        (["--smpl-dir", str(tmp_path / "missing")], "no such folder"),
        (["--smpl-dir", str(tmp_path)], "no SMPL model file"),
        ([], "needs --smpl-dir"),
    ):
        bad = tmp_path / "bad.usd"
        res = runner.invoke(cli, ["body", "-o", str(bad), "--model", "smpl", *args])
        assert res.exit_code == 2, res.output
        assert needle in res.output and len(res.output.strip().splitlines()) == 1
        assert not bad.exists()
