"""Kubernetes resource quantities: parse, compare, format.

Quantities are kept as exact Fractions so that sums and percentages never drift by a
rounding step between the Kustomize and Helm outputs.
"""

from __future__ import annotations

import re
from fractions import Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
}
_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$"
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
    if isinstance(text, bool):
        raise QuantityError(f"{text!r} is not a Kubernetes quantity")
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(str(text))
    if not isinstance(text, str):
        raise QuantityError(f"{text!r} is not a Kubernetes quantity")
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


def _not_quantity_message(text: str) -> str:
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$", text)
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
