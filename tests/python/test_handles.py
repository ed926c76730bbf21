"""Actor handles travel in task arguments and values; ray.get_actor's
handle knows the class's @ray.method(num_returns=); a task's or actor's
own runtime_env env_vars apply to it."""
import os

import pytest

import ray


@pytest.fixture(scope="module", autouse=True)
def _ray(ray_local):
    yield


@ray.remote
class Counter:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += k
        return self.n

    @ray.method(num_returns=2)
    def pair(self):
        return self.n, -self.n


def test_handle_passed_to_a_task_calls_the_same_actor():
    c = Counter.remote()

    @ray.remote
    def bump(counter, k):
        return ray.get(counter.add.remote(k))

    assert ray.get(bump.remote(c, 5)) == 5
    assert ray.get(bump.remote(c, 2)) == 7
    assert ray.get(c.add.remote(0)) == 7


def test_handle_nested_in_a_value_and_inside_an_actor():
    c = Counter.remote()

    @ray.remote
    def bump_all(counters):
        return [ray.get(x.add.remote(1)) for x in counters["all"]]

    assert ray.get(bump_all.remote({"all": [c, c]})) == [1, 2]

    @ray.remote
    class Holder:
        def __init__(self, counter):
            self.counter = counter

        def bump(self):
            return ray.get(self.counter.add.remote(10))

    assert ray.get(Holder.remote(c).bump.remote()) == 12
    # A handle returned from a task works in the driver.

    @ray.remote
    def give(counter):
        return counter

    back = ray.get(give.remote(c))
    assert ray.get(back.add.remote(1)) == 13


def test_get_actor_handle_keeps_num_returns():
    Counter.options(name="rt_counter").remote()
    h = ray.get_actor("rt_counter")
    a, b = h.pair.remote()
    assert ray.get([a, b]) == [0, 0]
    assert repr(h).startswith("Actor(Counter, ")


def test_task_runtime_env_env_vars_apply_to_that_task_only():
    @ray.remote
    def read():
        return os.environ.get("RT_TASK_VAR")

    assert ray.get(read.options(runtime_env={"env_vars": {"RT_TASK_VAR": "one"}}).remote()) \
        == "one"
    # The same worker runs the next task without it.
    assert ray.get([read.remote() for _ in range(8)]) == [None] * 8


def test_actor_runtime_env_env_vars_last_for_its_life():
    @ray.remote
    class Env:
        def __init__(self):
            self.at_init = os.environ.get("RT_ACTOR_VAR")

        def read(self):
            return self.at_init, os.environ.get("RT_ACTOR_VAR")

    e = Env.options(runtime_env={"env_vars": {"RT_ACTOR_VAR": "kept"}}).remote()
    assert ray.get(e.read.remote()) == ("kept", "kept")


@pytest.mark.parametrize("renv, message", [
    ({"working_dir": "."}, "cannot be set per task or actor"),
    ({"env_vars": {"A": 1}}, "dict of str to str"),
    ("nope", "must be a dict"),
])
def test_bad_task_runtime_env_is_refused(renv, message):
    @ray.remote
    def f():
        return 1

    with pytest.raises((ValueError, TypeError), match=message):
        f.options(runtime_env=renv).remote()
