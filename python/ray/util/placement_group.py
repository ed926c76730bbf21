"""Placement groups (ray.util.placement_group): bundles of resources
reserved together, all or nothing, then used by tasks and actors through
PlacementGroupSchedulingStrategy."""
import ray
from ray import _raylet

STRATEGIES = {"PACK": 0, "SPREAD": 1, "STRICT_PACK": 2, "STRICT_SPREAD": 3}


@ray.remote(num_cpus=0)
def _bundle_reservation_check(group_id):
    return group_id


class _GroupId:
    def __init__(self, hex_id):
        self._hex = hex_id

    def hex(self):
        return self._hex

    def __repr__(self):
        return "PlacementGroupID(%s)" % self._hex


class PlacementGroup:
    def __init__(self, core, bundles, strategy):
        self._core = core
        self.bundle_specs = [dict(b) for b in bundles]
        self.strategy = strategy
        self.id = _GroupId(core.hex())

    @property
    def bundle_count(self):
        return len(self.bundle_specs)

    def ready(self):
        """An ObjectRef that becomes ready when every bundle is reserved
        (the value is the group's hex id)."""
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy
        return _bundle_reservation_check.options(
            scheduling_strategy=PlacementGroupSchedulingStrategy(self, 0)).remote(self.id.hex())

    def wait(self, timeout_seconds=30):
        """True when every bundle is reserved within TIMEOUT_SECONDS."""
        ray._check_connected()
        try:
            return _raylet.pg_wait(self._core, float(timeout_seconds))
        except _raylet.CoreError as e:
            raise ray._core_error(e) from None

    def bundle_nodes(self):
        """The node id each bundle is reserved on ("" while pending)."""
        return _raylet.pg_nodes(self._core)

    def __eq__(self, other):
        return isinstance(other, PlacementGroup) and other.id.hex() == self.id.hex()

    def __hash__(self):
        return hash(self.id.hex())

    def __repr__(self):
        return "PlacementGroup(%s)" % self.id.hex()


def placement_group(bundles, strategy="PACK", name="", lifetime=None, **kwargs):
    """Reserves BUNDLES (a list of resource dicts, e.g. [{"CPU": 1}] * 2)
    laid out by STRATEGY (PACK, SPREAD, STRICT_PACK, STRICT_SPREAD); returns
    at once, use .ready() or .wait() to wait for the reservation."""
    ray._check_connected()
    if kwargs:
        raise ValueError("placement_group: unsupported argument(s) %s" % ", ".join(sorted(kwargs)))
    if strategy not in STRATEGIES:
        raise ValueError("Invalid placement group strategy %r. Supported strategies are: %s."
                         % (strategy, list(STRATEGIES)))
    if lifetime not in (None, "detached"):
        raise ValueError("Placement group `lifetime` argument must be either `None` or "
                         "'detached'. Got %r." % (lifetime,))
    if not isinstance(bundles, list) or not bundles:
        raise ValueError("The placement group `bundles` argument cannot contain an empty list")
    for b in bundles:
        if not isinstance(b, dict) or not b or all(v == 0 for v in b.values()):
            raise ValueError("Bundles cannot be an empty dictionary or resources with only 0 "
                             "values. Bundles: %r" % (bundles,))
    try:
        core = _raylet.pg_create(bundles, STRATEGIES[strategy], name or None, None,
                                 lifetime == "detached")
    except _raylet.CoreError as e:
        raise ValueError(e.args[1]) from None
    return PlacementGroup(core, bundles, strategy)


def remove_placement_group(placement_group):
    """Removes PLACEMENT_GROUP: its bundles are freed, its tasks and actors
    fail."""
    ray._check_connected()
    if not isinstance(placement_group, PlacementGroup):
        raise TypeError("remove_placement_group: expected a PlacementGroup")
    try:
        _raylet.pg_remove(placement_group._core)
    except _raylet.CoreError as e:
        raise ray._core_error(e) from None


def get_placement_group(placement_group_name):
    """The live placement group named PLACEMENT_GROUP_NAME (ValueError when
    there is none)."""
    ray._check_connected()
    try:
        core = _raylet.pg_get(placement_group_name)
    except _raylet.CoreError:
        raise ValueError("Failed to look up placement group with name: %s"
                         % placement_group_name) from None
    n = len(_raylet.pg_nodes(core))
    return PlacementGroup(core, [{}] * n, None)
