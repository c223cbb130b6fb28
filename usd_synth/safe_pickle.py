"""Loading pickles of arrays without running code from the file.

Motion fits (joints2smpl) and SMPL model files come as pickles. A plain ``pickle.load`` executes whatever
callables the file names, so a downloaded file could run code. :class:`ArrayUnpickler` builds only what such
files hold: numpy arrays and scalars, SciPy sparse matrices (SMPL's joint regressor), plain containers,
and chumpy arrays (SMPL's original files; chumpy does not install on current numpy), which become
:class:`ChumpyStub` objects keeping their data. Anything else is refused.
"""

from __future__ import annotations

import pickle
from typing import Any, BinaryIO

import numpy as np

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"), ("collections", "OrderedDict"), ("builtins", "set"),
    ("builtins", "frozenset"), ("builtins", "slice"), ("copy_reg", "_reconstructor"),
    ("copyreg", "_reconstructor"), ("builtins", "object"), ("__builtin__", "object"),
    ("_codecs", "encode"),  # how protocol-2 pickles store bytes (numpy array data)
}  # fmt: skip
_SPARSE = {"csc_matrix", "csr_matrix", "coo_matrix"}


class ChumpyStub:
    """Stands in for a chumpy object while unpickling; keeps its state so the array can be recovered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_args"] = args

    def __setstate__(self, state: Any) -> None:
        self.__dict__.update(state if isinstance(state, dict) else {"x": state})


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that only builds arrays, sparse matrices, plain containers and chumpy stubs."""

    def find_class(self, module: str, name: str) -> Any:  # noqa: D401 - pickle API
        if module.startswith("chumpy"):
            return ChumpyStub
        if module.startswith("scipy.sparse") and name in _SPARSE:
            return super().find_class(module, name)
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def load(fh: BinaryIO) -> Any:
    """Unpickle ``fh`` with :class:`ArrayUnpickler` (Python 2 pickles read as latin-1)."""
    return ArrayUnpickler(fh, encoding="latin1").load()


def plain(value: Any) -> Any:
    """A numpy array from a chumpy stub or a sparse matrix; other values as they are."""
    if isinstance(value, ChumpyStub):
        x = value.__dict__.get("x")
        if x is None:
            raise ValueError("a chumpy array without data")
        return np.asarray(x)
    if hasattr(value, "toarray"):
        return value.toarray()
    return value
