"""ray.util: placement groups and scheduling strategies."""
from ray.util import scheduling_strategies  # noqa: F401
from ray.util.placement_group import (PlacementGroup, get_placement_group, placement_group,
                                      remove_placement_group)

__all__ = ["placement_group", "remove_placement_group", "get_placement_group", "PlacementGroup",
           "scheduling_strategies"]
