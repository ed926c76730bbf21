"""ray.get_runtime_context(): who and where this code runs (job, node,
task, actor, namespace, the resources a task holds)."""
import re

from ray import _raylet

# A placement group bundle's resources: CPU_group_<index>_<group> and
# CPU_group_<group> (any bundle), and the bundle's own marker resource.
_GROUP_RES = re.compile(r"^(.+?)_group_(?:\d+_)?[0-9a-f]+$")


class RuntimeContext:
    """A snapshot of the calling process and thread; the task and actor
    parts are those of the task the calling thread runs."""

    def _info(self):
        from ray import _check_connected
        _check_connected()
        return _raylet.info()

    def get_job_id(self):
        return self._info()["job_id"]

    def get_node_id(self):
        return self._info()["node_id"]

    @property
    def namespace(self):
        return self._info()["namespace"]

    def get_task_id(self):
        """The running task's id (hex), or None in a driver."""
        self._info()
        t = _raylet.task_info()
        return t["task_id"] if t else None

    def get_actor_id(self):
        """The id (hex) of the actor this code runs in, or None."""
        self._info()
        t = _raylet.task_info()
        return t["actor_id"] or None if t else None

    def get_assigned_resources(self):
        """The resources the running task or actor holds, e.g. {"CPU": 1.0};
        {} in a driver."""
        self._info()
        t = _raylet.task_info()
        return _user_names(t["resources"]) if t else {}

    def get(self):
        """The context as a dict (Ray's older form)."""
        d = {"job_id": self.get_job_id(), "node_id": self.get_node_id(),
             "namespace": self.namespace}
        if self.get_task_id() is not None:
            d["task_id"] = self.get_task_id()
        if self.get_actor_id() is not None:
            d["actor_id"] = self.get_actor_id()
        return d


def _user_names(resources):
    """RESOURCES with placement group names back to the user's (CPU, not
    CPU_group_0_<id>), as Ray reports them."""
    out = {}
    for name, q in resources.items():
        m = _GROUP_RES.match(name)
        if m is not None and m.group(1) == "bundle":
            continue
        base = m.group(1) if m else name
        out[base] = out.get(base, 0.0) + q if m is None else q
    return out


def get_runtime_context():
    return RuntimeContext()
