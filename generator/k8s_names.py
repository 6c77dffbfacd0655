"""The API server's name and label syntax (k8s.io/apimachinery pkg/util/validation).

Shared by the rules that re-check what the API server would reject; not a rule itself.
"""

from __future__ import annotations

import re
from functools import lru_cache

# IsValidLabelValue: at most 63 characters, empty or alphanumeric at both ends with
# '-', '_', '.' inside (validation.go: LabelValueMaxLength, labelValueFmt).
LABEL_VALUE_MAX = 63
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# IsQualifiedName: an optional DNS-1123 subdomain prefix (at most 253) and '/', then a
# name of at most 63 characters (qualifiedNameFmt, qualifiedNameMaxLength).
_QUALIFIED_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# Both are pure functions of a string, and a manifest set repeats the same few hundred
# label keys and values on every object: each distinct one is judged once.
@lru_cache(maxsize=1 << 16)
def label_value_problem(value: str) -> str | None:
    """Why the API server refuses `value` as a label value, or None."""
    if len(value) > LABEL_VALUE_MAX:
        return f"must be no more than {LABEL_VALUE_MAX} characters (found {len(value)})"
    if not _LABEL_VALUE.match(value):
        return ("must be empty or consist of alphanumeric characters, '-', '_' or '.', and "
                "start and end with an alphanumeric character")
    return None


@lru_cache(maxsize=1 << 16)
def qualified_name_problem(key: str) -> str | None:
    """Why the API server refuses `key` as a label key (a qualified name), or None."""
    prefix, sep, name = key.rpartition("/")
    if sep and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return "its prefix must be a DNS-1123 subdomain of at most 253 characters"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return ("its name part must be 1-63 alphanumeric characters, '-', '_' or '.', "
                "starting and ending with an alphanumeric character")
    return None
