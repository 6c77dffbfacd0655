"""Kubernetes resource quantities: parse, compare, format.

Quantities are kept as exact Fractions so that sums and percentages never drift by a
rounding step between the Kustomize and Helm outputs.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
}
# ASCII digits only: Python's \d also matches fullwidth and other scripts' digits, which
# Kubernetes refuses.
_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)

# Common mistakes and what the user most likely meant.
_SUFFIX_HINTS = {
    "kb": "Ki", "kib": "Ki", "mb": "Mi", "mib": "Mi", "gb": "Gi", "gib": "Gi", "tb": "Ti",
    "tib": "Ti", "g": "Gi", "mi": "Mi", "gi": "Gi", "ki": "Ki", "ti": "Ti",
}


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity; the message says what was meant."""


def parse_quantity(text: object) -> Fraction:
    """Parse a Kubernetes quantity ('500m', '1.5', '2Gi', '1e3') into an exact number."""
    if type(text) is str:
        # Manifests repeat the same few quantity strings thousands of times; a Fraction
        # is immutable, so one parse per distinct string is shared.
        return _parse_text(text)
    return _parse_other(text)


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Fraction:
    return _parse_other(text)


def _parse_other(text: object) -> Fraction:
    if isinstance(text, bool):
        raise QuantityError(f"{text!r} is not a Kubernetes quantity")
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(str(text))
    if not isinstance(text, str):
        raise QuantityError(f"{text!r} is not a Kubernetes quantity")
    if not text.isascii():
        raise QuantityError(_not_ascii_message(text))
    match = _QUANTITY.match(text.strip())
    if not match or text != text.strip():
        raise QuantityError(_not_quantity_message(text))
    number = Fraction(match.group("num"))
    suffix = match.group("suffix") or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * Fraction(10) ** int(suffix[1:])


def _not_ascii_message(text: str) -> str:
    plain = unicodedata.normalize("NFKC", text)
    if plain.isascii() and plain != text:
        try:
            parse_quantity(plain)
        except QuantityError:
            pass
        else:
            return (f"{text!r} is not a Kubernetes quantity: it has non-ASCII characters "
                    f"(fullwidth digits?); did you mean {plain!r}?")
    return (f"{text!r} is not a Kubernetes quantity: only ASCII digits and the suffixes m, "
            "k, M, G, Ki, Mi, Gi, ... are allowed")


def _not_quantity_message(text: str) -> str:
    m = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*$", text)
    if m and m.group(2).lower() in _SUFFIX_HINTS:
        hint = f"{m.group(1)}{_SUFFIX_HINTS[m.group(2).lower()]}"
        return f"{text!r} is not a Kubernetes quantity (did you mean {hint!r}?)"
    return (
        f"{text!r} is not a Kubernetes quantity (use a number with an optional suffix: "
        "m for milli-CPU, Ki/Mi/Gi/Ti for bytes, e.g. '500m', '2', '512Mi')"
    )


def cpu_millis(value: Fraction) -> int:
    """CPU in whole millicores, rounding up (Kubernetes rounds sub-milli CPU up too)."""
    millis = value * 1000
    return int(-(-millis.numerator // millis.denominator))


def format_cpu(value: Fraction) -> str:
    """Canonical CPU string: whole cores as '2', otherwise millicores as '500m'."""
    millis = cpu_millis(value)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def format_memory(value: Fraction) -> str:
    """Canonical byte string in the largest binary unit that keeps it whole."""
    whole = int(value)
    if whole != value:
        whole = int(value) + 1
    for suffix in ("Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if whole and whole % unit == 0:
            return f"{whole // unit}{suffix}"
    return str(whole)


def mebibytes(value: Fraction) -> int:
    """Whole MiB, rounding down: the unit Postgres and Redis settings are written in."""
    return int(value / _BINARY["Mi"])


# The smallest amounts that are not a unit mistake: Kubernetes schedules CPU in whole
# millicores, no container starts in less than a few MiB, and a volume holds at least one.
MIN_CPU = Fraction(1, 1000)
MIN_MEMORY = 4 * _BINARY["Mi"]
MIN_STORAGE = _BINARY["Mi"]


def check_amount(text: object, value: Fraction, kind: str) -> None:
    """Refuse an amount of `kind` ('cpu', 'memory' or 'storage') that can only be a unit
    mistake: milli-bytes ('512m'), fractions of a byte, less than the minimum."""
    shown = repr(text)
    if kind == "cpu":
        if value < MIN_CPU:
            raise QuantityError(f"found {shown}; CPU below 1m (a thousandth of a core) cannot "
                                "be scheduled: use at least '1m', e.g. '100m'")
        return
    minimum = MIN_MEMORY if kind == "memory" else MIN_STORAGE
    number = re.match(r"^[+-]?[0-9.]+", str(text))
    digits = number.group() if number else str(text)
    if isinstance(text, str) and text.endswith(("m", "u", "n")):
        raise QuantityError(f"found {shown}; '{text[-1]}' means {_SMALL[text[-1]]} (so this "
                            f"is {float(value):g} bytes): did you mean '{digits}Mi'?")
    if value != int(value):
        raise QuantityError(f"found {shown}; that is {float(value):g} bytes, not a whole "
                            f"number of bytes: did you mean '{digits}Mi'?")
    if value < minimum:
        plain = isinstance(text, int) or (isinstance(text, str) and text.isdigit())
        hint = f": did you mean '{digits}Mi'?" if plain else ""
        raise QuantityError(f"found {shown} ({int(value)} bytes); {kind} must be at least "
                            f"{format_memory(Fraction(minimum))}{hint}")


_SMALL = {"m": "milli (thousandths)", "u": "micro (millionths)", "n": "nano (billionths)"}
