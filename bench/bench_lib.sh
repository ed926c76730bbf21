# Shell helpers of the bench/*.sh scripts (sourced; BENCH names the script
# and W its work dir).
#
# step TEXT...   prints "BENCH: TEXT" to stderr
# quiet CMD...   runs CMD with its output in $W/last.log, shown (and the
#                script ended) when it fails

step() { echo "$BENCH: $*" >&2; }

quiet() {
    "$@" > "$W/last.log" 2>&1 || {
        echo "$BENCH: FAILED: $*" >&2
        tail -30 "$W/last.log" >&2
        exit 1
    }
}
