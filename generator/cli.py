"""The entry point: the one place errors become messages and exit codes.

`difygen --version` answers before the command-line framework is imported (start-up is
most of a short command's time); everything else goes to generator.commands.

Exit codes: 0 ok; 1 validation findings; 2 bad input or usage; 3 `check` found drift.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Typer handles usage errors itself (exit 2 with the usage line); everything the core
    raises arrives here."""
    if sys.argv[1:] == ["--version"]:
        from generator import __version__

        sys.stdout.write(f"difygen {__version__}\n")
        sys.exit(0)
    from generator.commands import app, debug
    from generator.errors import GeneratorError

    try:
        app()
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
