"""The one error tree. The core raises these; the CLI catches them in one place."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, a 1-based line and column, and a dotted key path."""

    file: str
    line: int | None = None
    column: int | None = None
    key_path: str = ""

    def prefix(self) -> str:
        pos = self.file
        if self.line is not None:
            pos += f":{self.line}"
            if self.column is not None:
                pos += f":{self.column}"
        return f"{pos}: {self.key_path}: " if self.key_path else f"{pos}: "


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, already phrased for a user."""

    location: Location
    message: str

    def __str__(self) -> str:
        return self.location.prefix() + self.message


class GeneratorError(Exception):
    """Base of every error difygen reports to a user."""

    exit_code = 2

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems or [])

    def lines(self) -> list[str]:
        """The text a user sees, one line per problem (the message alone if none)."""
        return [str(p) for p in self.problems] or [self.message]


class UsageError(GeneratorError):
    """A bad flag, an unknown profile name, or arguments that do not fit together."""


class InputError(GeneratorError):
    """An input file that cannot be read or parsed (I/O, encoding, YAML syntax, size)."""


class ProfileError(GeneratorError):
    """A profile that parsed but breaks the schema or a semantic rule."""


class FleetError(GeneratorError):
    """A fleet file that parsed but breaks its schema or a rule."""


class SizingError(GeneratorError):
    """A profile whose numbers cannot produce a sound plan (e.g. the DB budget is too small)."""


class RenderInvalid(GeneratorError):
    """Rendered output failed validation, so nothing was written."""

    exit_code = 1


class OutputError(GeneratorError):
    """The output tree could not be written or locked."""


@dataclass
class ProblemList:
    """Collects problems so a user sees all of them at once, not one per run."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, location: Location, message: str) -> None:
        self.problems.append(Problem(location, message))

    def raise_if_any(self, error: type[GeneratorError], summary: str) -> None:
        if self.problems:
            ordered = sorted(
                self.problems,
                key=lambda p: (p.location.file, p.location.line or 0, p.location.column or 0,
                               p.location.key_path, p.message),
            )
            raise error(summary, ordered)

