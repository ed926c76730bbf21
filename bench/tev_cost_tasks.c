/* tev_cost_tasks: the task of bench/tev_cost.c (libtev_cost_tasks.so,
 * dlopened by the workers from the driver's directory, build/bench/).
 *
 *   tev_square(i64)   its argument squared: as little work as a task can do */
#include <ray/ray.h>

static int tev_square(ray_ctx *c)
{
    int64_t x;
    if (ray_arg_i64(c, 0, &x) != RAY_OK)
        return ray_error(c, "tev_square: want one integer");
    return ray_return_i64(c, x * x);
}
RAY_REMOTE(tev_square);
