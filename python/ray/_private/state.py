"""The cluster as the GCS sees it: ray.nodes(), ray.cluster_resources(),
ray.available_resources()."""
from ray import _raylet


def _nodes():
    from ray import _check_connected, _core_error
    _check_connected()
    try:
        return _raylet.nodes()
    except _raylet.CoreError as e:
        raise _core_error(e) from None


def nodes():
    """Every node the cluster has had: dicts with NodeID, Alive,
    NodeManagerAddress, NodeManagerHostname, NodeManagerPort,
    ObjectManagerPort, Resources, ... (Ray's keys; "alive" too)."""
    out = []
    for n in _nodes():
        n = dict(n)
        n["alive"] = n["Alive"]
        out.append(n)
    return out


def _sum(key):
    total = {}
    for n in _nodes():
        if n["Alive"]:
            for name, q in n[key].items():
                total[name] = total.get(name, 0.0) + q
    return total


def cluster_resources():
    """The total resources of the live nodes, e.g. {"CPU": 4.0, ...}."""
    return _sum("Resources")


def available_resources():
    """The resources of the live nodes not in use right now (as last
    reported by each raylet); resources with nothing left are left out."""
    return {k: v for k, v in _sum("AvailableResources").items() if v > 0}
