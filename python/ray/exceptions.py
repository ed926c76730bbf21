"""Ray's exception classes (ray.exceptions), mapped from libray's statuses."""


class RayError(Exception):
    """Base of every error ray raises."""


class RayTaskError(RayError):
    """A task or actor method raised.  ray.get raises an instance that also
    derives from the cause's class (``except ValueError`` catches a remote
    ValueError); its message carries the remote traceback."""

    def __init__(self, function_name="", traceback_str="", cause=None, pid=None, ip=None):
        self.function_name = function_name
        self.traceback_str = traceback_str
        self.cause = cause
        self.pid = pid
        self.ip = ip
        super().__init__(self._message())

    def _message(self):
        return "ray::%s() (pid=%s, ip=%s)\n%s" % (
            self.function_name, self.pid, self.ip, self.traceback_str.rstrip("\n"))

    def __str__(self):
        return self._message()

    def as_instanceof_cause(self):
        """This error as an instance of RayTaskError(CauseClass)."""
        cause_cls = type(self.cause) if self.cause is not None else None
        if cause_cls is None or issubclass(RayTaskError, cause_cls):
            return self
        err = self

        class cls(RayTaskError, cause_cls):
            def __init__(self):
                self.__dict__.update(err.__dict__)
                self._base = err  # what travels on when a task gets this error as input
                self.args = (err._message(),)

            def __getattr__(self, name):
                return getattr(err.cause, name)

            def __str__(self):
                return err._message()

        cls.__name__ = "RayTaskError(%s)" % cause_cls.__name__
        cls.__qualname__ = cls.__name__
        try:
            return cls()
        except Exception:
            return self


class GetTimeoutError(RayError, TimeoutError):
    """ray.get or ray.wait ran past its timeout."""


class RaySystemError(RayError):
    """Ray itself failed (lost connection to the node, bad value)."""


class WorkerCrashedError(RayError):
    """The worker running the task died; its retries are used up."""


class RayActorError(RayError):
    """The actor died (killed, crashed, constructor failed)."""


class ActorDiedError(RayActorError):
    """The actor is dead."""


class ObjectLostError(RayError):
    """The object's value is gone."""


class OwnerDiedError(ObjectLostError):
    """The process that owned the object exited."""


class TaskCancelledError(RayError):
    """The task was cancelled."""


class ObjectStoreFullError(RayError):
    """The object store has no room, even after spilling."""


class NodeDiedError(RayError):
    """The node running the task died."""


class TaskUnschedulableError(RayError):
    """No node can ever give the task its resources."""


class RuntimeEnvSetupError(RayError):
    """A worker could not set up the job's runtime_env (its working_dir or
    py_modules package)."""


class ActorNotFoundError(RayError, ValueError):
    """No live actor has that name."""


class CrossLanguageError(RayError):
    """A C function called through ray.cross_language failed (ray_error, or
    no such function in the job's code search path)."""


_BY_STATUS = {
    "CROSS_LANGUAGE": CrossLanguageError,  # set by ray._raylet for C results
    "RAY_ERR_TASK": RayError,
    "RAY_ERR_WORKER_CRASHED": WorkerCrashedError,
    "RAY_ERR_ACTOR_DIED": ActorDiedError,
    "RAY_ERR_OBJECT_LOST": ObjectLostError,
    "RAY_ERR_OWNER_DIED": OwnerDiedError,
    "RAY_ERR_TIMEOUT": GetTimeoutError,
    "RAY_ERR_CANCELLED": TaskCancelledError,
    "RAY_ERR_STORE_FULL": ObjectStoreFullError,
    "RAY_ERR_UNSCHEDULABLE": TaskUnschedulableError,
    "RAY_ERR_NODE_DIED": NodeDiedError,
    "RAY_ERR_NOT_FOUND": ActorNotFoundError,
}


def from_status(status, message):
    """The exception for libray status STATUS (its name) with MESSAGE."""
    return _BY_STATUS.get(status, RaySystemError)(message)
