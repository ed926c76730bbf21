/* tiny_demo's task library: the function the driver runs as tasks.
 * Workers dlopen this file (libtiny_demo_tasks.so) from the job's code
 * search path; RAY_REMOTE registers the function under its name. */
#include <ray/ray.h>

/* Returns the square of its integer argument. */
static int square(ray_ctx *c)
{
    int64_t x;
    if (ray_arg_i64(c, 0, &x) != RAY_OK)
        return ray_error(c, "square: want one integer argument");
    return ray_return_i64(c, x * x);
}
RAY_REMOTE(square);
