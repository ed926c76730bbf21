"""ray.cross_language.c_function: a Python driver calls the functions of a
C task library (on the job's code search path); ints, floats, str and
bytes cross both ways, errors come back as CrossLanguageError."""
import os
import subprocess

import pytest

import ray

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LIBRARY = r"""
#include <ray/ray.h>
#include <string.h>

/* x * y for two integers, or x * y as a float when either is a float. */
static int xl_mul(ray_ctx *c)
{
    int64_t a, b;
    double x, y;
    if (ray_arg_i64(c, 0, &a) == RAY_OK && ray_arg_i64(c, 1, &b) == RAY_OK)
        return ray_return_i64(c, a * b);
    if (ray_arg_f64(c, 0, &x) == RAY_OK && ray_arg_f64(c, 1, &y) == RAY_OK)
        return ray_return_f64(c, x * y);
    return ray_error(c, "xl_mul: want two integers or two floats");
}
RAY_REMOTE(xl_mul);

/* The str argument 0 with the length of bytes argument 1 appended. */
static int xl_describe(ray_ctx *c)
{
    const char *s;
    const void *p;
    size_t n;
    char out[256];
    if (ray_arg_str(c, 0, &s, NULL) != RAY_OK || ray_arg_bytes(c, 1, &p, &n) != RAY_OK)
        return ray_error(c, "xl_describe: want a str and bytes");
    snprintf(out, sizeof out, "%s:%zu", s, n);
    return ray_return_str(c, out);
}
RAY_REMOTE(xl_describe);

/* Bytes argument 0 reversed. */
static int xl_reverse(ray_ctx *c)
{
    const unsigned char *p;
    size_t n;
    if (ray_arg_bytes(c, 0, (const void **)&p, &n) != RAY_OK)
        return ray_error(c, "xl_reverse: want bytes");
    unsigned char out[4096];
    if (n > sizeof out)
        return ray_error(c, "xl_reverse: at most 4096 bytes");
    for (size_t i = 0; i < n; i++)
        out[i] = p[n - 1 - i];
    return ray_return_bytes(c, out, n);
}
RAY_REMOTE(xl_reverse);
"""


@pytest.fixture(scope="module")
def c_driver(tmp_path_factory):
    """A private node whose job loads tiny_demo's library and one built here."""
    lib = tmp_path_factory.mktemp("xl")
    (lib / "xl_tasks.c").write_text("#include <stdio.h>\n" + LIBRARY)
    subprocess.run(["cc", "-I", os.path.join(ROOT, "include"), "-shared", "-fPIC", "-o",
                    str(lib / "libxl_tasks.so"), str(lib / "xl_tasks.c")], check=True)
    tiny = os.path.join(ROOT, "examples", "tiny_demo")
    ray.init(num_cpus=2, job_config=ray.job_config.JobConfig(code_search_path=[str(lib), tiny]))
    yield
    ray.shutdown()


def test_square_of_tiny_demo(c_driver):
    square = ray.cross_language.c_function("square")
    assert ray.get(square.remote(7)) == 49
    assert ray.get([square.remote(i) for i in range(20)]) == [i * i for i in range(20)]


def test_ints_floats_str_bytes_cross_both_ways(c_driver):
    mul = ray.cross_language.c_function("xl_mul")
    assert ray.get(mul.remote(6, -7)) == -42
    assert ray.get(mul.remote(1.5, 3.0)) == 4.5
    assert isinstance(ray.get(mul.remote(2.0, 2.0)), float)
    describe = ray.cross_language.c_function("xl_describe")
    assert ray.get(describe.remote("héllo", b"\x00\x01\x02")) == "héllo:3"
    reverse = ray.cross_language.c_function("xl_reverse")
    assert ray.get(reverse.remote(b"abc\x00")) == b"\x00cba"


def test_refs_of_c_results_pass_to_c_functions(c_driver):
    square = ray.cross_language.c_function("square")
    mul = ray.cross_language.c_function("xl_mul")
    assert ray.get(mul.remote(square.remote(3), square.remote(2))) == 36


def test_python_tasks_take_c_results(c_driver):
    @ray.remote
    def show(x):
        return "%s %r" % (type(x).__name__, x)

    square = ray.cross_language.c_function("square")
    mul = ray.cross_language.c_function("xl_mul")
    describe = ray.cross_language.c_function("xl_describe")
    assert ray.get(show.remote(square.remote(5))) == "int 25"
    assert ray.get(show.remote(mul.remote(0.5, 3.0))) == "float 1.5"
    assert ray.get(show.remote(describe.remote("x", b"yz"))) == "str 'x:2'"


def test_c_errors_are_cross_language_errors(c_driver):
    mul = ray.cross_language.c_function("xl_mul")
    with pytest.raises(ray.exceptions.CrossLanguageError, match="want two integers"):
        ray.get(mul.remote("a", "b"))
    with pytest.raises(ray.exceptions.CrossLanguageError, match="unknown function 'no_such'"):
        ray.get(ray.cross_language.c_function("no_such").remote(1))


def test_bad_arguments_are_refused_before_submission(c_driver):
    square = ray.cross_language.c_function("square")
    with pytest.raises(TypeError, match="int, float, str, bytes or ObjectRef"):
        square.remote([1, 2])
    with pytest.raises(ValueError, match="cannot hold NUL"):
        square.remote("a\x00b")
    with pytest.raises(OverflowError):
        square.remote(2 ** 70)
    with pytest.raises(TypeError, match="positional"):
        square.remote(x=1)
    with pytest.raises(TypeError, match="called directly"):
        square(1)
    with pytest.raises(NotImplementedError, match="c_function"):
        ray.cross_language.cpp_function("square")


def test_options_apply(c_driver):
    square = ray.cross_language.c_function("square").options(num_cpus=2, name="sq")
    assert ray.get(square.remote(12)) == 144
