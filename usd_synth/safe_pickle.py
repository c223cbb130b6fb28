"""Loading pickles of arrays without running code from the file.

Motion fits (joints2smpl) and SMPL model files come as pickles. A plain ``pickle.load`` executes whatever
callables the file names, so a downloaded file could run code. :class:`ArrayUnpickler` builds only what such
files hold: numpy arrays and scalars, SciPy sparse matrices (SMPL's joint regressor), plain containers,
and chumpy arrays (SMPL's original files; chumpy does not install on current numpy), which become
:class:`ChumpyStub` objects keeping their data. Anything else is refused.
"""

from __future__ import annotations

import math
import os
import pickle
from typing import Any, BinaryIO

import numpy as np

from usd_synth import limits

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


class _CheckedArray(np.ndarray):
    """What a pickled array is rebuilt as: its state is checked before numpy allocates anything.

    A pickled array's state names its shape and carries its data (bytes, or a list for object arrays);
    a hostile file can declare a huge shape with little data, and numpy allocates (and for object arrays
    fills) the whole shape before noticing. Here the shape must match the data actually in the file.
    """

    def __setstate__(self, state: Any) -> None:
        try:
            shape, dtype, data = state[1], state[2], state[-1]
            count = math.prod(int(n) for n in shape)
        except Exception:
            raise pickle.UnpicklingError("a malformed array in the pickle") from None
        if isinstance(data, list | tuple):
            have = len(data)
        elif isinstance(data, bytes | bytearray):
            have = len(data) // max(getattr(dtype, "itemsize", 1), 1)
        else:
            raise pickle.UnpicklingError("a malformed array in the pickle")
        if count != have or count * max(getattr(dtype, "itemsize", 8), 1) > limits.current().max_array_bytes:
            raise pickle.UnpicklingError(f"an array declares shape {tuple(shape)} but holds {have} values")
        super().__setstate__(state)


def _bytes(*args: Any) -> bytes:
    """``bytes()`` as protocol-2 pickles use it (empty array data); never ``bytes(n)``, which allocates n."""
    if args and not isinstance(args[0], bytes | bytearray | str):
        raise pickle.UnpicklingError("refusing bytes() of anything but data")
    return bytes(*args)


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's pickle constructor, for the empty placeholder it always asks for, as a checked array."""
    if subtype is not np.ndarray or math.prod(int(n) for n in shape) > 1:
        raise pickle.UnpicklingError("refusing an array placeholder that is not empty")
    return np.ndarray.__new__(_CheckedArray, (0,), dtype)


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that only builds arrays, sparse matrices, plain containers and chumpy stubs."""

    def find_class(self, module: str, name: str) -> Any:  # noqa: D401 - pickle API
        if module.startswith("chumpy"):
            return ChumpyStub
        if module.startswith("scipy.sparse") and name in _SPARSE:
            return super().find_class(module, name)
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return _reconstruct
        if name == "bytes" and module in ("builtins", "__builtin__"):
            return _bytes
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def load(fh: BinaryIO) -> Any:
    """Unpickle ``fh`` with :class:`ArrayUnpickler` (Python 2 pickles read as latin-1).

    A real file larger than ``max_pickle_bytes`` (:mod:`usd_synth.limits`) is refused before reading; no
    array may claim more values than the file holds.
    """
    try:
        size = os.fstat(fh.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        size = None
    cap = limits.current().max_pickle_bytes
    if size is not None and size > cap:
        raise pickle.UnpicklingError(
            f"the pickle is {size} bytes, more than the {cap} byte limit (max_pickle_bytes)"
        )
    return _plain_arrays(ArrayUnpickler(fh, encoding="latin1").load())


def _plain_arrays(value: Any) -> Any:
    """Checked arrays back to plain ``numpy.ndarray`` (in dicts and lists, one level deep)."""
    if isinstance(value, _CheckedArray):
        return value.view(np.ndarray)
    if isinstance(value, dict):
        return {k: v.view(np.ndarray) if isinstance(v, _CheckedArray) else v for k, v in value.items()}
    if isinstance(value, list):
        return [v.view(np.ndarray) if isinstance(v, _CheckedArray) else v for v in value]
    return value


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
