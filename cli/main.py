"""Entry point of the ``usd-synth`` command group.

Subcommands live in their own modules and are imported lazily, so ``usd-synth --help`` stays fast and a
missing optional dependency only matters for the command that needs it. Every :class:`UsdSynthError`
becomes one line on stderr and exit code 2, without a traceback; its library field names are told as the
flags of the command that ran (:func:`usd_synth.cli.common.in_flag_terms`).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import re
import signal
import sys
import tempfile
import warnings
from collections.abc import Iterator

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
    "stage": "usd_synth.cli.stage:stage",
    "package": "usd_synth.cli.stage:package",
    "render": "usd_synth.cli.render:render",
    "generate": "usd_synth.cli.generate:generate",
    "init-config": "usd_synth.cli.generate:init_config",
    "optimize": "usd_synth.cli.optimize:optimize",
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
            with _warnings_to_log():
                return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted from None  # past click's handler, which adds a blank line
        except UsdSynthError as exc:
            for line in getattr(exc, "lines", [])[:-1]:  # a config's problems: one line each
                _fail(line, raise_exit=False)
            if getattr(exc, "lines", None):
                _fail(exc.lines[-1])
            message = in_flag_terms(exc, ctx.meta.get(COMMAND_KEY))
            _fail(message)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """click's ``main``, with every way a run can end told on one line of stderr: usage errors
        (``usd-synth: error: No such option: --sise``), library errors, interruptions (exit 130, or 143 on
        SIGTERM), and, as a last resort, unexpected errors (exit 1; ``-vv`` logs the traceback)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.UsageError as exc:
            sub = exc.ctx.command_path.split()[1:] if exc.ctx is not None else []
            where = " ".join(["usd-synth", *sub])
            text = " ".join(exc.format_message().split()).rstrip(".")
            _fail(f"{text} (see '{where} --help')", exit_code=exc.exit_code, raise_exit=False)
            code = exc.exit_code
        except click.ClickException as exc:
            _fail(" ".join(exc.format_message().split()), exit_code=exc.exit_code, raise_exit=False)
            code = exc.exit_code
        except (click.exceptions.Abort, KeyboardInterrupt, _Interrupted):
            if sys.stderr.isatty():
                click.echo(err=True)  # after the terminal's "^C"
            _fail("interrupted; nothing was written", raise_exit=False)
            code = 130
        except SystemExit as exc:
            if exc.code == _SIGTERM_EXIT:
                _fail("terminated; nothing was written", raise_exit=False)
            code = exc.code
        except RecursionError:
            _log_traceback()
            _fail("input nested too deeply", raise_exit=False)
            code = 2
        except MemoryError:
            _log_traceback()
            _fail("out of memory; ask for less (smaller sizes or counts)", raise_exit=False)
            code = 2
        except OSError as exc:
            _log_traceback()
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or type(exc).__name__}", raise_exit=False)
            code = 2
        except Exception as exc:  # noqa: BLE001 - the last resort: still one line, no traceback
            _log_traceback()
            # No internal paths on the user's screen: folders of absolute paths are dropped (-vv has them).
            text = re.sub(r"(?:/[\w.+-]+)+/(?=[\w.+-])", "", " ".join(str(exc).split())) or type(exc).__name__
            _fail(f"internal error ({type(exc).__name__}: {text}); -vv logs details", raise_exit=False)
            code = 1
        sys.exit(code if code is not None else 0)


class _Interrupted(BaseException):
    """Ctrl-C (SIGINT) during a command, carried to :meth:`_LazyGroup.main`."""


#: Exit status of a run ended by SIGTERM (128 + 15).
_SIGTERM_EXIT = 143
log = logging.getLogger("usd_synth.cli")


def _fail(message: str, exit_code: int = 2, raise_exit: bool = True) -> None:
    click.echo(f"usd-synth: error: {' '.join(message.split())}", err=True)
    if raise_exit:
        raise click.exceptions.Exit(exit_code)


def _log_traceback() -> None:
    log.debug("traceback", exc_info=True)


@contextlib.contextmanager
def _warnings_to_log() -> Iterator[None]:
    """Python warnings (numpy's ``RuntimeWarning`` s among them) go to the ``-v`` log, not to stderr."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        log.info("%s: %s", category.__name__, message)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _native_stderr_to_log() -> Iterator[None]:
    """What native code writes on file descriptor 2 (USD's ``Warning:`` lines, a hook's chatter) goes to
    the ``-v`` log; Python's ``sys.stderr`` (messages, logs, progress bars) keeps the real stderr."""
    try:
        sys.stderr.flush()
        real = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    capture = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    old = sys.stderr
    os.dup2(capture.fileno(), 2)
    sys.stderr = open(  # noqa: SIM115 - lives until the process ends
        real,
        "w",
        buffering=1,
        encoding=getattr(old, "encoding", None),
        errors="backslashreplace",
        closefd=False,
    )
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(real, 2)
        capture.seek(0)
        for line in capture.read().decode(errors="replace").splitlines():
            if line.strip():
                log.info("native: %s", line.strip())
        capture.close()
        sys.stderr.flush()


def _install_signal_handlers() -> None:
    """SIGTERM raises ``SystemExit`` and SIGINT ``KeyboardInterrupt`` once, so the context managers that
    own temporary files and folders remove them; a second signal during that cleanup is ignored."""

    def on_signal(signum, frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(_SIGTERM_EXIT)

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler):
                signal.signal(sig, on_signal)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@verbose_option()
@click.version_option(package_name="usd-synth")
def cli(verbose: int) -> None:
    """usd-synth: motions in, labelled randomized OpenUSD training data out."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True
    )


def main() -> None:
    """Console-script entry point."""
    _install_signal_handlers()
    with _native_stderr_to_log():
        try:
            cli.main(prog_name="usd-synth")
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
