"""Pinned image tags."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding
from generator.rules.workloads import Workload, WorkloadRule


def image_tag(image: str) -> str | None:
    """The tag of an image reference, None when it has none ('host:5000/a' has none)."""
    if "@" in image:
        image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


class ImageTag(WorkloadRule):
    """Every image is pinned: a tag other than `latest`, or a digest.

    An untagged image means `latest`, and `latest` means whatever was pushed last: two
    pods of one Deployment may run different code, and a rollback rolls back nothing.
    `name:tag@sha256:...` and `name@sha256:...` pass; a digest is the strongest pin. A
    container without an image (missing, empty or blank) is an error too: the API server
    refuses it, so the manifest cannot be applied.
    """

    id = "image-tag"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for c in w.containers():
            image = c.spec.get("image")
            if not isinstance(image, str) or not image.strip():
                yield self.report(w, (*c.path, "image"),
                                  f"container {c.name!r} has no image ({image!r}); name a "
                                  "pinned image", locate=(*c.path, "image"))
                continue
            if "@" in image:
                continue
            tag = image_tag(image)
            if tag is None:
                yield self.report(w, (*c.path, "image"),
                                  f"container {c.name!r} image {image!r} has no tag "
                                  "(that means 'latest'); pin a version")
            elif tag == "latest":
                yield self.report(w, (*c.path, "image"),
                                  f"container {c.name!r} image {image!r} uses 'latest'; "
                                  "pin a version")
