"""Shell completion: the script for a shell, and where `--install-completion` puts it.

The scripts are click's (bash, zsh, fish, PowerShell): each calls `difygen` back with
`_DIFYGEN_COMPLETE=<shell>_complete` set, and click answers from the commands' own
options. Installing writes the script where the shell loads completions from by itself,
so that no start-up file is edited when the shell does not need it (bash-completion's
and fish's user directories); zsh and PowerShell have no such directory, so one line is
added to ~/.zshrc or the PowerShell profile, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click
from click.shell_completion import get_completion_class

PROG = "difygen"


def shell_from_env(environ: Mapping[str, str]) -> str:
    """The login shell's name from $SHELL ('' when unset): what a bare
    --show-completion or --install-completion completes for."""
    return Path(environ.get("SHELL", "")).name


def source(cli: click.Command, shell: str, complete_var: str) -> str:
    """The completion script for `shell` (one click knows)."""
    completer = get_completion_class(shell)
    assert completer is not None, shell
    return completer(cli, {}, PROG, complete_var).source()


def install_completion(shell: str, script: str, home: Path) -> Path:
    """Writes the script for `shell` under `home`; returns the file written."""
    data = home / ".local" / "share"
    if shell == "bash":
        # Loaded on first use by bash-completion (Debian, Ubuntu, Fedora, Homebrew).
        return _write(data / "bash-completion" / "completions" / PROG, script)
    if shell == "fish":
        return _write(home / ".config" / "fish" / "completions" / f"{PROG}.fish", script)
    if shell == "zsh":
        # A function file on fpath, found by compinit: the script starts `#compdef`.
        path = _write(home / ".zfunc" / f"_{PROG}", script)
        _add_line(home / ".zshrc", "fpath+=~/.zfunc; autoload -Uz compinit && compinit")
        return path
    # PowerShell: the script registers the completer when the profile dot-sources it.
    path = _write(home / ".config" / "powershell" / f"{PROG}-completion.ps1", script)
    _add_line(home / ".config" / "powershell" / "Microsoft.PowerShell_profile.ps1",
              f". '{path}'")
    return path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _add_line(path: Path, line: str) -> None:
    """`line` at the end of a start-up file, unless the file has it already."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if line in text.splitlines():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(("" if not text or text.endswith("\n") else "\n") + line + "\n")
