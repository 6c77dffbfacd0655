"""Credentials never reach the output: no URL in a profile or fleet file may carry them.

difygen copies URLs (an S3 endpoint, the GitOps repoURL, a cluster's API server, and any
URL setting added later) into ConfigMaps, Helm values and Argo CD objects that are
committed to Git. So every string value of a profile or fleet file that is a URL is
checked here, by value rather than by key, so that a new URL setting is covered without
being listed: user-info (`https://user:token@host`, `https://token@host`) and query
parameters that carry secrets (`?token=`, `?X-Amz-Signature=`) are refused. The one
user name allowed is the conventional `git@` of an SSH remote (`ssh://git@host/x`,
`git@host:x`), which is no secret.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from generator.errors import Problem
from generator.yamlio import Document, iter_paths

# Query parameter names that carry a secret (compared in lower case, '-' as '_').
_SECRET_PARAMS = re.compile(
    r"(^|_)(token|access_token|id_token|password|passwd|pwd|secret|client_secret|apikey|"
    r"api_key|key|auth|authorization|credential|credentials|signature|sig|sas|"
    r"x_amz_signature|x_amz_credential|x_amz_security_token|private_token)$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE = re.compile(r"^(?P<user>[^@/\s]+)@[^:/\s]+:")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_SSH_SCHEMES = ("ssh", "git+ssh", "ssh+git")


def credentials_problem(value: str) -> str | None:
    """Why `value`, a URL, must not be committed; None when it carries no credentials."""
    scp = _SCP_LIKE.match(value)
    if scp and not _SCHEME.match(value):
        user = scp.group("user")
        if ":" in user:
            return "has a password in it (user:password@)"
        return None if user == "git" else (
            f"has the user name {user!r} in it; use git@ and a deploy key, or keep the user in "
            "the GitOps tool's credentials")
    if not _SCHEME.match(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None  # not a URL after all; the schema words what is wrong with it
    netloc = parts.netloc
    if "@" in netloc:
        userinfo = netloc.rsplit("@", 1)[0]
        if ":" in userinfo:
            return "has credentials in it (user:password@)"
        if not (parts.scheme.lower() in _SSH_SCHEMES and userinfo == "git"):
            return "has user-info in it (a user name or token before '@')"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_PARAMS.search(name.lower().replace("-", "_")):
            return f"has the query parameter {name!r}, which carries a secret"
    return None


def url_problems(doc: Document) -> list[Problem]:
    """A problem for every string value of `doc` that is a URL with credentials."""
    problems = []
    for path, value in iter_paths(doc.data):
        if not isinstance(value, str) or ("://" not in value and "@" not in value):
            continue
        candidates = _URL_IN_TEXT.findall(value)
        if not any(c.isspace() for c in value.strip()):
            candidates.append(value.strip())  # also an SSH remote such as user@host:path
        why = next((w for w in map(credentials_problem, candidates) if w is not None), None)
        if why is not None:
            problems.append(Problem(doc.location(path), (
                f"the URL {why}; it would be copied into the committed output: give the "
                "URL without credentials and keep them in a Secret or the GitOps tool's "
                "repository credentials")))
    return problems
