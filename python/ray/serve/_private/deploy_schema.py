"""Ray's ServeDeploySchema (the body of PUT /api/serve/applications/ and of
`serve deploy`), checked by hand with the texts of Ray's pydantic (v1
API, which Ray's Serve schemas use): the same fields, defaults,
validators and messages, and an error whose repr() is pydantic's
`ValidationError(model='ServeDeploySchema', errors=[...])` that Ray's
dashboard answers with status 400.  Debian's python3 has no pydantic."""

PROXY_LOCATIONS = ("Disabled", "HeadOnly", "EveryNode")
DEFAULT_APP_NAME = "default"


class SchemaError(Exception):
    """A config that does not fit the schema; ERRORS are pydantic's dicts."""

    def __init__(self, errors, model="ServeDeploySchema"):
        super().__init__(errors)
        self.model = model
        self.errors = errors

    def __repr__(self):
        return "ValidationError(model=%r, errors=%r)" % (self.model, self.errors)

    def __str__(self):
        n = len(self.errors)
        lines = ["%d validation error%s for %s" % (n, "" if n == 1 else "s", self.model)]
        for e in self.errors:
            lines.append(" -> ".join(str(x) for x in e["loc"]))
            lines.append("  %s (type=%s)" % (e["msg"], e["type"]))
        return "\n".join(lines)


class _Checker:
    def __init__(self):
        self.errors = []

    def err(self, loc, msg, typ):
        self.errors.append({"loc": tuple(loc), "msg": msg, "type": typ})

    def missing(self, loc):
        self.err(loc, "field required", "value_error.missing")

    # pydantic v1's coercing validators: the value, or None after an error.
    def str_(self, v, loc):
        if isinstance(v, str):
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)
        self.err(loc, "str type expected", "type_error.str")
        return None

    def int_(self, v, loc):
        if isinstance(v, bool) or isinstance(v, int):
            return int(v)
        if isinstance(v, str):
            try:
                return int(v.strip())
            except ValueError:
                pass
        if isinstance(v, float) and v == int(v):
            return int(v)
        self.err(loc, "value is not a valid integer", "type_error.integer")
        return None

    def dict_(self, v, loc):
        if isinstance(v, dict):
            return v
        self.err(loc, "value is not a valid dict", "type_error.dict")
        return None

    def list_(self, v, loc):
        if isinstance(v, (list, tuple)):
            return list(v)
        self.err(loc, "value is not a valid list", "type_error.list")
        return None


def _route_prefix_error(v):
    if not v.startswith("/"):
        return 'Got "%s" for route_prefix. Route prefix must start with "/".' % v
    if len(v) > 1 and v.endswith("/"):
        return ('Got "%s" for route_prefix. Route prefix cannot end with "/" unless the '
                'entire prefix is just "/".' % v)
    if "{" in v or "}" in v:
        return ('Got "%s" for route_prefix. Route prefix cannot contain wildcards, so it '
                'cannot contain "{" or "}".' % v)
    return ""


def _import_path_error(v):
    bad = 'Got invalid import path "%s". An import path ' % v
    if ":" in v:
        if v.count(":") > 1:
            return bad + "may have at most one colon."
        if v.rfind(":") == 0 or v.rfind(":") == len(v) - 1:
            return bad + "may not start or end with a colon."
        return ""
    if v.count(".") < 1:
        return (bad + "must contain at least on dot or colon separating the module (and "
                'potentially submodules) from the deployment graph. E.g.: '
                '"module.deployment_graph".')
    if v.rfind(".") == 0 or v.rfind(".") == len(v) - 1:
        return bad + "may not start or end with a dot."
    return ""


def _check_deployment(c, d, loc):
    d = c.dict_(d, loc)
    if d is None:
        return
    if "name" not in d:
        c.missing(loc + ["name"])
    else:
        c.str_(d["name"], loc + ["name"])
    n = d.get("num_replicas")
    if n is not None and n != "auto":
        if isinstance(n, bool) or not isinstance(n, int):
            c.err(loc + ["__root__"], '`num_replicas` must be an int or "auto", but got: %s'
                  % n, "value_error")
        elif n < 1:
            c.err(loc + ["num_replicas"], "ensure this value is greater than 0",
                  "value_error.number.not_gt")
        elif d.get("autoscaling_config") is not None:
            c.err(loc + ["__root__"], "Manually setting num_replicas is not allowed when "
                  "autoscaling_config is provided.", "value_error")
    for key in ("user_config", "autoscaling_config"):
        if d.get(key) is not None:
            c.dict_(d[key], loc + [key])
    if d.get("max_ongoing_requests") is not None:
        m = c.int_(d["max_ongoing_requests"], loc + ["max_ongoing_requests"])
        if m is not None and m <= 0:
            c.err(loc + ["max_ongoing_requests"], "ensure this value is greater than 0",
                  "value_error.number.not_gt")
    if d.get("ray_actor_options") is not None:
        c.dict_(d["ray_actor_options"], loc + ["ray_actor_options"])


def _check_app(c, a, loc):
    """Application A at LOC; returns (name, route_prefix) or None."""
    a = c.dict_(a, loc)
    if a is None:
        return None
    name = c.str_(a.get("name", DEFAULT_APP_NAME), loc + ["name"])
    prefix = a.get("route_prefix", "/")
    if prefix is not None:
        prefix = c.str_(prefix, loc + ["route_prefix"])
        why = _route_prefix_error(prefix) if prefix is not None else ""
        if why:
            c.err(loc + ["route_prefix"], why, "value_error")
    if "import_path" not in a:
        c.missing(loc + ["import_path"])
    else:
        path = c.str_(a["import_path"], loc + ["import_path"])
        why = _import_path_error(path) if path is not None else ""
        if why:
            c.err(loc + ["import_path"], why, "value_error")
    for key in ("runtime_env", "args"):
        if key in a:
            c.dict_(a[key], loc + [key])
    if "deployments" in a:
        deps = c.list_(a["deployments"], loc + ["deployments"])
        for j, d in enumerate(deps or []):
            _check_deployment(c, d, loc + ["deployments", j])
    return name, prefix


def _check_unique(c, apps):
    names = [n for n, _ in apps]
    dup = sorted({'"%s"' % n for n in names if names.count(n) > 1})
    if dup:
        what = ("application " if len(dup) == 1 else "applications ") + ", ".join(dup)
        c.err(["applications"], "Found multiple configs for %s. Please remove all "
              "duplicates." % what, "value_error")
    routes = [p for _, p in apps if p is not None]
    dup = sorted({'"%s"' % p for p in routes if routes.count(p) > 1})
    if dup:
        what = ("route prefix " if len(dup) == 1 else "route prefixes ") + ", ".join(dup)
        c.err(["applications"], "Found duplicate applications for %s. Please ensure each "
              "application's route_prefix is unique." % what, "value_error")
    if any(n == "" for n in names):
        c.err(["applications"], "Application names must be nonempty.", "value_error")


def _check_top(c, cfg):
    loc = cfg.get("proxy_location")
    if loc is not None and loc not in PROXY_LOCATIONS:
        c.err(["proxy_location"], "value is not a valid enumeration member; permitted: %s"
              % ", ".join("'%s'" % x for x in PROXY_LOCATIONS), "type_error.enum")
    http = cfg.get("http_options")
    if http is not None:
        http = c.dict_(http, ["http_options"])
        if http is not None and "host" in http:
            c.str_(http["host"], ["http_options", "host"])
        if http is not None and "port" in http:
            c.int_(http["port"], ["http_options", "port"])


def validate(cfg):
    """CFG (parsed JSON) checked as Ray's ServeDeploySchema.  Raises
    SchemaError with every error found, as pydantic does."""
    c = _Checker()
    if not isinstance(cfg, dict):
        c.err(["__root__"], "ServeDeploySchema expected dict not %s" % type(cfg).__name__,
              "type_error")
        raise SchemaError(c.errors)
    _check_top(c, cfg)
    if "applications" not in cfg:
        c.missing(["applications"])
        raise SchemaError(c.errors)
    apps = c.list_(cfg["applications"], ["applications"])
    checked = []
    before = len(c.errors)
    for i, a in enumerate(apps or []):
        r = _check_app(c, a, ["applications", i])
        if r is not None:
            checked.append(r)
    if len(c.errors) == before and apps is not None:
        _check_unique(c, checked)
        for a in apps:
            for key in ("host", "port"):
                if key in a:
                    c.err(["__root__"], _nested_message(key, a), "value_error")
                    break
    if c.errors:
        raise SchemaError(c.errors)


def _nested_message(key, a):
    name = a.get("name", DEFAULT_APP_NAME)
    if key == "host":
        return ('Host "%s" is set in the config for application `%s`. Please remove it and '
                "set host in the top level deploy config only." % (a["host"], name))
    return ("Port %s is set in the config for application `%s`. Please remove it and set "
            "port in the top level deploy config only." % (a["port"], name))
