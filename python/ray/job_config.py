"""ray.job_config.JobConfig: options of the job a driver starts."""


class JobConfig:
    """Ray's JobConfig, for ray.init(job_config=...): code_search_path (the
    directories or .so files of C task libraries for
    ray.cross_language), runtime_env and metadata."""

    def __init__(self, *, code_search_path=None, runtime_env=None, metadata=None):
        if code_search_path is not None:
            if isinstance(code_search_path, str):
                code_search_path = [code_search_path]
            code_search_path = [str(p) for p in code_search_path]
        self.code_search_path = code_search_path or []
        self.runtime_env = runtime_env
        self.metadata = metadata or {}
