/* `ray stop`: stop exactly the node processes of this host (this network namespace). */
#include "cli/cli_cmds.h"

#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/cli_proc.h"
#include "common/node_registry.h"
#include "common/net.h"
#include "common/node_files.h"
#include "common/util.h"

#define STOP_MAX_PIDS 512

typedef struct stop_plan {
    pid_t early[STOP_MAX_PIDS];   /* raylets, job servers: stopped first */
    size_t n_early;
    pid_t late[STOP_MAX_PIDS];    /* gcs_server: stopped last, so raylets can say goodbye */
    size_t n_late;
    node_record nodes[128];
    size_t n_nodes;
} stop_plan;

/* Adds the live processes recorded in REC's pids/ directory to PLAN. */
static void collect_pids(const node_record *rec, stop_plan *plan)
{
    char dir[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/pids", rec->dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX + 300], *text;
        if (fs_path_join(path, sizeof path, dir, e->d_name) != 0 ||
            fs_read_file(path, 64, &text, NULL) != 0)
            continue;
        long pid;
        text[strcspn(text, "\n")] = '\0';
        /* The pid must still be one of this node's processes (pids get reused). */
        if (parse_long(text, 1, INT_MAX, &pid) == 0 && proc_alive((pid_t)pid) &&
            proc_cmdline_has((pid_t)pid, rec->dir)) {
            int is_gcs = strncmp(e->d_name, "gcs_server", 10) == 0;
            if (is_gcs && plan->n_late < STOP_MAX_PIDS)
                plan->late[plan->n_late++] = (pid_t)pid;
            else if (!is_gcs && plan->n_early < STOP_MAX_PIDS)
                plan->early[plan->n_early++] = (pid_t)pid;
        }
        free(text);
    }
    closedir(d);
}

static void plan_node(const node_record *rec, void *data)
{
    stop_plan *plan = data;
    if (!net_is_local_ipv4(rec->ip) || plan->n_nodes >= sizeof plan->nodes / sizeof plan->nodes[0])
        return;
    plan->nodes[plan->n_nodes++] = *rec;
    collect_pids(rec, plan);
}

/* Removes what a node's raylet would have removed itself had it not been
 * killed: its shared-memory object store, sockets and spilled objects. */
static void remove_node_files(const node_record *rec)
{
    char path[PATH_MAX + 16];
    node_shm_remove(rec->shm_dir, rec->node_id);
    snprintf(path, sizeof path, "%s/sockets", rec->dir);
    fs_rm_rf(path);
    if (rec->spill_dir[0] != '\0') {
        node_shm_remove(rec->spill_dir, rec->node_id); /* the user's dir: only this node's files */
    } else {
        snprintf(path, sizeof path, "%s/spill", rec->dir);
        fs_rm_rf(path);
    }
}

/* Removes the ray_current_cluster pointer of REC's temp root (the parent of
 * its session directory) when it names REC's GCS. */
static void forget_current_cluster(const node_record *rec)
{
    char root[PATH_MAX], path[PATH_MAX + 32], *current = NULL;
    str_copy(root, sizeof root, rec->dir);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(root, '/');
        if (slash == NULL)
            return;
        *slash = '\0';
    }
    snprintf(path, sizeof path, "%s/ray_current_cluster", root);
    if (fs_read_file(path, 1024, &current, NULL) != 0)
        return;
    current[strcspn(current, "\r\n")] = '\0';
    if (strcmp(current, rec->gcs_address) == 0)
        unlink(path);
    free(current);
}

/* Forgets the stopped nodes, and the current-cluster pointer of a stopped head. */
static void forget_nodes(const stop_plan *plan)
{
    for (size_t i = 0; i < plan->n_nodes; i++) {
        const node_record *rec = &plan->nodes[i];
        remove_node_files(rec);
        node_unregister(rec);
        if (rec->is_head)
            forget_current_cluster(rec);
    }
}

int cmd_stop(int argc, char **argv)
{
    static const struct option flags[] = {
        {"force", no_argument, NULL, 'f'},
        {"grace-period", required_argument, NULL, 'g'},
        {"verbose", no_argument, NULL, 'v'},
        {"temp-dir", required_argument, NULL, 't'}, /* accepted: the registry is per host */
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int force = 0, verbose = 0;
    long grace = 16;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "fg:v", flags, NULL)) != -1) {
        if (c == 'f')
            force = 1;
        else if (c == 'v')
            verbose = 1;
        else if (c == 't')
            continue;
        else if (c == 'h') {
            printf("Usage: ray stop [-f|--force] [-g|--grace-period SECONDS] [-v]\n");
            return 0;
        } else if (c == 'g' && parse_long(optarg, 0, 3600, &grace) != 0) {
            fprintf(stderr, "Error: Invalid value for '-g' / '--grace-period': '%s' is not a "
                            "valid integer.\n", optarg);
            return 2;
        } else if (c != 'g')
            return cli_bad_flag("stop", argv);
    }
    stop_plan *plan = calloc(1, sizeof *plan);
    if (plan == NULL)
        return 1;
    node_each(plan_node, plan);
    size_t total = plan->n_early + plan->n_late;
    if (total == 0) {
        forget_nodes(plan);
        free(plan);
        printf("Did not find any active Ray processes.\n");
        return 0;
    }
    int sig = force ? SIGKILL : SIGTERM;
    int grace_ms = (int)grace * 1000;
    int stopped = proc_stop_all(plan->early, plan->n_early, sig, grace_ms);
    stopped += proc_stop_all(plan->late, plan->n_late, sig, grace_ms);
    if (verbose) {
        char reg[PATH_MAX];
        node_registry_dir(reg, sizeof reg, 0);
        printf("Stopped %zu node(s) of this host registered in %s.\n", plan->n_nodes, reg);
    }
    forget_nodes(plan);
    free(plan);
    if ((size_t)stopped == total) {
        printf("Stopped all %zu Ray processes.\n", total);
        return 0;
    }
    printf("Stopped only %d out of %zu Ray processes.\n", stopped, total);
    return 1;
}
