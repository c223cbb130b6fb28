"""``usd-synth validate``: USD's validators plus NVIDIA's asset validator when installed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import Command


@click.command(cls=Command)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--no-omni", is_flag=True, help="Skip NVIDIA's asset validator even when it is installed.")
@click.option("--warnings/--no-warnings", default=True, show_default=True, help="Print warnings too.")
def validate(files: tuple[Path, ...], no_omni: bool, warnings: bool) -> None:
    """Validate USD FILES; exit 1 when any has errors."""
    from usd_synth.usd.validate import omni_available, validate_file

    use_omni = not no_omni and omni_available()
    if not no_omni and not use_omni:
        click.echo(
            "note: NVIDIA's asset validator is not installed (pip install 'usd-synth[validate]')", err=True
        )
    total_errors = 0
    for f in files:
        issues = validate_file(f, omni=use_omni)
        n_err = sum(i.severity == "error" for i in issues)
        total_errors += n_err
        for issue in issues:
            if issue.severity == "error" or warnings:
                click.echo(f"{f}: {issue.line()}")
        n_warn = sum(i.severity == "warning" for i in issues)
        tools = "pxr.UsdValidation" + (" + omni_asset_validate" if use_omni else "")
        click.echo(f"{f}: {n_err} error(s), {n_warn} warning(s) [{tools}]")
    if total_errors:
        sys.exit(1)
