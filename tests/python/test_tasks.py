"""Remote functions, options, objects (get/put/wait), ObjectRef arguments,
errors and timeouts."""
import os
import time

import numpy as np
import pytest

import ray
from ray.exceptions import GetTimeoutError, RayTaskError, WorkerCrashedError

pytestmark = pytest.mark.usefixtures("ray_local")


@ray.remote
def square(x):
    return x * x


@ray.remote
def add(a, b=10, *, c=0):
    return a + b + c


@ray.remote(num_returns=2)
def pair(x):
    return x, -x


@ray.remote
def fail(msg):
    raise ValueError(msg)


class CustomError(Exception):
    pass


@ray.remote
def fail_custom():
    raise CustomError("custom")


@ray.remote
def ident(x):
    return x


@ray.remote
def kinds(*args):
    return [type(a).__name__ for a in args]


@ray.remote
def get_nested(lst):
    return [type(lst[0]).__name__, ray.get(lst[0])]


@ray.remote
def crash():
    os._exit(3)


@ray.remote
def crash_once(marker):
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(3)
    return "second try"


@ray.remote
def nested_square(x):
    return ray.get(square.remote(x)) + 1


@ray.remote
def settle_when(path, value, error):
    """Returns VALUE (or raises ValueError(ERROR)) once PATH exists."""
    while not os.path.exists(path):
        time.sleep(0.01)
    if error:
        raise ValueError(error)
    return value


@ray.remote
def arr_sum(a):
    return float(a.sum()), a.flags.writeable


@ray.remote
def make_array(n):
    return np.ones(n, dtype=np.float64)


def test_remote_function_returns_value():
    assert ray.get(square.remote(7)) == 49


def test_get_list_keeps_order():
    refs = [square.remote(i) for i in range(20)]
    assert ray.get(refs) == [i * i for i in range(20)]


def test_kwargs_and_defaults():
    assert ray.get(add.remote(1)) == 11
    assert ray.get(add.remote(1, 2, c=3)) == 6
    assert ray.get(add.remote(a=5, b=5)) == 10


def test_num_returns():
    a, b = pair.remote(4)
    assert ray.get([a, b]) == [4, -4]
    x, y, z = ident.options(num_returns=3).remote((1, 2, 3))
    assert ray.get([x, y, z]) == [1, 2, 3]


def test_num_returns_mismatch_is_task_error():
    refs = ident.options(num_returns=2).remote(5)
    with pytest.raises(RayTaskError, match="num_returns=2"):
        ray.get(refs[0])


def test_options_cpus_resources_spread():
    assert ray.get(square.options(num_cpus=0).remote(3)) == 9
    assert ray.get(square.options(num_cpus=2, scheduling_strategy="SPREAD").remote(4)) == 16
    assert ray.get(square.options(scheduling_strategy="DEFAULT", name="sq").remote(5)) == 25


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="unsupported option"):
        square.options(bogus=1)
    with pytest.raises(ValueError, match="not supported yet"):
        square.options(scheduling_strategy="NOPE").remote(1)
    with pytest.raises(ValueError, match="num_cpus"):
        square.options(num_cpus=-1).remote(1)


def test_calling_remote_function_directly_is_an_error():
    with pytest.raises(TypeError, match="remote"):
        square(3)


def test_infeasible_task_times_out():
    ref = square.options(resources={"no_such_resource": 1}).remote(2)
    with pytest.raises(GetTimeoutError):
        ray.get(ref, timeout=0.5)
    ready, rest = ray.wait([ref], timeout=0.2)
    assert ready == [] and rest == [ref]
    ray.cancel(ref)


def test_get_timeout_is_also_builtin_timeout_error():
    ref = square.options(resources={"no_such_resource": 1}).remote(2)
    with pytest.raises(TimeoutError):
        ray.get([ref], timeout=0)
    ray.cancel(ref)


def test_remote_exception_is_instance_of_cause_with_traceback():
    with pytest.raises(ValueError) as ei:
        ray.get(fail.remote("boom"))
    e = ei.value
    assert isinstance(e, RayTaskError)
    text = str(e)
    assert "ray::fail()" in text and "boom" in text
    assert 'raise ValueError(msg)' in text and "Traceback" in text
    assert isinstance(e.cause, ValueError)


def test_custom_exception_class():
    with pytest.raises(CustomError):
        ray.get(fail_custom.remote())


def test_error_propagates_through_dependent_task():
    with pytest.raises(ValueError, match="first"):
        ray.get(square.remote(fail.remote("first")))


def test_dependent_task_of_a_dropped_ref_gets_its_late_value(tmp_path):
    # The inner ref is dropped as soon as the outer task is submitted, and
    # its task finishes only afterwards.  When that task went straight to a
    # worker leased by the driver (a lone task after another one: most
    # rounds), its value must still reach the outer task waiting at the
    # raylet; before the fix such a round hung.
    for i in range(6):
        assert ray.get(square.remote(i)) == i * i  # a lone task: leases a worker
        gate = str(tmp_path / ("gate%d" % i))
        error = "late%d" % i if i % 2 else None
        ref = square.remote(settle_when.remote(gate, i, error))
        open(gate, "w").close()
        if error:
            with pytest.raises(ValueError, match=error):
                ray.get(ref)
        else:
            assert ray.get(ref) == i * i


def test_worker_crash_without_retries():
    with pytest.raises(WorkerCrashedError):
        ray.get(crash.options(max_retries=0).remote())


def test_max_retries_reruns_after_crash(tmp_path):
    marker = str(tmp_path / "crashed")
    assert ray.get(crash_once.options(max_retries=1).remote(marker)) == "second try"


def test_put_get_roundtrip():
    for v in [1, "s", b"b", None, {"a": [1, 2.5]}, (1, 2), set([3])]:
        assert ray.get(ray.put(v)) == v


def test_put_of_objectref_refused():
    with pytest.raises(TypeError):
        ray.put(ray.put(1))


def test_large_numpy_get_is_readonly_zero_copy():
    a = np.arange(1 << 20, dtype=np.int64)  # 8 MiB: in the shm store
    ref = ray.put(a)
    b = ray.get(ref)
    assert np.array_equal(a, b)
    assert not b.flags.writeable
    assert not b.flags.owndata
    with pytest.raises(ValueError):
        b[0] = 1


def test_large_numpy_arg_and_return():
    a = np.ones(1 << 18)  # 2 MiB
    assert ray.get(arr_sum.remote(a)) == (float(1 << 18), False)
    b = ray.get(make_array.remote(1 << 18))
    assert b.shape == (1 << 18,) and b.sum() == 1 << 18


def _mapped_file(arr):
    """The file whose mapping holds ARR's data in this process ("" for
    anonymous memory such as a malloc'd copy)."""
    addr = arr.__array_interface__["data"][0]
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if lo <= addr < hi:
                return parts[5].strip() if len(parts) > 5 else ""
    return ""


@ray.remote
def arg_mapping(a):
    return _mapped_file(a), float(a.sum())


def test_large_arg_is_a_view_of_the_store():
    # A task reads a large argument where it lies in the shared-memory
    # store, as the driver's ray.get does, not from a copy (issue 15).
    a = np.ones(1 << 20)  # 8 MiB
    ref = ray.put(a)
    here = _mapped_file(ray.get(ref))
    there, total = ray.get(arg_mapping.remote(ref))
    assert here.startswith("/") and (there, total) == (here, float(1 << 20))


@ray.remote
class Keeper:
    def keep(self, a):
        self.kept = a  # outlives the call: the worker's own pin holds it
        return _mapped_file(a) != ""

    def check(self, n):
        return bool(np.array_equal(self.kept, np.arange(n, dtype=np.int64)))

    def drop(self):
        del self.kept
        return True


@ray.remote
def fill(n, v):
    return np.full(n, v, dtype=np.int64)


def test_kept_arg_view_is_not_freed_under_its_reader():
    n = 1 << 21  # 16 MiB
    k = Keeper.remote()
    ref = ray.put(np.arange(n, dtype=np.int64))
    assert ray.get(k.keep.remote(ref)) is True
    del ref  # the owner frees the object; the actor still reads it
    for v in range(6):  # objects of the same size take freed space
        ray.get(fill.remote(n, -v))
    assert ray.get(k.check.remote(n)) is True
    assert ray.get(k.drop.remote()) is True
    ray.kill(k)


@ray.remote
def churn_faults(rounds, mb):
    """Page faults of each round of allocating and freeing three MB-sized
    arrays in this worker."""
    import resource
    faults = []
    for _ in range(rounds):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        arrays = [np.ones(mb << 17) for _ in range(3)]
        del arrays
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    return faults


def test_worker_reuses_freed_array_memory():
    # A worker keeps freed heap memory for the next arrays instead of
    # faulting in fresh pages each time (issue 15: page faults were most of
    # map_batches' CPU).  glibc's defaults fault in every round (~2300).
    faults = ray.get(churn_faults.remote(4, 3))
    assert max(faults[1:]) < 200, faults


def test_large_bytes_through_store():
    data = os.urandom(300 * 1024)
    assert ray.get(ray.put(data)) == data
    assert ray.get(ident.remote(data)) == data


def test_toplevel_ref_arg_resolved_nested_ref_passed():
    r = ray.put(21)
    assert ray.get(square.remote(r)) == 441
    assert ray.get(kinds.remote(r, 3)) == ["int", "int"]
    assert ray.get(get_nested.remote([ray.put("inner")])) == ["ObjectRef", "inner"]


def test_nested_tasks():
    assert ray.get(nested_square.remote(6)) == 37


def test_wait_num_returns_and_all():
    refs = [square.remote(i) for i in range(5)]
    ready, rest = ray.wait(refs, num_returns=5)
    assert len(ready) == 5 and rest == []
    ready, rest = ray.wait(refs, num_returns=2)
    assert len(ready) == 2 and len(rest) == 3 and set(ready) | set(rest) == set(refs)


def test_wait_bad_arguments():
    r = ray.put(1)
    with pytest.raises(ValueError):
        ray.wait([r], num_returns=2)
    with pytest.raises(TypeError):
        ray.wait(r)


def test_objectref_is_hashable_printable_comparable():
    r = ray.put(5)
    assert repr(r).startswith("ObjectRef(") and r.hex() in repr(r)
    assert {r: 1}[r] == 1
    assert r == r and r != ray.put(5)


def test_get_of_non_ref_is_type_error():
    with pytest.raises(TypeError, match="ObjectRef"):
        ray.get(5)


def test_ref_from_earlier_session_is_refused():
    r = ray.put(1)
    ray.shutdown()
    ray.init(num_cpus=4)
    with pytest.raises(ValueError, match="earlier"):
        ray.get(r)
