"""The connection budget and the numbers derived with it, on the plan and in explain."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.explain import explain
from generator.plan import plan_for
from generator.profile_load import BUILTIN_PROFILES, find
from generator.tunables import API_POOL_MARGIN, CONNECTION_BUDGET

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples" / "profiles"


@pytest.mark.parametrize("name", BUILTIN_PROFILES)
def test_budget_counts_surge_and_holds(name: str) -> None:
    plan = plan_for(find(name))
    b = plan.budget
    per = plan.tunables.sqlalchemy_pool_size + plan.tunables.sqlalchemy_max_overflow
    recomputed = sum((u.max_replicas + u.surge_replicas) * u.pools_per_replica * per
                     for u in b.uses)
    assert b.used == recomputed <= CONNECTION_BUDGET * b.max_connections
    # Every rolling pool holder adds its surge; on edge every one of them is Recreate
    # (ReadWriteOnce volumes, singletons), so there is none to count.
    for u in b.uses:
        if u.component in plan.profile.components:
            assert (u.surge_replicas > 0) == plan.rolls(u.component), u.component
    # beat is Recreate (a singleton): no surge
    assert next(u for u in b.uses if u.component == "worker-beat").surge_replicas == 0
    assert per >= plan.tunables.server_worker_connections + API_POOL_MARGIN


def test_explain_says_when_pools_are_below_dify_default() -> None:
    text = explain(plan_for(find("production")))
    assert "plus rollout surge" in text
    assert "below Dify's default (30 + 10)" in text
    assert "(10 + 1 surge) pods x 2 process(es)" in text


def test_explain_shows_worker_pools_and_alerts_of_the_platform_example() -> None:
    text = explain(plan_for(find("platform", EXAMPLES)))
    assert "worker-dataset: (6 + 1 surge) pods" in text
    assert "background: 0-2 replicas, one per 20 queued tasks, scales to zero" in text
    assert "DifyPostgresConnectionsHigh (for 5m): " in text


def test_edge_reserve_matches_k3s_and_explain_warns_below_it(tmp_path: Path) -> None:
    assert "below the 1596 MB k3s documents" not in explain(plan_for(find("edge")))
    (tmp_path / "tight.yaml").write_text("extends: edge\nnode: {reservedPercent: 10}\n")
    text = explain(plan_for(find("tight", tmp_path)))
    assert "below the 1596 MB k3s documents" in text
