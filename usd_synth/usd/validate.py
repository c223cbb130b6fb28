"""Validation of written USD: USD's own validators and, when installed, NVIDIA's asset validator.

``pxr.UsdValidation`` runs every registered validator (stage metadata, UsdSkel binding rules, shading,
physics, packaging, ...). ``omni.asset_validator`` (the ``validate`` extra, CLI ``omni_asset_validate``)
adds what Omniverse and Isaac Sim expect (kinds, extents, normals, crate files for time samples, ...).
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from usd_synth.usd.authoring import open_stage

log = logging.getLogger(__name__)
# The asset validator logs its plugin start-up at INFO through the root logger; keep that out of the CLI.
logging.getLogger("omni.asset_validator").setLevel(logging.WARNING)
logging.getLogger("omni.asset_validator._plugins").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Issue:
    """One finding of a validator."""

    tool: str  #: "usd" or "omni"
    severity: str  #: "error", "warning" or "info"
    rule: str
    message: str

    def line(self) -> str:
        return f"{self.severity}: [{self.tool}:{self.rule}] {' '.join(self.message.split())}"


def usd_validation_issues(path: str | Path) -> list[Issue]:
    """Findings of all validators registered with ``pxr.UsdValidation``."""
    from pxr import UsdValidation

    stage = open_stage(path)
    registry = UsdValidation.ValidationRegistry()
    context = UsdValidation.ValidationContext(registry.GetOrLoadAllValidators())
    severity = {
        UsdValidation.ValidationErrorType.Error: "error",
        UsdValidation.ValidationErrorType.Warn: "warning",
        UsdValidation.ValidationErrorType.Info: "info",
    }
    issues = []
    for err in context.Validate(stage):
        if err.HasNoError():
            continue
        validator = err.GetValidator()
        rule = validator.GetMetadata().name if validator else err.GetName()
        issues.append(Issue("usd", severity.get(err.GetType(), "error"), rule, err.GetMessage()))
    return issues


def omni_available() -> bool:
    """True when NVIDIA's asset validator (the ``validate`` extra) is importable."""
    try:
        import omni.asset_validator  # noqa: F401
    except ImportError:
        return False
    return True


def omni_issues(path: str | Path) -> list[Issue]:
    """Findings of NVIDIA's asset validator with its default rules (what ``omni_asset_validate`` runs)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import omni.asset_validator as av

        engine = av.ValidationEngine()
        results = engine.validate(str(path))
    issues = []
    for issue in results.issues():
        sev = str(getattr(issue.severity, "name", issue.severity)).lower()
        sev = {"failure": "error", "error": "error", "warning": "warning"}.get(sev, sev)
        rule = getattr(issue.rule, "__name__", str(issue.rule))
        issues.append(Issue("omni", sev, rule, str(issue.message)))
    return issues


#: At most this many non-finite attributes are reported per file.
MAX_NONFINITE_REPORTS = 20


def nonfinite_issues(path: str | Path) -> list[Issue]:
    """An error for each attribute (default value or time sample) holding NaN or infinity: points,
    translations, rotations, extents, transforms. USD's validators do not look at values."""
    from usd_synth.usd.authoring import nonfinite_values

    stage = open_stage(path)
    return [
        Issue("usd-synth", "error", "FiniteValues", f"{where} has non-finite values (NaN or infinity)")
        for where in nonfinite_values(stage, limit=MAX_NONFINITE_REPORTS)
    ]


def validate_file(path: str | Path, omni: bool | None = None) -> list[Issue]:
    """All findings for ``path``; ``omni=None`` runs the asset validator when it is installed."""
    issues = usd_validation_issues(path) + nonfinite_issues(path)
    if omni or (omni is None and omni_available()):
        issues += omni_issues(path)
    return issues


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]
