"""serve.status()'s objects, with Ray's attribute names (ServeStatus,
ApplicationStatusOverview, DeploymentStatusOverview)."""


class DeploymentStatusOverview:
    def __init__(self, name, d):
        self.name = name
        self.status = d["status"]
        self.replica_states = dict(d["replica_states"])
        self.message = d["message"]

    def __repr__(self):
        return "DeploymentStatusOverview(status=%s, replica_states=%s)" % (
            self.status, self.replica_states)


class ApplicationStatusOverview:
    def __init__(self, name, a):
        self.name = name
        self.status = a["status"]
        self.message = a["message"]
        self.route_prefix = a["route_prefix"]
        self.deployments = {k: DeploymentStatusOverview(k, v)
                            for k, v in a["deployments"].items()}

    def __repr__(self):
        return "ApplicationStatusOverview(status=%s, deployments=%s)" % (self.status,
                                                                        self.deployments)


class ServeStatus:
    def __init__(self, raw=None):
        raw = raw or {"applications": {}, "proxies": {}}
        self.applications = {k: ApplicationStatusOverview(k, v)
                             for k, v in raw["applications"].items()}
        self.proxies = dict(raw["proxies"])

    def __repr__(self):
        return "ServeStatus(applications=%s, proxies=%s)" % (self.applications, self.proxies)


def status_dict(raw):
    """Ray's `serve status` / REST answer shape."""
    apps = {}
    for name, a in raw["applications"].items():
        apps[name] = {"status": a["status"], "message": a["message"],
                      "route_prefix": a["route_prefix"],
                      "deployments": {k: {"status": v["status"],
                                          "replica_states": v["replica_states"],
                                          "message": v["message"]}
                                      for k, v in a["deployments"].items()}}
    return {"proxies": raw["proxies"], "applications": apps}
