#!/bin/bash
# A single-node SLURM cluster on this machine, as root, for trying deploy/slurm/sweep.sbatch
# (Debian packages slurm-wlm and munge). Everything (munge key and socket, slurm.conf, state,
# logs) lives in DIR; nothing under /etc is touched.
#
#   deploy/slurm/local_cluster.sh start DIR   # then: export SLURM_CONF=DIR/slurm.conf
#   deploy/slurm/local_cluster.sh stop DIR
#
# start exits non-zero with a message when the cluster does not come up.
set -euo pipefail
cmd=${1:-} dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
dir=$(realpath -m "$dir")

# Stop the daemons and wait until they have exited (slurmctld writes its state as it stops), so
# that the folder can be removed at once; SIGKILL after 10 s.
stop() {
  local pids=() pid
  for file in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
    [[ -f "$file" ]] && pid=$(cat "$file") && kill "$pid" 2>/dev/null && pids+=("$pid")
  done
  for _ in $(seq 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}

if [[ "$cmd" == stop ]]; then
  stop
  exit 0
fi
[[ "$cmd" == start ]] || { echo "unknown command $cmd (start or stop)" >&2; exit 2; }
for tool in munged slurmctld slurmd sinfo sbatch; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install slurm-wlm munge)" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "the local cluster runs as root" >&2; exit 1; }
mkdir -p "$dir"/state "$dir"/spool
chmod 700 "$dir"
dd if=/dev/urandom of="$dir"/munge.key bs=1024 count=1 status=none
chmod 400 "$dir"/munge.key
munged --force --socket="$dir"/munge.sock --key-file="$dir"/munge.key \
  --pid-file="$dir"/munged.pid --log-file="$dir"/munged.log --seed-file="$dir"/munged.seed
host=$(hostname -s)
# Ports away from the defaults, so a system cluster on this machine is not disturbed.
cat > "$dir"/slurm.conf <<CONF
ClusterName=meisweep
SlurmctldHost=$host
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
$(slurmd -C | head -1) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir"/slurm.conf
slurmctld -f "$SLURM_CONF" -i
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  if [[ "$(sinfo -h -o %t 2>/dev/null)" == idle ]]; then
    echo "cluster up: export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "the cluster did not come up in 30 s; last lines of $dir/slurmctld.log and slurmd.log:" >&2
tail -n 3 "$dir"/slurmctld.log "$dir"/slurmd.log >&2 || true
stop
exit 1
