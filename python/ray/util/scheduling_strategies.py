"""Where tasks and actors run: Ray's scheduling strategy classes, passed as
scheduling_strategy= in @ray.remote or .options()."""


class NodeAffinitySchedulingStrategy:
    """Run on the node NODE_ID (hex, as in ray.nodes() and
    ray.get_runtime_context().get_node_id()); with soft=True run elsewhere
    when that node cannot take it."""

    def __init__(self, node_id, soft, _spill_on_unavailable=False, _fail_on_unavailable=False):
        if not isinstance(node_id, str) or not node_id:
            raise ValueError("NodeAffinitySchedulingStrategy: node_id must be a hex string")
        self.node_id = node_id
        self.soft = bool(soft)
        self._spill_on_unavailable = _spill_on_unavailable
        self._fail_on_unavailable = _fail_on_unavailable


class PlacementGroupSchedulingStrategy:
    """Run in a bundle of PLACEMENT_GROUP: bundle PLACEMENT_GROUP_BUNDLE_INDEX,
    or any of them with -1 (the default)."""

    def __init__(self, placement_group, placement_group_bundle_index=-1,
                 placement_group_capture_child_tasks=None):
        from ray.util.placement_group import PlacementGroup
        if not isinstance(placement_group, PlacementGroup):
            raise TypeError("PlacementGroupSchedulingStrategy: placement_group must be a "
                            "PlacementGroup (from ray.util.placement_group)")
        if placement_group_capture_child_tasks:
            raise ValueError("placement_group_capture_child_tasks is not supported yet")
        self.placement_group = placement_group
        self.placement_group_bundle_index = placement_group_bundle_index
        self.placement_group_capture_child_tasks = placement_group_capture_child_tasks


def placement_kwargs(s):
    """The placement arguments of _raylet.submit/actor_create for a
    scheduling_strategy option value."""
    if s is None or s == "DEFAULT":
        return {"strategy": 0}
    if s == "SPREAD":
        return {"strategy": 1}
    if isinstance(s, NodeAffinitySchedulingStrategy):
        return {"strategy": 2, "node_id": s.node_id, "soft": s.soft}
    if isinstance(s, PlacementGroupSchedulingStrategy):
        return {"strategy": 0, "placement_group": s.placement_group._core,
                "bundle_index": int(s.placement_group_bundle_index)}
    raise ValueError("scheduling_strategy %r is not supported yet (use \"DEFAULT\", \"SPREAD\", "
                     "NodeAffinitySchedulingStrategy or PlacementGroupSchedulingStrategy)" % (s,))
