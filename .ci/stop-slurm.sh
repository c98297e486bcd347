#!/usr/bin/env bash
# Stop what .ci/setup-slurm.sh started: cancel remaining jobs, then slurmd, slurmctld and munged, by pid.
set -uo pipefail
log() { echo "[stop-slurm] $*"; }
if command -v scancel >/dev/null && [ -s /run/slurm/slurmctld.pid ]; then
    scancel --user="$(id -un)" >/dev/null 2>&1 || true
fi
for f in /run/slurm/slurmd.pid /run/slurm/slurmctld.pid /run/munge/munged.pid; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        log "stopping $(basename "$f" .pid) (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$f"
done
exit 0
