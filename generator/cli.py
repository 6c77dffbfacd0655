"""The entry point: the one place errors become messages and exit codes.

`difygen --version` answers before the command-line framework is imported (start-up is
most of a short command's time); everything else goes to generator.commands.

Exit codes: 0 ok; 1 validation findings; 2 bad input or usage; 3 `check` found drift.
"""

from __future__ import annotations

import os
import sys


def version_text() -> str:
    """What `difygen --version` prints: the release and its pins, read from plain
    constants (generator/__init__.py, generator/versions.py) without importing click;
    generator.commands prints it too when --version comes with other arguments."""
    from generator import __version__
    from generator import versions as v

    return (f"difygen {__version__}\n"
            f"Dify {v.DIFY_VERSION}\n"
            f"Helm chart {v.CHART_NAME} {v.CHART_VERSION} (appVersion {v.CHART_APP_VERSION}, "
            f"{v.CHART_REPOSITORY})\n"
            f"Kubernetes {v.DEFAULT_KUBERNETES_VERSION} (default schemas)\n")


def main() -> None:
    """click handles usage errors itself (exit 2 with the usage line) and shell completion
    (when _DIFYGEN_COMPLETE is set); everything the core raises arrives here."""
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(version_text())
        sys.exit(0)
    from generator.commands import cli, debug
    from generator.errors import GeneratorError

    try:
        # The name usage lines and completion scripts show, however difygen was started
        # (`python -m generator` included).
        cli.main(prog_name="difygen")
    except GeneratorError as exc:
        for line in exc.lines():
            sys.stderr.write(f"error: {line}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; the previous output is unchanged\n")
        sys.exit(2)
    except Exception as exc:  # the last line of defence: never a raw traceback
        if debug() or os.environ.get("DIFYGEN_DEBUG"):
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"error: internal error: {type(exc).__name__}: {exc} (rerun with "
                         "--debug for a traceback, and please report it)\n")
        sys.exit(2)


def entry() -> None:
    """The `difygen` command (and `python -m generator`): main(), then leave at once.
    It never returns; it is not annotated NoReturn because importing typing would cost
    10-20 ms, half of what `difygen --version` takes.

    Tearing the interpreter down (every module, every object still alive) cost a tenth of
    a second on each run, some 12% of `render --all`, and buys a command-line run nothing:
    the output is flushed here, every file difygen writes is closed and synced before its
    command returns, and no difygen code registers an atexit hook. main() itself still
    ends in SystemExit, for callers that run it in their own process (the tests do)."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`difygen ... | head`)
            code = code or 1
    os._exit(code)


def _exit_code(code: object) -> int:
    """What the interpreter would exit with for SystemExit(code)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1
