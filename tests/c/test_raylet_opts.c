/* Unit tests for the raylet's command line and the messages it sends the GCS. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "raylet/raylet.h"
#include "raylet/raylet_opts.h"

#define NODE_ID "0123456789abcdef0123456789abcdef0123456789abcdef01234567"

/* Parses the NULL-terminated argument list (program name first). */
static int parse(raylet_opts *o, char *err, char **args)
{
    int argc = 0;
    while (args[argc] != NULL)
        argc++;
    err[0] = '\0';
    return raylet_opts_parse(o, argc, args, err, 256);
}

#define REQUIRED "--gcs-address", "10.0.0.1:6379", "--token-file", "/t", "--node-id", NODE_ID, \
                 "--node-ip-address", "10.0.0.2", "--node-manager-port", "7000",        \
                 "--node-dir", "/n"

static void defaults_and_both_value_forms(void **state)
{
    (void)state;
    raylet_opts o;
    char err[256];
    char *args[] = {"raylet", "--gcs-address=10.0.0.1:6379", "--token-file", "/t",
                    "--node-id=0123456789ABCDEF0123456789abcdef0123456789abcdef01234567",
                    "--node-ip-address", "10.0.0.2", "--node-manager-port=0", "--node-dir", "/n",
                    NULL};
    assert_int_equal(parse(&o, err, args), 0);
    assert_string_equal(o.gcs_host, "10.0.0.1");
    assert_int_equal(o.gcs_port, 6379);
    assert_string_equal(o.node_id, NODE_ID);
    assert_int_equal(o.node_manager_port, 0);
    assert_int_equal(o.head, 0);
    assert_int_equal(o.num_cpus, -1);
    assert_int_equal(o.num_gpus, -1);
    assert_true(o.memory == -1 && o.object_store_memory == -1);
    assert_null(o.resources_json);
    assert_null(o.log_file);
    assert_int_equal(o.report_period_ms, 1000);
    assert_int_equal(o.reconnect_timeout_s, 60);
    assert_int_equal(o.agent_port, 0);
}

static void every_optional_flag(void **state)
{
    (void)state;
    raylet_opts o;
    char err[256];
    char *args[] = {"raylet", REQUIRED, "--head", "--num-cpus", "4", "--num-gpus=2",
                    "--memory", "1000000", "--object-store-memory", "2000000",
                    "--resources", "{\"a\":1}", "--labels={\"z\":\"1\"}", "--log-file", "/l",
                    "--report-period-ms", "250", "--gcs-reconnect-timeout-s", "5",
                    "--dashboard-agent-port", "52365", NULL};
    assert_int_equal(parse(&o, err, args), 0);
    assert_int_equal(o.agent_port, 52365);
    assert_int_equal(o.head, 1);
    assert_int_equal(o.num_cpus, 4);
    assert_int_equal(o.num_gpus, 2);
    assert_true(o.memory == 1000000 && o.object_store_memory == 2000000);
    assert_string_equal(o.resources_json, "{\"a\":1}");
    assert_string_equal(o.labels_json, "{\"z\":\"1\"}");
    assert_string_equal(o.log_file, "/l");
    assert_int_equal(o.report_period_ms, 250);
    assert_int_equal(o.reconnect_timeout_s, 5);
}

static void errors_name_the_flag(void **state)
{
    (void)state;
    static const struct { const char *flag, *value, *msg; } cases[] = {
        {"--bogus", NULL, "unknown flag --bogus"},
        {"--bogus=3", NULL, "unknown flag --bogus"},
        {"--num-cpus", "abc", "bad value for --num-cpus: 'abc'"},
        {"--num-cpus", "-1", "bad value for --num-cpus: '-1'"},
        {"--num-gpus=1.5", NULL, "bad value for --num-gpus: '1.5'"},
        {"--memory", "12GB", "bad value for --memory: '12GB'"},
        {"--node-manager-port", "70000", "bad value for --node-manager-port: '70000'"},
        {"--dashboard-agent-port", "x", "bad value for --dashboard-agent-port: 'x'"},
        {"--node-id", "abc", "bad value for --node-id: 'abc'"},
        {"--node-ip-address", "localhost", "bad value for --node-ip-address: 'localhost'"},
        {"--gcs-address", "10.0.0.1", "bad value for --gcs-address: '10.0.0.1'"},
        {"--report-period-ms", "0", "bad value for --report-period-ms: '0'"},
        {"--resources", "", "bad value for --resources: ''"},
        {"--head=1", NULL, "--head takes no value"},
        {"stray", NULL, "unexpected argument 'stray'"},
        {"-x", NULL, "unexpected argument '-x'"},
        {"--gcs-addr", "h:1", "unknown flag --gcs-addr"},
        {"--num", "4", "unknown flag --num"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        raylet_opts o;
        char err[256];
        char *args[] = {"raylet", REQUIRED, (char *)cases[i].flag, (char *)cases[i].value, NULL};
        assert_int_equal(parse(&o, err, args), -EINVAL);
        if (strcmp(err, cases[i].msg) != 0)
            fail_msg("case %zu\nexpected: %s\ngot:      %s", i, cases[i].msg, err);
    }
}

static void missing_values_and_required_flags(void **state)
{
    (void)state;
    raylet_opts o;
    char err[256];
    char *a[] = {"raylet", REQUIRED, "--num-cpus", NULL};
    assert_int_equal(parse(&o, err, a), -EINVAL);
    assert_string_equal(err, "--num-cpus needs a value");
    char *b[] = {"raylet", "--token-file", "/t", NULL};
    assert_int_equal(parse(&o, err, b), -EINVAL);
    assert_string_equal(err, "--gcs-address is required");
    char *c[] = {"raylet", "--gcs-address", "h:1", "--token-file", "/t", "--node-id", NODE_ID,
                 "--node-ip-address", "1.2.3.4", "--node-manager-port", "1", NULL};
    assert_int_equal(parse(&o, err, c), -EINVAL);
    assert_string_equal(err, "--node-dir is required");
    char *d[] = {"raylet", "--help", NULL};
    assert_int_equal(parse(&o, err, d), 0);
    assert_int_equal(o.help, 1);
}

/* ---------------------------------------------------------------- messages */

static void node_info_round_trips(void **state)
{
    (void)state;
    raylet_opts o;
    char err[256];
    char *args[] = {"raylet", REQUIRED, "--head", "--dashboard-agent-port", "8265", NULL};
    assert_int_equal(parse(&o, err, args), 0);
    raylet r;
    memset(&r, 0, sizeof r);
    r.opts = &o;
    r.node_manager_port = 7001;
    r.start_time_ms = 1234;
    snprintf(r.hostname, sizeof r.hostname, "host1");
    res_map_set(&r.total, "CPU", 4);
    res_map_set(&r.total, "node:10.0.0.2", 1);
    res_map_copy(&r.available, &r.total);
    res_labels_set(&r.labels, "ray.io/node-id", NODE_ID);

    Rayc__NodeInfo info = RAYC__NODE_INFO__INIT;
    assert_int_equal(raylet_msg_node_info(&r, &info), 0);
    size_t n = rayc__node_info__get_packed_size(&info);
    uint8_t *buf = malloc(n);
    rayc__node_info__pack(&info, buf);
    raylet_msg_node_info_clear(&info);
    Rayc__NodeInfo *back = rayc__node_info__unpack(NULL, n, buf);
    free(buf);
    assert_non_null(back);
    assert_string_equal(back->node_id, NODE_ID);
    assert_string_equal(back->address, "10.0.0.2");
    assert_int_equal(back->node_manager_port, 7001);
    assert_int_equal(back->object_manager_port, 0);
    assert_string_equal(back->node_dir, "/n");
    assert_string_equal(back->hostname, "host1");
    assert_true(back->is_head);
    assert_int_equal(back->raylet_pid, getpid());
    assert_int_equal(back->agent_port, 8265);
    assert_int_equal(back->start_time_ms, 1234);
    assert_int_equal(back->n_resources_total, 2);
    assert_string_equal(back->resources_total[0]->key, "CPU");
    assert_true(back->resources_total[0]->value == 4);
    assert_int_equal(back->n_resources_available, 2);
    assert_int_equal(back->n_labels, 1);
    assert_string_equal(back->labels[0]->value, NODE_ID);
    rayc__node_info__free_unpacked(back, NULL);

    Rayc__ReportResources rep = RAYC__REPORT_RESOURCES__INIT;
    assert_int_equal(raylet_msg_report(&r, &rep), 0);
    assert_string_equal(rep.node_id, NODE_ID);
    assert_int_equal(rep.n_available, 2);
    assert_string_equal(rep.available[1]->key, "node:10.0.0.2");
    raylet_msg_report_clear(&rep);

    res_map_free(&r.total);
    res_map_free(&r.available);
    res_labels_free(&r.labels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_and_both_value_forms),
        cmocka_unit_test(every_optional_flag),
        cmocka_unit_test(errors_name_the_flag),
        cmocka_unit_test(missing_values_and_required_flags),
        cmocka_unit_test(node_info_round_trips),
    };
    return cmocka_run_group_tests_name("raylet_opts", tests, NULL, NULL);
}
