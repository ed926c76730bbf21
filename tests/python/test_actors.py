"""Actors: state, method calls, named actors, kill, errors."""
import os

import numpy as np
import pytest

import ray
from ray.exceptions import RayActorError, RayTaskError

pytestmark = pytest.mark.usefixtures("ray_local")


@ray.remote
class Counter:
    def __init__(self, start=0):
        self.n = start

    def inc(self, k=1):
        self.n += k
        return self.n

    def get(self):
        return self.n

    def pid(self):
        return os.getpid()

    def fail(self):
        raise KeyError("no such thing")

    def two(self):
        return 1, 2

    @ray.method(num_returns=2)
    def split(self):
        return "a", "b"

    def big(self):
        return np.zeros(1 << 17)


@ray.remote
class BadInit:
    def __init__(self):
        raise RuntimeError("constructor exploded")

    def ping(self):
        return "pong"


@ray.remote
def use_actor_value(x):
    return x * 2


def test_actor_keeps_state_in_order():
    c = Counter.remote(10)
    refs = [c.inc.remote() for _ in range(50)]
    assert ray.get(refs) == list(range(11, 61))
    assert ray.get(c.inc.remote(k=5)) == 65


def test_two_actors_are_separate_processes():
    a, b = Counter.remote(), Counter.remote()
    ray.get([a.inc.remote(), b.inc.remote(), b.inc.remote()])
    assert ray.get([a.get.remote(), b.get.remote()]) == [1, 2]
    assert ray.get(a.pid.remote()) != ray.get(b.pid.remote())


def test_method_exception_keeps_actor_alive():
    c = Counter.remote()
    with pytest.raises(KeyError) as ei:
        ray.get(c.fail.remote())
    assert isinstance(ei.value, RayTaskError)
    assert "ray::Counter.fail()" in str(ei.value)
    assert ray.get(c.inc.remote()) == 1


def test_actor_method_num_returns_and_results_as_args():
    c = Counter.remote()
    a, b = c.two.options(num_returns=2).remote()
    assert ray.get([a, b]) == [1, 2]
    assert ray.get(use_actor_value.remote(c.inc.remote(4))) == 8


def test_actor_large_return():
    c = Counter.remote()
    assert ray.get(c.big.remote()).shape == (1 << 17,)


def test_named_actor_get_actor():
    c = Counter.options(name="the_counter").remote(100)
    ray.get(c.inc.remote())
    h = ray.get_actor("the_counter")
    assert ray.get(h.inc.remote()) == 102


def test_get_actor_unknown_name():
    with pytest.raises(ValueError, match="no_such_actor"):
        ray.get_actor("no_such_actor")


def test_named_actor_name_taken():
    Counter.options(name="taken").remote()
    with pytest.raises(Exception, match="taken"):
        Counter.options(name="taken").remote()
    same = Counter.options(name="taken", get_if_exists=True).remote()
    assert ray.get(same.inc.remote()) == 1


def test_kill_fails_later_calls():
    c = Counter.remote()
    assert ray.get(c.inc.remote()) == 1
    ray.kill(c)
    # A call that was already on its way to the actor's worker may still be
    # answered; calls after the kill has taken effect fail.  (The timeout
    # only turns a hang into a failure.)
    with pytest.raises(RayActorError):
        for _ in range(100):
            ray.get(c.inc.remote(), timeout=60)


def test_kill_non_actor_is_an_error():
    with pytest.raises(ValueError, match="only supported for actors"):
        ray.kill("x")


def test_constructor_failure_fails_calls_with_reason():
    b = BadInit.remote()
    with pytest.raises(RayActorError, match="constructor exploded"):
        ray.get(b.ping.remote())


def test_unknown_method_is_attribute_error():
    c = Counter.remote()
    with pytest.raises(AttributeError, match="nope"):
        c.nope.remote()


def test_actor_class_cannot_be_instantiated_directly():
    with pytest.raises(TypeError, match="remote"):
        Counter()


def test_ray_method_num_returns():
    c = Counter.remote()
    a, b = c.split.remote()
    assert ray.get([a, b]) == ["a", "b"]
