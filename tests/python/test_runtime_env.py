"""ray.init(runtime_env=...): working_dir and py_modules travel as packages
through the GCS, so tasks and actors import them even after the driver's
own copy is gone; env_vars reach workers; bad input is refused in one line."""
import os
import shutil

import pytest

import ray


@pytest.fixture
def fresh():
    yield
    if ray.is_initialized():
        ray.shutdown()


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_working_dir_is_cwd_and_importable_after_original_is_gone(tmp_path, fresh):
    wd = tmp_path / "project"
    _write(wd / "rt_helper.py", "def triple(x):\n    return 3 * x\n")
    _write(wd / "data" / "value.txt", "41\n")
    ray.init(num_cpus=2, runtime_env={"working_dir": str(wd)})
    shutil.rmtree(wd)  # only the package in the cluster is left

    @ray.remote
    def use():
        import rt_helper
        with open("data/value.txt") as f:
            return rt_helper.triple(int(f.read())), os.getcwd()

    value, cwd = ray.get(use.remote())
    assert value == 123
    assert "/runtime_resources/working_dir_files/_ray_pkg_" in cwd

    @ray.remote
    class Reader:
        def read(self):
            import rt_helper
            return rt_helper.triple(2)

    assert ray.get(Reader.remote().read.remote()) == 6


def test_py_modules_and_excludes(tmp_path, fresh):
    mod = tmp_path / "rt_pkg"
    _write(mod / "__init__.py", "from .inner import NAME\n")
    _write(mod / "inner.py", "NAME = 'from py_modules'\n")
    wd = tmp_path / "wd"
    _write(wd / "keep.txt", "kept\n")
    _write(wd / "big.bin", "left out\n")
    _write(wd / "logs" / "x.log", "left out\n")
    ray.init(num_cpus=2, runtime_env={"working_dir": str(wd), "py_modules": [str(mod)],
                                      "excludes": ["*.bin", "logs"]})

    @ray.remote
    def look():
        import rt_pkg
        return rt_pkg.NAME, sorted(os.listdir("."))

    name, files = ray.get(look.remote())
    assert name == "from py_modules"
    assert files == ["keep.txt"]


def test_same_content_is_one_package(tmp_path, fresh):
    from ray._private import runtime_env as renv
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        _write(d / "m.py", "X = 1\n")
    assert renv.pack(str(a), [], False)[0] == renv.pack(str(b), [], False)[0]
    _write(b / "m.py", "X = 2\n")
    assert renv.pack(str(a), [], False)[0] != renv.pack(str(b), [], False)[0]


def test_env_vars_reach_workers(fresh):
    ray.init(num_cpus=1, runtime_env={"env_vars": {"RT_ENV_PROBE": "yes"}})

    @ray.remote
    def probe():
        return os.environ.get("RT_ENV_PROBE")

    assert ray.get(probe.remote()) == "yes"


@pytest.mark.parametrize("renv, message", [
    ({"working_dir": "https://example.invalid/x.zip"}, "is not a valid URI"),
    ({"working_dir": "/no/such/rayc/dir"}, "does not exist"),
    ({"py_modules": "notalist"}, "py_modules must be a list"),
    ({"pip": ["requests"]}, "pip not supported by rayc's ray.init"),
])
def test_bad_runtime_env_is_refused_before_connecting(renv, message, fresh):
    with pytest.raises((ValueError, TypeError), match=message):
        ray.init(num_cpus=1, runtime_env=renv)
    assert not ray.is_initialized()


def test_unknown_gcs_package_is_refused(fresh):
    with pytest.raises(ValueError, match="Failed to set up runtime environment.*"
                                         "_ray_pkg_0000000000000000.zip"):
        ray.init(num_cpus=1, runtime_env={"working_dir": "gcs://_ray_pkg_0000000000000000.zip"})
    assert not ray.is_initialized()
