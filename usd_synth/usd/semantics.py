"""Semantic labels on prims (UsdSemantics), what renderers turn into segmentation and class ground truth."""

from __future__ import annotations

from pxr import Usd, Vt


def set_semantic_label(prim: Usd.Prim, label: str, taxonomy: str = "class") -> None:
    """Tag ``prim`` with ``label`` in ``taxonomy`` (UsdSemantics LabelsAPI), where this USD build has it."""
    try:
        from pxr import UsdSemantics
    except ImportError:  # older usd-core
        return
    labels = UsdSemantics.LabelsAPI.Apply(prim, taxonomy)
    labels.CreateLabelsAttr(Vt.TokenArray([label]))
