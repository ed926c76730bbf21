"""Placement groups (ray.util.placement_group) and the scheduling
strategies NodeAffinitySchedulingStrategy and
PlacementGroupSchedulingStrategy."""
import pytest

import ray
from ray.exceptions import RayActorError, RayError
from ray.util import get_placement_group, placement_group, remove_placement_group
from ray.util.scheduling_strategies import (NodeAffinitySchedulingStrategy,
                                            PlacementGroupSchedulingStrategy)

pytestmark = pytest.mark.usefixtures("ray_local")


@ray.remote
def assigned():
    c = ray.get_runtime_context()
    return c.get_node_id(), c.get_assigned_resources()


@ray.remote(num_cpus=1)
class Member:
    def ping(self):
        return "pong"


def test_group_ready_and_tasks_run_in_its_bundles():
    pg = placement_group([{"CPU": 1}, {"CPU": 2}], strategy="PACK")
    assert ray.get(pg.ready()) == pg.id.hex()
    assert pg.wait(timeout_seconds=10) and pg.bundle_count == 2
    node = ray.get_runtime_context().get_node_id()
    assert pg.bundle_nodes() == [node, node]
    for i, cpus in [(0, 1.0), (1, 1.0), (-1, 1.0)]:
        strategy = PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=i)
        assert ray.get(assigned.options(scheduling_strategy=strategy).remote()) == \
            (node, {"CPU": cpus})
    remove_placement_group(pg)


def test_group_that_cannot_fit_stays_pending_then_removal_fails_its_tasks():
    pg = placement_group([{"CPU": 64}])
    ready = pg.ready()
    assert pg.wait(timeout_seconds=0) is False
    assert ray.wait([ready], timeout=0.2) == ([], [ready])
    remove_placement_group(pg)
    with pytest.raises(RayError, match="removed"):
        ray.get(ready)


def test_actor_in_a_group_dies_with_it():
    pg = placement_group([{"CPU": 1}])
    ray.get(pg.ready())
    a = Member.options(scheduling_strategy=PlacementGroupSchedulingStrategy(pg)).remote()
    assert ray.get(a.ping.remote()) == "pong"
    remove_placement_group(pg)
    with pytest.raises(RayActorError):
        ray.get(a.ping.remote())


def test_named_group_lookup():
    pg = placement_group([{"CPU": 1}], name="pg_named")
    assert get_placement_group("pg_named").id.hex() == pg.id.hex()
    remove_placement_group(pg)
    with pytest.raises(ValueError, match="no_such_group"):
        get_placement_group("no_such_group")


def test_bad_group_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="strategy"):
        placement_group([{"CPU": 1}], strategy="DENSE")
    with pytest.raises(ValueError, match="empty"):
        placement_group([])
    with pytest.raises(ValueError, match="empty"):
        placement_group([{}])
    with pytest.raises(ValueError, match="lifetime"):
        placement_group([{"CPU": 1}], lifetime="forever")
    pg = placement_group([{"CPU": 1}])
    with pytest.raises(ValueError, match="out of range"):
        assigned.options(scheduling_strategy=PlacementGroupSchedulingStrategy(pg, 3)).remote()
    with pytest.raises(TypeError, match="PlacementGroup"):
        PlacementGroupSchedulingStrategy("pg")
    remove_placement_group(pg)


def test_node_affinity_hard_and_soft():
    node = ray.get_runtime_context().get_node_id()
    hard = NodeAffinitySchedulingStrategy(node, soft=False)
    assert ray.get(assigned.options(scheduling_strategy=hard).remote())[0] == node
    missing = "ab" * 28
    with pytest.raises(RayError, match="not in the cluster"):
        ray.get(assigned.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(missing, soft=False)).remote())
    soft = NodeAffinitySchedulingStrategy(missing, soft=True)
    assert ray.get(assigned.options(scheduling_strategy=soft).remote())[0] == node
    a = Member.options(scheduling_strategy=hard).remote()
    assert ray.get(a.ping.remote()) == "pong"
    ray.kill(a)
    with pytest.raises(ValueError, match="node_id"):
        NodeAffinitySchedulingStrategy("", soft=False)
