"""Ray's actors demo, as Ray users write it: a stateful Counter.

    PYTHONPATH=python /usr/bin/python3 examples/python/actors.py

Each actor is one worker process holding its own state; method calls on
one actor run in the order they were made.
"""
import ray

ray.init()


@ray.remote
class Counter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1
        return self.value

    def get_counter(self):
        return self.value


# Four counters, each in its own process.
counters = [Counter.remote() for _ in range(4)]
# Ten increments on each; the calls on one counter run in order.
for _ in range(10):
    for c in counters:
        c.increment.remote()
print(ray.get([c.get_counter.remote() for c in counters]))  # [10, 10, 10, 10]

# A named actor can be found again by name, here and in other drivers.
Counter.options(name="shared_counter").remote()
shared = ray.get_actor("shared_counter")
print("shared counter:", ray.get([shared.increment.remote() for _ in range(3)]))  # [1, 2, 3]

ray.shutdown()
