"""The client of Serve's REST API on the dashboard port (Ray's
ServeSubmissionClient): what `serve deploy/status/shutdown --address
http://HOST:8265` use.  The cluster token comes from RAY_AUTH_TOKEN,
RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token, as for `ray job`; HTTPS is
verified with RAY_TLS_CA_CERT when set."""
import json
import os
import ssl
import urllib.error
import urllib.request

PATH = "/api/serve/applications/"
TIMEOUT_S = 600


def is_dashboard_address(address):
    return isinstance(address, str) and address.startswith(("http://", "https://"))


def _token():
    t = os.environ.get("RAY_AUTH_TOKEN")
    if t:
        return t.strip()
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.expanduser("~/.ray/auth_token")
    try:
        with open(path) as f:
            return f.read().strip() or None
    except OSError:
        return None


class ServeSubmissionClient:
    def __init__(self, address):
        self.address = address.rstrip("/")

    def _request(self, method, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        token = _token()
        if token:
            headers["Authorization"] = "Bearer " + token
        req = urllib.request.Request(self.address + PATH, method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
        ctx = None
        if self.address.startswith("https://"):
            ca = os.environ.get("RAY_TLS_CA_CERT")
            ctx = ssl.create_default_context(cafile=ca or None)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S, context=ctx) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            # Ray's client: the status and the server's text.
            raise RuntimeError("Request failed with status code %d: %s." % (
                e.code, e.read().decode(errors="replace").strip())) from None
        except (urllib.error.URLError, OSError) as e:
            raise ConnectionError("Failed to connect to Ray at address: %s (%s)." % (
                self.address, getattr(e, "reason", e))) from None

    def deploy_applications(self, config):
        self._request("PUT", config)

    def get_serve_details(self):
        return json.loads(self._request("GET"))

    def delete_applications(self):
        self._request("DELETE")


def status_from_details(d):
    """Ray's `serve status` (ServeInstanceDetails._get_status) as a dict."""
    apps = {}
    for name, a in d.get("applications", {}).items():
        deps = {}
        for dn, dep in a.get("deployments", {}).items():
            states = {}
            for r in dep.get("replicas", []):
                states[r["state"]] = states.get(r["state"], 0) + 1
            deps[dn] = {"status": dep["status"], "status_trigger": dep.get("status_trigger"),
                        "replica_states": states, "message": dep.get("message", "")}
        apps[name] = {"status": a["status"], "message": a.get("message", ""),
                      "last_deployed_time_s": a.get("last_deployed_time_s"),
                      "deployments": deps}
    return {"proxies": {nid: p["status"] for nid, p in d.get("proxies", {}).items()},
            "applications": apps, "target_capacity": d.get("target_capacity")}
