"""The validation rules, one module each. `RULES` is the registry, in documentation order.

Each rule's docstring is its documentation: docs/rules.md is generated from them
(`python -m generator.rules.docs`), and a test fails when the file is out of date.
"""

from __future__ import annotations

from generator.rules.base import ERROR, WARNING, Context, Finding, Rule, Severity
from generator.rules.db_connection_budget import DbConnectionBudget
from generator.rules.duplicate_object import DuplicateObject
from generator.rules.hpa_memory_target import HpaMemoryTarget
from generator.rules.image_tag import ImageTag
from generator.rules.k8s_hpa import K8sHpa
from generator.rules.k8s_labels import K8sLabels
from generator.rules.k8s_limit_range import K8sLimitRange
from generator.rules.k8s_pdb import K8sPdb
from generator.rules.k8s_tolerations import K8sTolerations
from generator.rules.limits_ge_requests import LimitsGeRequests
from generator.rules.node_fit import NodeFit
from generator.rules.probes import Probes
from generator.rules.pss_apparmor import AppArmor
from generator.rules.pss_capabilities import Capabilities
from generator.rules.pss_capabilities_baseline import CapabilitiesBaseline
from generator.rules.pss_host_namespaces import HostNamespaces
from generator.rules.pss_host_path import HostPath
from generator.rules.pss_host_ports import HostPorts
from generator.rules.pss_privilege_escalation import PrivilegeEscalation
from generator.rules.pss_privileged import Privileged
from generator.rules.pss_proc_mount import ProcMount
from generator.rules.pss_run_as_non_root import RunAsNonRoot
from generator.rules.pss_run_as_user import RunAsUser
from generator.rules.pss_seccomp import Seccomp
from generator.rules.pss_seccomp_baseline import SeccompBaseline
from generator.rules.pss_selinux import SELinux
from generator.rules.pss_sysctls import Sysctls
from generator.rules.pss_volume_types import VolumeTypes
from generator.rules.quota_fit import QuotaFit
from generator.rules.redis_maxmemory import RedisMaxmemory
from generator.rules.resources_limits import ResourcesLimits
from generator.rules.rwo_shared import RwoShared
from generator.rules.sa_token import SaToken
from generator.rules.sandbox_isolation import SandboxIsolation
from generator.rules.schema import Schema
from generator.rules.secret_data import SecretData

RULES: tuple[Rule, ...] = (
    Schema(), DuplicateObject(),
    # The API server's own validation rules (what OpenAPI schemas cannot say).
    K8sLabels(), K8sTolerations(), K8sLimitRange(), K8sHpa(), K8sPdb(),
    # Pod Security Standards, baseline: errors whatever is declared.
    HostNamespaces(), Privileged(), CapabilitiesBaseline(), HostPath(), HostPorts(),
    AppArmor(), SELinux(), ProcMount(), SeccompBaseline(), Sysctls(),
    # Pod Security Standards, restricted: a declared security exception (catalog or
    # --exceptions file) turns exactly what it declares into warnings.
    VolumeTypes(), PrivilegeEscalation(), RunAsNonRoot(), RunAsUser(), Seccomp(),
    Capabilities(),
    ResourcesLimits(), Probes(), ImageTag(), SecretData(), SaToken(), SandboxIsolation(),
    DbConnectionBudget(), QuotaFit(), LimitsGeRequests(), RwoShared(), RedisMaxmemory(),
    NodeFit(), HpaMemoryTarget(),
)
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
LAYERS: tuple[str, ...] = ("schema", "policy", "sizing")

__all__ = ["ERROR", "LAYERS", "RULES", "RULE_IDS", "WARNING", "Context", "Finding", "Rule",
           "Severity"]
