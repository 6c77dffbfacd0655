"""The command line: parse, call the core, print, exit. The only place that prints or exits.

Exit codes: 0 ok; 1 validation findings; 2 bad input or usage; 3 `check` found drift.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from generator import __version__
from generator.errors import GeneratorError, UsageError

app = typer.Typer(
    name="difygen",
    help="Sizing profiles to validated Kustomize overlays and Helm values for self-hosted "
         "Dify on Kubernetes.\n\nExit codes: 0 ok, 1 validation findings, 2 bad input or "
         "usage, 3 committed output is stale (check).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_DEBUG = False

ProfilesDir = Annotated[
    Path | None,
    typer.Option("--profiles-dir", help="Directory of custom profiles (*.yaml); they are "
                 "listed beside the built-in edge, small and production.",
                 file_okay=False),
]
OutDir = Annotated[
    Path, typer.Option("--out", help="Output directory (the tree you commit).",
                       file_okay=False),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"difygen {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback for internal "
                                        "errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    global _DEBUG
    _DEBUG = debug


def _refs(names: list[str], all_: bool, profiles_dir: Path | None) -> list[object]:
    from generator import profiles

    if all_ and names:
        raise UsageError("give profile names or --all, not both")
    if all_:
        return list(profiles.discover(profiles_dir))
    if not names:
        raise UsageError("name the profiles to render (e.g. `difygen render small`) or pass "
                         "--all; `difygen profiles` lists them")
    return [profiles.find(n, profiles_dir) for n in names]


@app.command()
def render(
    profile: Annotated[list[str] | None, typer.Argument(
        help="Profiles to render, by name (built-in or from --profiles-dir).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Render every built-in and custom "
                                       "profile.")] = False,
    out: OutDir = Path("output"),
    profiles_dir: ProfilesDir = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show which files would be "
                                          "added, changed or removed; write nothing.")] = False,
) -> None:
    """Validate, then write Kustomize overlays and Helm values for the given profiles.

    Everything is computed and validated in memory first; the output tree is replaced
    atomically, so a failure leaves the previous output exactly as it was.

    Examples:
      difygen render --all
      difygen render small production --out gitops/dify
      difygen render my-team --profiles-dir profiles.d --dry-run
    """
    from generator.render import render as do_render
    from generator.writer import diff_tree, read_tree, write_tree

    refs = _refs(profile or [], all_, profiles_dir)
    result = do_render(refs)  # type: ignore[arg-type]
    if dry_run:
        change = diff_tree(read_tree(out, result.managed), result.files)
        verb = "would"
    else:
        change = write_tree(out, result.files, result.managed)
        verb = "did"
    for label, paths in (("add", change.added), ("change", change.changed),
                         ("remove", change.removed)):
        for path in paths:
            typer.echo(f"{verb} {label}: {out / path}")
    names = ", ".join(p.plan.name for p in result.profiles)
    if change.empty:
        typer.echo(f"{out}: up to date ({names})")
    elif not dry_run:
        typer.echo(f"{out}: rendered {names}")
    for rendered in result.profiles:
        for gap in rendered.helm_gaps:
            typer.echo(f"note: helm/{rendered.plan.name}: {gap}", err=True)


@app.command()
def profiles(profiles_dir: ProfilesDir = None) -> None:
    """List built-in and custom profiles with their `extends` chain."""
    from generator import profiles as prof

    for ref in prof.discover(profiles_dir):
        try:
            chain = " -> ".join(prof.describe_chain(ref))
        except GeneratorError as exc:
            chain = f"(invalid: {exc.lines()[0]})"
        kind = "built-in" if ref.builtin else "custom"
        typer.echo(f"{ref.name:<20} {kind:<9} {chain}")


@app.command()
def explain(
    profile: Annotated[str, typer.Argument(help="Profile name.")],
    profiles_dir: ProfilesDir = None,
) -> None:
    """Print every component's replicas, requests, limits and storage, with totals.

    Also shows totals at minimum and maximum scale, the database connection budget, the
    derived settings, the quota, security exceptions and what Helm cannot carry.
    """
    from generator import profiles as prof
    from generator.explain import explain as do_explain
    from generator.plan import plan_for
    from generator.targets.helm import render_values

    plan = plan_for(prof.find(profile, profiles_dir))
    typer.echo(do_explain(plan, render_values(plan).gaps), nl=False)


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Name of the new profile (a DNS-1123 label).")],
    extends: Annotated[str, typer.Option("--extends", help="Built-in profile to start "
                                         "from.")] = "small",
    profiles_dir: Annotated[Path, typer.Option("--profiles-dir", help="Where to create it.",
                                               file_okay=False)] = Path("profiles.d"),
) -> None:
    """Scaffold a custom profile that extends a built-in one."""
    from generator.scaffold import scaffold

    path = scaffold(name, extends, profiles_dir)
    typer.echo(f"created {path}; edit it, then run `difygen render {name} --profiles-dir "
               f"{profiles_dir}`")


def main() -> None:
    """Entry point: the one place errors become messages and exit codes.

    Typer handles usage errors itself (exit 2 with the usage line); everything the core
    raises arrives here.
    """
    try:
        app()
    except GeneratorError as exc:
        for line in exc.lines():
            typer.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted; the previous output is unchanged", err=True)
        sys.exit(2)
    except Exception as exc:  # the last line of defence: never a raw traceback
        if _DEBUG or os.environ.get("DIFYGEN_DEBUG"):
            traceback.print_exc()
        typer.echo(f"error: internal error: {type(exc).__name__}: {exc} (rerun with --debug "
                   "for a traceback, and please report it)", err=True)
        sys.exit(2)
