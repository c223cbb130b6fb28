"""Entry point of the ``usd-synth`` command group.

Subcommands live in their own modules and are imported lazily, so ``usd-synth --help`` stays fast and a
missing optional dependency only matters for the command that needs it. Every :class:`UsdSynthError`
becomes one line on stderr and exit code 2, without a traceback; its library field names are told as the
flags of the command that ran (:func:`usd_synth.cli.common.in_flag_terms`).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys

import click

from usd_synth.errors import UsdSynthError

from .common import COMMAND_KEY, Group, in_flag_terms, verbose_option

# name -> "module:attribute" of a click command; modules are imported only when the command runs.
_COMMANDS: dict[str, str] = {
    "motion": "usd_synth.cli.motion:motion",
    "validate": "usd_synth.cli.validate:validate",
    "demo": "usd_synth.cli.demo:demo",
    "fractal": "usd_synth.cli.fractal:fractal",
    "blend": "usd_synth.cli.blend:blend",
    "body": "usd_synth.cli.body:body",
    "actor": "usd_synth.cli.body:actor",
    "bake": "usd_synth.cli.body:bake",
}


class _LazyGroup(Group):
    """A click group whose subcommands are imported on first use; the one handler of library errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        # Only commands whose module is present (a partial checkout or plugin-free install still works).
        return sorted(
            n for n, t in _COMMANDS.items() if importlib.util.find_spec(t.split(":")[0]) is not None
        )

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def invoke(self, ctx: click.Context):  # noqa: D401 - click API
        try:
            return super().invoke(ctx)
        except UsdSynthError as exc:
            message = in_flag_terms(exc, ctx.meta.get(COMMAND_KEY))
            click.echo(f"usd-synth: error: {message}", err=True)
            ctx.exit(2)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@verbose_option()
@click.version_option(package_name="usd-synth")
def cli(verbose: int) -> None:
    """usd-synth: motions in, labelled randomized OpenUSD training data out."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="usd-synth")


if __name__ == "__main__":
    main()
