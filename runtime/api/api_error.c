/* Status names and the per-thread last error message. */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[API_ERROR_MAX];

static const char *const names[] = {
    [RAY_OK] = "RAY_OK",
    [RAY_ERR_TASK] = "RAY_ERR_TASK",
    [RAY_ERR_WORKER_CRASHED] = "RAY_ERR_WORKER_CRASHED",
    [RAY_ERR_ACTOR_DIED] = "RAY_ERR_ACTOR_DIED",
    [RAY_ERR_OBJECT_LOST] = "RAY_ERR_OBJECT_LOST",
    [RAY_ERR_OWNER_DIED] = "RAY_ERR_OWNER_DIED",
    [RAY_ERR_TIMEOUT] = "RAY_ERR_TIMEOUT",
    [RAY_ERR_CANCELLED] = "RAY_ERR_CANCELLED",
    [RAY_ERR_STORE_FULL] = "RAY_ERR_STORE_FULL",
    [RAY_ERR_UNSCHEDULABLE] = "RAY_ERR_UNSCHEDULABLE",
    [RAY_ERR_NODE_DIED] = "RAY_ERR_NODE_DIED",
    [RAY_ERR_CONNECTION] = "RAY_ERR_CONNECTION",
    [RAY_ERR_NOT_FOUND] = "RAY_ERR_NOT_FOUND",
    [RAY_ERR_INVALID] = "RAY_ERR_INVALID",
    [RAY_ERR_TYPE] = "RAY_ERR_TYPE",
    [RAY_ERR_NOMEM] = "RAY_ERR_NOMEM",
};

const char *ray_status_name(int status)
{
    if (status < 0 || (size_t)status >= sizeof names / sizeof names[0] || names[status] == NULL)
        return "RAY_ERR_UNKNOWN";
    return names[status];
}

const char *ray_last_error(void)
{
    return last_error;
}

int api_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

int api_fail_msg(int status, const char *msg)
{
    snprintf(last_error, sizeof last_error, "%s", msg ? msg : "");
    return status;
}

void api_clear_error(void)
{
    last_error[0] = '\0';
}
