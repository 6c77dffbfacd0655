"""Help, completion and the command pages: `--help` keeps examples as written, shell
completion prints the named shell's script, and every command's page in docs/commands/
names exactly the options its `--help` shows (commands and options are discovered from the
CLI, so a new option only needs its docs)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.commands import cli

REPO = Path(__file__).resolve().parent.parent
DIFYGEN = str(Path(sys.executable).parent / "difygen")
PAGES = REPO / "docs" / "commands"
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
NOT_OPTIONS = {"--help"}  # every command has it; the command index says so once


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DIFYGEN, *args], capture_output=True, text=True, timeout=120,
                          check=False, env=env)


def leaf_commands() -> list[tuple[str, ...]]:
    """Every runnable command path, from the CLI itself: ('render',), ('schemas', 'export')."""
    found: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, (*path, name))
        elif path:
            found.append(path)

    walk(cli, ())
    return found


COMMANDS = leaf_commands()


def help_options(path: tuple[str, ...]) -> set[str]:
    proc = run(*path, "--help")
    assert proc.returncode == 0, proc.stderr
    return set(OPTION.findall(proc.stdout.split("Options:", 1)[-1])) - NOT_OPTIONS


def page_for(path: tuple[str, ...]) -> Path:
    return PAGES / f"{path[0]}.md"


def page_table_options(page: Path) -> set[str]:
    """The options a page documents: those in its tables (rows starting with `|`)."""
    rows = [line for line in page.read_text().splitlines() if line.startswith("|")]
    return set(OPTION.findall("\n".join(rows))) - NOT_OPTIONS


def test_every_command_is_discovered_and_has_a_page() -> None:
    assert {("render",), ("validate",), ("check",), ("schemas", "export")} <= set(COMMANDS)
    for path in COMMANDS:
        assert page_for(path).is_file(), f"no page for `difygen {' '.join(path)}`"
    index = (PAGES / "README.md").read_text()
    for name in {p[0] for p in COMMANDS}:
        assert f"`difygen {name}`" in index and f"({name}.md)" in index


@pytest.mark.parametrize("page", sorted({page_for(p) for p in COMMANDS}),
                         ids=lambda p: p.name)
def test_page_documents_exactly_the_options_of_its_commands(page: Path) -> None:
    commands = [p for p in COMMANDS if page_for(p) == page]
    in_help = set().union(*(help_options(p) for p in commands))
    in_page = page_table_options(page)
    assert in_help - in_page == set(), f"{page.name} misses options its --help shows"
    assert in_page - in_help == set(), f"{page.name} documents options --help does not have"
    synopsis = page.read_text().split("```", 2)[1]  # the first code block: the synopsis
    assert in_help <= set(OPTION.findall(synopsis)), f"{page.name}: synopsis is incomplete"


def test_global_options_are_documented_in_the_index() -> None:
    in_help = help_options(())
    assert {"--version", "--quiet", "--verbose", "--show-completion"} <= in_help
    text = (PAGES / "README.md").read_text().split("Global options", 1)[1]
    table = text[text.index("\n|"):].split("\n\n", 1)[0]
    assert in_help == set(OPTION.findall(table)) - NOT_OPTIONS


def test_the_sync_check_would_notice_a_missing_option(tmp_path: Path) -> None:
    page = tmp_path / "x.md"
    page.write_text("| option | meaning |\n|---|---|\n| `--out DIR` | x |\n"
                    "see `--all` in prose\n")
    assert page_table_options(page) == {"--out"}


# --- help text -----------------------------------------------------------------------------

def _docstring_examples(path: tuple[str, ...]) -> list[str]:
    command: object = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    text = getattr(command, "help", "") or ""
    block = re.split(r"(?m)^\s*Examples?:\s*$", text)
    if len(block) < 2:
        return []
    return [line.strip() for line in block[1].splitlines() if line.strip()]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_help_keeps_example_lines_as_written(path: tuple[str, ...]) -> None:
    examples = _docstring_examples(path)
    if not examples:
        return
    shown = [line.strip() for line in run(*path, "--help").stdout.splitlines()]
    for example in examples:
        assert example in shown, f"`{example}` was reflowed in --help"


def test_the_commands_with_examples_are_many() -> None:
    assert sum(bool(_docstring_examples(p)) for p in COMMANDS) >= 4


def test_validate_without_arguments_talks_about_validate() -> None:
    proc = run("validate")
    assert proc.returncode == 2
    assert "name the profiles to validate" in proc.stderr
    assert "--manifests" in proc.stderr and "render" not in proc.stderr


def test_version_names_the_pins() -> None:
    from generator import versions

    proc = run("--version")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("difygen ")
    assert f"Dify {versions.DIFY_VERSION}" in proc.stdout
    assert f"Helm chart {versions.CHART_NAME} {versions.CHART_VERSION}" in proc.stdout
    assert f"Kubernetes {versions.DEFAULT_KUBERNETES_VERSION}" in proc.stdout


# --- completion ------------------------------------------------------------------------------

def test_show_completion_zsh_prints_zshs_script() -> None:
    proc = run("--show-completion", "zsh")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("#compdef difygen")
    assert "compdef _difygen_completion difygen" in proc.stdout
    assert "COMPREPLY" not in proc.stdout and "complete -o" not in proc.stdout  # bash's


def test_show_completion_fish_prints_fishs_script() -> None:
    proc = run("--show-completion", "fish")
    assert proc.returncode == 0, proc.stderr
    assert "complete --no-files --command difygen" in proc.stdout
    assert "fish_complete" in proc.stdout and "COMPREPLY" not in proc.stdout


def test_show_completion_powershell_under_both_names() -> None:
    script = run("--show-completion", "powershell")
    assert script.returncode == 0, script.stderr
    assert "Register-ArgumentCompleter -Native -CommandName difygen" in script.stdout
    assert run("--show-completion", "pwsh").stdout == script.stdout


def test_show_completion_bash_and_an_unknown_shell() -> None:
    assert "COMPREPLY" in run("--show-completion", "bash").stdout
    proc = run("--show-completion", "tcsh")
    assert proc.returncode == 2 and "zsh" in proc.stderr and "tcsh" in proc.stderr


def test_bare_show_completion_takes_the_shell_from_SHELL() -> None:
    env = {"PATH": "/usr/bin:/bin", "SHELL": "/usr/bin/fish"}
    proc = run("--show-completion", env=env)
    assert proc.returncode == 0 and "fish_complete" in proc.stdout, proc.stderr
    proc = run("--show-completion", env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2 and "choose one of bash" in proc.stderr


def test_zsh_completion_answers_through_the_cli() -> None:
    env = {"PATH": "/usr/bin:/bin", "_DIFYGEN_COMPLETE": "zsh_complete",
           "COMP_WORDS": "difygen ren", "COMP_CWORD": "1"}
    proc = run(env=env)
    assert proc.returncode == 0 and "render" in proc.stdout.splitlines(), proc.stdout


def test_bash_completion_offers_a_commands_options() -> None:
    env = {"PATH": "/usr/bin:/bin", "_DIFYGEN_COMPLETE": "bash_complete",
           "COMP_WORDS": "difygen validate --ma", "COMP_CWORD": "2"}
    proc = run(env=env)
    assert proc.returncode == 0 and proc.stdout.split() == ["plain,--manifests"], proc.stdout


@pytest.mark.parametrize(("shell", "script", "startup"), [
    ("bash", ".local/share/bash-completion/completions/difygen", None),
    ("fish", ".config/fish/completions/difygen.fish", None),
    ("zsh", ".zfunc/_difygen", ".zshrc"),
    ("pwsh", ".config/powershell/difygen-completion.ps1",
     ".config/powershell/Microsoft.PowerShell_profile.ps1"),
])
def test_install_completion_writes_where_the_shell_loads_it(
        tmp_path: Path, shell: str, script: str, startup: str | None) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    if startup is not None:
        (tmp_path / startup).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / startup).write_text("# mine\n")
    for _ in range(2):  # twice: the start-up file gets its line once
        proc = run("--install-completion", shell, env=env)
        assert proc.returncode == 0, proc.stderr
    assert str(tmp_path / script) in proc.stdout
    shown = run("--show-completion", shell).stdout
    assert (tmp_path / script).read_text() == shown
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted({script, startup or script})
    if startup is not None:
        lines = (tmp_path / startup).read_text().splitlines()
        assert lines[0] == "# mine" and len(lines) == 2, lines
