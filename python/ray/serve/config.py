"""Serve's option objects with Ray's names and defaults: AutoscalingConfig,
HTTPOptions, and the checks of @serve.deployment's arguments."""
import math
import os

SERVE_NAMESPACE = "serve"
CONTROLLER_NAME = "SERVE_CONTROLLER_ACTOR"
DEFAULT_APP_NAME = "default"
# Ray's environment overrides of the proxies' defaults.
DEFAULT_HTTP_HOST = os.environ.get("RAY_SERVE_DEFAULT_HTTP_HOST", "127.0.0.1")
DEFAULT_HTTP_PORT = int(os.environ.get("RAY_SERVE_DEFAULT_HTTP_PORT", "8000"))
DEFAULT_MAX_ONGOING_REQUESTS = 5
DEFAULT_HEALTH_CHECK_PERIOD_S = 10.0
DEFAULT_HEALTH_CHECK_TIMEOUT_S = 30.0

AUTOSCALING_KEYS = {"min_replicas", "max_replicas", "initial_replicas",
                    "target_ongoing_requests", "upscale_delay_s", "downscale_delay_s",
                    "metrics_interval_s", "look_back_period_s", "smoothing_factor",
                    "upscaling_factor", "downscaling_factor"}


class AutoscalingConfig:
    """Ray's autoscaling_config: replicas between min_replicas and
    max_replicas so that each has about target_ongoing_requests."""

    def __init__(self, min_replicas=1, max_replicas=1, initial_replicas=None,
                 target_ongoing_requests=2.0, upscale_delay_s=30.0, downscale_delay_s=600.0,
                 **ignored):
        bad = sorted(set(ignored) - AUTOSCALING_KEYS)
        if bad:
            raise ValueError("autoscaling_config: unknown field(s) %s" % ", ".join(bad))
        if not isinstance(min_replicas, int) or min_replicas < 0:
            raise ValueError("autoscaling_config: min_replicas must be an int >= 0")
        if not isinstance(max_replicas, int) or max_replicas < max(min_replicas, 1):
            raise ValueError("autoscaling_config: max_replicas must be an int >= "
                             "max(min_replicas, 1)")
        if target_ongoing_requests is None or target_ongoing_requests <= 0:
            raise ValueError("autoscaling_config: target_ongoing_requests must be > 0")
        self.min_replicas = min_replicas
        self.max_replicas = max_replicas
        self.initial_replicas = initial_replicas
        self.target_ongoing_requests = float(target_ongoing_requests)
        self.upscale_delay_s = float(upscale_delay_s)
        self.downscale_delay_s = float(downscale_delay_s)

    @classmethod
    def parse(cls, value):
        if value is None or isinstance(value, AutoscalingConfig):
            return value
        if not isinstance(value, dict):
            raise TypeError("autoscaling_config must be a dict or AutoscalingConfig")
        return cls(**value)

    def start_replicas(self):
        n = self.initial_replicas if self.initial_replicas is not None else self.min_replicas
        return max(n, 1) if self.min_replicas > 0 else n

    def desired(self, current, total_ongoing):
        """The replica count for TOTAL_ONGOING requests across CURRENT replicas."""
        want = math.ceil(total_ongoing / self.target_ongoing_requests)
        return min(max(want, self.min_replicas), self.max_replicas)

    def to_dict(self):
        return dict(self.__dict__)


class HTTPOptions:
    """Ray's http_options: host (127.0.0.1) and port (8000) of every node's proxy."""

    def __init__(self, host=DEFAULT_HTTP_HOST, port=DEFAULT_HTTP_PORT, location="EveryNode",
                 **ignored):
        if not isinstance(port, int) or not 0 <= port < 65536:
            raise ValueError("http_options: port must be an int in 0..65535")
        if location not in ("EveryNode", "HeadOnly", "NoServer"):
            raise ValueError("http_options: location must be EveryNode, HeadOnly or NoServer")
        self.host = host
        self.port = port
        self.location = location

    @classmethod
    def parse(cls, value):
        if value is None:
            return cls()
        if isinstance(value, HTTPOptions):
            return value
        if not isinstance(value, dict):
            raise TypeError("http_options must be a dict or HTTPOptions")
        return cls(**value)
