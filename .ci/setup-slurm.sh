#!/usr/bin/env bash
# Start a one-node SLURM (slurm-wlm 22.05 from Debian) on this machine, as root, for the `slurm` tests.
#
#   sudo .ci/setup-slurm.sh      # idempotent: installs once, (re)starts nothing that already runs
#   sinfo                        # -> the node is idle
#   .ci/stop-slurm.sh            # stops munged, slurmctld and slurmd by pid
#
# No systemd is needed: the daemons are started directly and their pids written under /run.
# The node's CPUs and memory come from `slurmd -C`; CR_CPU_Memory lets several 1-CPU jobs share the node.
set -euo pipefail

log() { echo "[setup-slurm] $*"; }
[ "$(id -u)" = 0 ] || { echo "setup-slurm.sh must run as root (it installs and starts daemons)" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
   || ! command -v munged >/dev/null; then
    log "installing slurmctld slurmd slurm-client munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

host=$(hostname -s)
conf_dir=/etc/slurm
mkdir -p "$conf_dir" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/slurm

# --- munge --------------------------------------------------------------------------------------
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
    log "creating munge key"
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key --force
    else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none; fi
fi
if id munge >/dev/null 2>&1; then
    chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
    munge_user=munge
else
    munge_user=root
fi
chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key; chmod 0755 /run/munge

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if ! alive /run/munge/munged.pid; then
    log "starting munged"
    if [ "$munge_user" = munge ]; then
        runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    else
        /usr/sbin/munged --force --pid-file=/run/munge/munged.pid
    fi
fi
for _ in $(seq 50); do munge -n </dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
munge -n </dev/null | unmunge >/dev/null || { echo "munge does not work" >&2; exit 1; }

# --- slurm.conf ---------------------------------------------------------------------------------
# e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24000"
node_line=$(slurmd -C | head -n1)
node_line=$(echo "$node_line" | sed -E "s/^NodeName=[^ ]+/NodeName=$host/")
# keep 512 MiB for the OS and the daemons
mem=$(echo "$node_line" | sed -nE 's/.*RealMemory=([0-9]+).*/\1/p')
node_line=$(echo "$node_line" | sed -E "s/RealMemory=[0-9]+/RealMemory=$(( mem > 1024 ? mem - 512 : mem ))/")

conf=$(cat <<CONF
# Written by .ci/setup-slurm.sh: a one-node SLURM for tests.
ClusterName=pylopsci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
ReturnToService=2
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPort=6817
SlurmdPort=6818
KillWait=5
InactiveLimit=0
MinJobAge=60
SlurmctldTimeout=30
SlurmdTimeout=30
$node_line State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
)
if [ ! -f "$conf_dir/slurm.conf" ] || [ "$(cat "$conf_dir/slurm.conf")" != "$conf" ]; then
    log "writing $conf_dir/slurm.conf"
    echo "$conf" > "$conf_dir/slurm.conf"
    changed=1
else
    changed=0
fi

if [ "$changed" = 1 ]; then
    for f in /run/slurm/slurmd.pid /run/slurm/slurmctld.pid; do
        if alive "$f"; then kill "$(cat "$f")"; for _ in $(seq 50); do alive "$f" || break; sleep 0.2; done; fi
    done
fi
fail() { echo "$1 failed to start; its log says:" >&2; tail -n 20 "/var/log/slurm/$1.log" >&2; exit 1; }
if ! alive /run/slurm/slurmctld.pid; then log "starting slurmctld"; slurmctld || fail slurmctld; fi
if ! alive /run/slurm/slurmd.pid; then log "starting slurmd"; slurmd || fail slurmd; fi

# --- wait for the node ----------------------------------------------------------------------------
for _ in $(seq 120); do
    state=$(sinfo -h -N -n "$host" -o '%t' 2>/dev/null | head -n1 || true)
    case "$state" in
        idle|mix|alloc) log "node $host is $state"; sinfo; exit 0 ;;
        down*|drain*|inval*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
done
echo "SLURM node $host did not become idle; see /var/log/slurm/*.log" >&2
sinfo -N -l >&2 || true
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
