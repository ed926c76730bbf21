"""Ray Serve on rayc: deployments of Python classes and functions as
replica actors behind handles and an HTTP proxy (see README.md)."""
from ray.serve.api import (delete, get_app_handle, get_deployment_handle, run, shutdown,
                           start, status)
from ray.serve.batching import batch
from ray.serve.config import AutoscalingConfig, HTTPOptions
from ray.serve.deployment import Application, Deployment, deployment
from ray.serve.handle import DeploymentHandle, DeploymentResponse

__all__ = ["deployment", "run", "start", "status", "delete", "shutdown", "get_app_handle",
           "get_deployment_handle", "batch", "Application", "Deployment",
           "DeploymentHandle", "DeploymentResponse", "AutoscalingConfig", "HTTPOptions"]
