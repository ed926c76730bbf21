"""Serve's exceptions (Ray's names)."""
from ray.exceptions import RayError


class RayServeException(RayError):
    pass


class BackPressureError(RayServeException):
    pass
