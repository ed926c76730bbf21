"""ray.util: placement groups, scheduling strategies and get_node_ip_address."""
import socket

from ray import _raylet
from ray.util import scheduling_strategies  # noqa: F401
from ray.util.placement_group import (PlacementGroup, get_placement_group, placement_group,
                                      remove_placement_group)


def get_node_ip_address(address="8.8.8.8:53"):
    """The IP address of the node this process runs on: the node's own
    address once connected, else (as Ray) the local address a UDP socket
    towards ADDRESS would use (no packet is sent), 127.0.0.1 when there is
    no route."""
    if _raylet.is_initialized():
        ip = _raylet.info().get("node_ip")
        if ip:
            return ip
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((host, int(port)))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


__all__ = ["placement_group", "remove_placement_group", "get_placement_group", "PlacementGroup",
           "scheduling_strategies", "get_node_ip_address"]
