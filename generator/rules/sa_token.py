"""Service account tokens stay unmounted unless needed."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import NEEDS_TOKEN, Context, Finding
from generator.rules.workloads import Workload, WorkloadRule


class SaToken(WorkloadRule):
    """Pods do not mount a service account token unless they need the Kubernetes API.

    Dify's components never call the Kubernetes API, so a mounted token is only a gift to
    whoever gets code execution in a pod (the sandbox runs user code). Passes when the pod
    spec sets `automountServiceAccountToken: false`, or leaves it unset and its
    ServiceAccount (`serviceAccountName`, else `default`, in the same namespace) is in the
    manifest set with `automountServiceAccountToken: false`. A workload that does need the
    API says so with the annotation `difygen.io/needs-service-account-token: "<reason>"` on
    its pod template (or on the workload), and then passes.
    """

    id = "sa-token"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        if (w.annotation(NEEDS_TOKEN) or "").strip():
            return
        value = w.pod_spec.get("automountServiceAccountToken")
        path = (*w.spec_path, "automountServiceAccountToken")
        if value is False:
            return
        if value is True:
            yield self.report(w, path, "pod mounts a service account token; set "
                                       "automountServiceAccountToken: false or annotate the "
                                       f"pod template with {NEEDS_TOKEN}: \"<reason>\"")
            return
        account = str(w.pod_spec.get("serviceAccountName")
                      or w.pod_spec.get("serviceAccount") or "default")
        sa = ctx.get("ServiceAccount", w.manifest.namespace, account)
        if sa is not None and sa.obj.get("automountServiceAccountToken") is False:
            return
        yield self.report(w, path, "pod may mount a service account token: set "
                                   "automountServiceAccountToken: false on the pod (or on "
                                   f"ServiceAccount {account!r} in this manifest set)",
                          locate=(*w.spec_path, "serviceAccountName"))
