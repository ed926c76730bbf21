/* Unit tests for the job server's pure pieces: submit request validation,
 * submission ids, JobDetails JSON, JSON escaping, log tails, Python repr. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "jobclient/jobs_pyrepr.h"
#include "jobclient/jobs_yaml.h"
#include "jobserver/jobs_buf.h"
#include "jobserver/jobs_id.h"
#include "jobserver/jobs_job.h"
#include "jobserver/jobs_logs.h"
#include "jobserver/jobs_request.h"
#include "jobserver/jobs_resources.h"

/* ---------------------------------------------------------------- requests */

static int parse(const char *body, jobs_submit_req *r, char *err)
{
    return jobs_request_parse_submit(body, strlen(body), r, err, 256);
}

static void submit_request_accepts_ray_fields(void **state)
{
    (void)state;
    jobs_submit_req r;
    char err[256];
    assert_int_equal(parse("{\"entrypoint\": \"echo hi\", \"submission_id\": \"my-job_1.2\", "
                           "\"runtime_env\": {\"env_vars\": {\"A\": \"1\"}}, "
                           "\"metadata\": {\"k\": \"v\"}, \"entrypoint_num_cpus\": 1.5, "
                           "\"entrypoint_num_gpus\": 1, \"entrypoint_memory\": 1024, "
                           "\"entrypoint_resources\": {\"gadget\": 2}}", &r, err), 0);
    assert_string_equal(r.entrypoint, "echo hi");
    assert_string_equal(r.submission_id, "my-job_1.2");
    assert_string_equal(r.runtime_env_json, "{\"env_vars\": {\"A\": \"1\"}}");
    assert_string_equal(r.metadata_json, "{\"k\": \"v\"}");
    assert_true(r.num_cpus == 1.5 && r.num_gpus == 1.0 && r.memory == 1024);
    assert_string_equal(r.resources_json, "{\"gadget\": 2}");
    jobs_submit_req_free(&r);
}

static void submit_request_nulls_are_absent_and_job_id_is_an_alias(void **state)
{
    (void)state;
    jobs_submit_req r;
    char err[256];
    assert_int_equal(parse("{\"entrypoint\": \"x\", \"submission_id\": null, \"job_id\": \"old\", "
                           "\"runtime_env\": null, \"metadata\": null}", &r, err), 0);
    assert_string_equal(r.submission_id, "old");
    assert_null(r.runtime_env_json);
    assert_null(r.metadata_json);
    jobs_submit_req_free(&r);
    assert_int_equal(parse("{\"entrypoint\": \"x\", \"submission_id\": \"new\", \"job_id\": \"old\"}",
                           &r, err), 0);
    assert_string_equal(r.submission_id, "new");
    jobs_submit_req_free(&r);
}

static void submit_request_errors_name_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *body, *err;
    } cases[] = {
        {"[1]", "request body must be a JSON object, got list"},
        {"\"x\"", "request body must be a JSON object, got str"},
        {"{}", "entrypoint is required"},
        {"{\"entrypoint\": null}", "entrypoint is required"},
        {"{\"entrypoint\": 1}", "entrypoint must be a string, got int"},
        {"{\"entrypoint\": \"x\", \"bogus\": 1}", "TypeError: __init__() got an unexpected keyword argument 'bogus'"},
        {"{\"entrypoint\": \"x\", \"metadata\": []}", "metadata must be a dict, got list"},
        {"{\"entrypoint\": \"x\", \"metadata\": {\"a\": true}}",
         "metadata values must be strings, got bool for 'a'"},
        {"{\"entrypoint\": \"x\", \"entrypoint_num_cpus\": -1}",
         "entrypoint_num_cpus must be a non-negative number"},
        {"{\"entrypoint\": \"x\", \"entrypoint_memory\": \"1G\"}",
         "entrypoint_memory must be an integer, got str"},
        {"{\"entrypoint\": \"x\", \"submission_id\": \"a/../etc\"}",
         "submission_id may only contain letters, digits, '.', '_' and '-'"},
        {"{\"entrypoint\": \"x\", \"entrypoint_label_selector\": {\"a\": \"b\"}}",
         "entrypoint_label_selector is not supported by this job server"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jobs_submit_req r;
        char err[256] = "";
        assert_int_equal(parse(cases[i].body, &r, err), -EINVAL);
        assert_string_equal(err, cases[i].err);
        assert_null(r.entrypoint);
    }
    jobs_submit_req r;
    char err[256];
    assert_int_equal(parse("{\"entrypoint\": ", &r, err), -EINVAL);
    assert_true(strncmp(err, "request body is not valid JSON", 30) == 0);
}

/* ---------------------------------------------------------------- ids */

static void generated_ids_follow_rays_format(void **state)
{
    (void)state;
    char a[64], b[64];
    assert_int_equal(jobs_id_generate(a, sizeof a), 0);
    assert_int_equal(jobs_id_generate(b, sizeof b), 0);
    assert_int_equal(strlen(a), 26);
    assert_memory_equal(a, "raysubmit_", 10);
    assert_int_equal(strcspn(a + 10, "IloO0_-."), 16);
    assert_string_not_equal(a, b);
    char err[128];
    assert_int_equal(jobs_id_check(a, err, sizeof err), 0);
    assert_int_equal(jobs_id_generate(a, 20), -ENAMETOOLONG);
}

static void id_check_refuses_path_tricks(void **state)
{
    (void)state;
    char err[128], long_id[JOBS_ID_MAX + 2];
    const char *bad[] = {"", "..", "../x", "a/b", ".hidden", "a b", "x\n", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jobs_id_check(bad[i], err, sizeof err), -EINVAL);
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(jobs_id_check(long_id, err, sizeof err), -EINVAL);
    long_id[JOBS_ID_MAX] = '\0';
    assert_int_equal(jobs_id_check(long_id, err, sizeof err), 0);
    assert_int_equal(jobs_id_check("rayjob-sample_1.x", err, sizeof err), 0);
}

/* ---------------------------------------------------------------- JobDetails */

static void job_details_has_rays_fields_in_order(void **state)
{
    (void)state;
    jobs_job *j = jobs_job_new();
    str_copy(j->submission_id, sizeof j->submission_id, "s1");
    jobs_job_set(j, &j->entrypoint, "echo \"hi\"");
    j->start_time = 1700000000123;
    const char *json = jobs_job_json(j, NULL);
    assert_string_equal(json,
        "{\"type\": \"SUBMISSION\", \"job_id\": null, \"submission_id\": \"s1\", "
        "\"driver_info\": null, \"status\": \"PENDING\", \"entrypoint\": \"echo \\\"hi\\\"\", "
        "\"message\": \"Job has not started yet.\", \"error_type\": null, "
        "\"start_time\": 1700000000123, \"end_time\": null, \"metadata\": null, "
        "\"runtime_env\": null, \"driver_agent_http_address\": null, \"driver_node_id\": null, "
        "\"driver_exit_code\": null}");
    j->status = JOBS_FAILED;
    j->has_exit_code = 1;
    j->exit_code = 3;
    jobs_job_set(j, &j->job_id, "01000000");
    j->driver_pid = 42;
    jobs_job_set(j, &j->driver_ip, "10.0.0.1");
    json = jobs_job_json(j, NULL);
    assert_non_null(strstr(json, "\"driver_info\": {\"id\": \"01000000\", \"node_ip_address\": "
                                 "\"10.0.0.1\", \"pid\": \"42\"}"));
    assert_non_null(strstr(json, "\"status\": \"FAILED\", "));
    assert_non_null(strstr(json, "\"message\": \"Job failed.\""));
    assert_non_null(strstr(json, "\"driver_exit_code\": 3}"));
    jobs_job_free(j);
}

static void pending_message_mentions_resources_and_runtime_env(void **state)
{
    (void)state;
    jobs_job *j = jobs_job_new();
    char msg[512];
    j->num_gpus = 1;
    jobs_job_set(j, &j->runtime_env_json, "{\"pip\": [\"x\"]}");
    jobs_job_default_message(j, msg, sizeof msg);
    assert_string_equal(msg, "Job has not started yet. It may be waiting for resources (CPUs, "
                             "GPUs, memory, custom resources) to become available. It may be "
                             "waiting for the runtime environment to be set up.");
    jobs_job_set(j, &j->runtime_env_json, "{}");
    j->num_gpus = 0;
    jobs_job_default_message(j, msg, sizeof msg);
    assert_string_equal(msg, "Job has not started yet.");
    j->status = JOBS_STOPPED;
    jobs_job_default_message(j, msg, sizeof msg);
    assert_string_equal(msg, "Job was intentionally stopped.");
    jobs_job_free(j);
    assert_true(jobs_status_terminal(JOBS_SUCCEEDED) && !jobs_status_terminal(JOBS_RUNNING));
}

/* ---------------------------------------------------------------- JSON escaping */

static void json_strings_are_escaped_and_utf8_repaired(void **state)
{
    (void)state;
    dbuf b;
    dbuf_init(&b, 1024);
    const char in[] = "a\"b\\c\n\t\x01 caf\xc3\xa9 \xff end";
    assert_int_equal(jobs_buf_json_string(&b, in, sizeof in - 1), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\t\\u0001 caf\xc3\xa9 \\ufffd end\"");
    json_t *v = json_loads(b.data, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    json_decref(v);
    dbuf_free(&b);
    dbuf_init(&b, 8);
    assert_int_equal(dbuf_puts(&b, "12345678"), 0);
    assert_int_equal(dbuf_puts(&b, "9"), -EFBIG);
    assert_int_equal(b.len, 8);
    dbuf_free(&b);
}

static void utf8_helpers_cut_at_characters(void **state)
{
    (void)state;
    assert_int_equal(jobs_utf8_valid_prefix("ab\xc3\xa9", 4), 4);
    assert_int_equal(jobs_utf8_valid_prefix("ab\xc3", 3), 2);
    assert_int_equal(jobs_utf8_valid_prefix("\xed\xa0\x80", 3), 0);   /* a surrogate */
    dbuf b;
    dbuf_init(&b, 64);
    assert_int_equal(jobs_buf_append_utf8(&b, "x\xc0\xafy", 4), 0);
    assert_string_equal(b.data, "x\xef\xbf\xbd\xef\xbf\xbdy");
    dbuf_free(&b);
}

/* ---------------------------------------------------------------- logs */

static void log_tail_keeps_last_lines_and_chars(void **state)
{
    (void)state;
    char path[] = "/tmp/rayc-test-jobslog-XXXXXX", *out;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "l1\nl2\nl3\nl4\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    assert_int_equal(jobs_log_tail_lines(path, 2, 20000, &out), 0);
    assert_string_equal(out, "l3\nl4\n");
    free(out);
    assert_int_equal(jobs_log_tail_lines(path, 10, 4, &out), 0);
    assert_string_equal(out, "\nl4\n");
    free(out);
    uint64_t off = 0;
    size_t n;
    assert_int_equal(jobs_log_read_from(path, &off, 5, 0, &out, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(off, 5);
    free(out);
    unlink(path);
    assert_int_equal(jobs_log_tail_lines(path, 2, 100, &out), 0);
    assert_string_equal(out, "");
    free(out);
}

/* ---------------------------------------------------------------- resources */

static void resources_are_taken_and_given_back(void **state)
{
    (void)state;
    jobs_resources r;
    assert_int_equal(jobs_resources_init(&r, 4, 1, 1000, "{\"gadget\": 2}"), 0);
    jobs_res_request a = {.cpus = 3, .custom_json = "{\"gadget\": 2}"};
    jobs_res_request b = {.cpus = 2};
    jobs_res_request big = {.gpus = 2};
    jobs_res_request unknown = {.custom_json = "{\"widget\": 1}"};
    assert_int_equal(jobs_resources_acquire(&r, &a), 0);
    assert_int_equal(jobs_resources_acquire(&r, &b), -EAGAIN);
    jobs_resources_release(&r, &a);
    assert_int_equal(jobs_resources_acquire(&r, &b), 0);
    assert_true(jobs_resources_infeasible(&r, &big));
    assert_true(jobs_resources_infeasible(&r, &unknown));
    assert_false(jobs_resources_infeasible(&r, &a));
    jobs_resources_free(&r);
    assert_int_equal(jobs_resources_init(&r, 1, 0, 0, "[1]"), -EINVAL);
    jobs_resources_free(&r);
}

/* ---------------------------------------------------------------- Python repr */

/* runtime_env YAML scalars are typed as PyYAML types them (common/yscalar,
 * the launcher's resolver too): 0-leading octal and underscores are
 * integers, .inf (no JSON for it) and quoted text stay strings. */
static void runtime_env_yaml_types_scalars_as_pyyaml(void **state)
{
    (void)state;
    const char *y = "a: 012\nb: 1_000\nc: yes\nd: ~\ne: 1.5\nf: .inf\ng: '012'\nh: y\ni: 0x1f\n";
    char err[256] = "";
    json_t *v = jobs_yaml_to_json(y, strlen(y), err, sizeof err);
    assert_non_null(v);
    char *text = json_dumps(v, JSON_PRESERVE_ORDER | JSON_COMPACT);
    assert_string_equal(text, "{\"a\":10,\"b\":1000,\"c\":true,\"d\":null,\"e\":1.5,"
                              "\"f\":\".inf\",\"g\":\"012\",\"h\":\"y\",\"i\":31}");
    free(text);
    json_decref(v);
}

static void python_repr_matches_pythons(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"a\": [1, 2.5, 3.0, true, null], \"b\": \"it's\", "
                           "\"c\": \"q'\\\"\", \"d\": \"x\\ny\"}", 0, NULL);
    dbuf b;
    dbuf_init(&b, 4096);
    assert_int_equal(jobs_pyrepr_value(&b, v), 0);
    assert_string_equal(b.data, "{'a': [1, 2.5, 3.0, True, None], 'b': \"it's\", "
                                "'c': 'q\\'\"', 'd': 'x\\ny'}");
    json_decref(v);
    dbuf_free(&b);
    dbuf_init(&b, 4096);
    v = json_loads("[{\"type\": \"SUBMISSION\", \"job_id\": null, \"status\": \"RUNNING\", "
                   "\"driver_info\": {\"id\": \"01\", \"node_ip_address\": \"1.2.3.4\", "
                   "\"pid\": \"7\"}}]", 0, NULL);
    assert_int_equal(jobs_pyrepr_job_list(&b, v), 0);
    assert_string_equal(b.data, "[JobDetails(type=<JobType.SUBMISSION: 'SUBMISSION'>, job_id=None, "
                                "status=<JobStatus.RUNNING: 'RUNNING'>, driver_info=DriverInfo("
                                "id='01', node_ip_address='1.2.3.4', pid='7'))]");
    json_decref(v);
    dbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(submit_request_accepts_ray_fields),
        cmocka_unit_test(submit_request_nulls_are_absent_and_job_id_is_an_alias),
        cmocka_unit_test(submit_request_errors_name_the_field),
        cmocka_unit_test(generated_ids_follow_rays_format),
        cmocka_unit_test(id_check_refuses_path_tricks),
        cmocka_unit_test(job_details_has_rays_fields_in_order),
        cmocka_unit_test(pending_message_mentions_resources_and_runtime_env),
        cmocka_unit_test(json_strings_are_escaped_and_utf8_repaired),
        cmocka_unit_test(utf8_helpers_cut_at_characters),
        cmocka_unit_test(log_tail_keeps_last_lines_and_chars),
        cmocka_unit_test(resources_are_taken_and_given_back),
        cmocka_unit_test(python_repr_matches_pythons),
        cmocka_unit_test(runtime_env_yaml_types_scalars_as_pyyaml),
    };
    return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
