#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for trying sweeps on Slurm and for
# test/e2e/slurm.test.ts: munged, slurmctld and slurmd started directly (no systemd), with a minimal
# slurm.conf (proctrack/linuxproc, task/none, this machine's node line from `slurmd -C`, no
# accounting database; finished jobs go to the job completion log, which stands in for sacct).
#
#   scripts/slurm-cluster.sh start    write slurm.conf (if it is ours or absent), start the daemons, wait for the node
#   scripts/slurm-cluster.sh stop     cancel the cluster's jobs, stop the daemons this script started
#   scripts/slurm-cluster.sh status   daemons, sinfo, squeue
#
# Run as root after .ci/install-slurm.sh (Debian: slurmctld slurmd slurm-client munge).
# Environment:
#   SLURM_CONF          config file (default /etc/slurm/slurm.conf). The client commands read the same
#                       variable, so export it when it is not the default.
#   CLW_SLURM_STATE     spool, logs and pid files (default /var/lib/clw-slurm)
# A slurm.conf this script did not write is never overwritten: start refuses instead.
set -euo pipefail

CONF="${SLURM_CONF:-/etc/slurm/slurm.conf}"
STATE="${CLW_SLURM_STATE:-/var/lib/clw-slurm}"
MARK="# written by continual-workbench scripts/slurm-cluster.sh"
CTLD_PID="$STATE/slurmctld.pid"
SLURMD_PID="$STATE/slurmd.pid"
MUNGE_PID="$STATE/munged.pid"
MUNGE_SOCKET=/run/munge/munge.socket.2
JOBCOMP="$STATE/log/jobcomp.log"

log() { printf '[slurm-cluster] %s\n' "$*"; }
die() { printf 'slurm-cluster: %s\n' "$*" >&2; exit 1; }

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

check_installed() {
  local missing=()
  for b in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd; do [ -x "$b" ] || missing+=("$b"); done
  for b in sbatch squeue scontrol sinfo; do command -v "$b" >/dev/null || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] || die "Slurm is not installed (missing ${missing[*]}): run .ci/install-slurm.sh as root"
  [ "$(id -u)" -eq 0 ] || die "run as root (the daemons run as root with SlurmUser=root)"
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; not touching it (set SLURM_CONF to another path)"
  fi
  local host node cpus
  host=$(hostname -s)
  # The node line as slurmd sees this machine (CPUs, sockets, cores, threads, memory).
  node=$(/usr/sbin/slurmd -C | head -1)
  [[ "$node" == NodeName=* ]] || die "slurmd -C did not print a node line: $node"
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")
  mkdir -p "$(dirname "$CONF")"
  cat >"$CONF" <<CONF
$MARK
# A single-node cluster on $host ($cpus CPUs). Not for production: no accounting database.
ClusterName=clw-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/spool/slurmctld
SlurmdSpoolDir=$STATE/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Keep finished jobs visible to scontrol for 10 minutes.
MinJobAge=600
JobAcctGatherType=jobacct_gather/none
# sacct needs slurmdbd and a database: without them the job completion log records every finished
# job and array task (JobState=COMPLETED|FAILED|CANCELLED|TIMEOUT..., ExitCode=code:signal).
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$JOBCOMP
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  log "wrote $CONF"
}

start_munge() {
  if [ -S "$MUNGE_SOCKET" ] && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already running"
    return
  fi
  [ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing: run .ci/install-slurm.sh"
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  # Run munged as the munge user (the init scripts do the same); it writes its own pid file.
  rm -f /run/munge/munged.pid
  if command -v runuser >/dev/null; then runuser -u munge -- /usr/sbin/munged --force
  else /usr/sbin/munged --force
  fi
  for _ in $(seq 50); do
    [ -s /run/munge/munged.pid ] && munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -n | unmunge >/dev/null || die "munged did not start (see /var/log/munge/munged.log)"
  # Our own record: stop ends munged only when this script started it.
  cp /run/munge/munged.pid "$MUNGE_PID"
  log "munged started (pid $(cat "$MUNGE_PID" 2>/dev/null || echo '?'))"
}

cmd_start() {
  check_installed
  mkdir -p "$STATE/spool/slurmctld" "$STATE/spool/slurmd" "$STATE/log"
  write_conf
  start_munge
  if alive "$CTLD_PID"; then log "slurmctld already running (pid $(cat "$CTLD_PID"))"
  else
    # Not -c: job state (and the job id counter) survives a restart, so job ids never repeat in the logs.
    /usr/sbin/slurmctld -f "$CONF"
    log "slurmctld started"
  fi
  for _ in $(seq 100); do SLURM_CONF="$CONF" scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
  SLURM_CONF="$CONF" scontrol ping | grep -q UP || die "slurmctld is not answering (see $STATE/log/slurmctld.log)"
  if alive "$SLURMD_PID"; then log "slurmd already running (pid $(cat "$SLURMD_PID"))"
  else
    /usr/sbin/slurmd -f "$CONF"
    log "slurmd started"
  fi
  local state=""
  for _ in $(seq 150); do
    state=$(SLURM_CONF="$CONF" sinfo -h -N -o '%T' 2>/dev/null | head -1)
    case "$state" in idle*|mixed*|allocated*) break ;; down*|drain*) SLURM_CONF="$CONF" scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true ;; esac
    sleep 0.2
  done
  case "$state" in idle*|mixed*|allocated*) ;; *) die "node not ready (state '$state'; see $STATE/log/slurmd.log)" ;; esac
  SLURM_CONF="$CONF" sinfo
  log "ready: jobs complete into $JOBCOMP"
}

stop_pid() {
  local name=$1 file=$2
  if ! alive "$file"; then rm -f "$file"; return; fi
  local pid
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$file"
  log "$name stopped (pid $pid)"
}

cmd_stop() {
  if alive "$CTLD_PID"; then
    # Cancel what is queued or running, so no job outlives its cluster.
    local jobs
    jobs=$(SLURM_CONF="$CONF" squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
      log "cancelling jobs: $jobs"
      # shellcheck disable=SC2086
      SLURM_CONF="$CONF" scancel $jobs 2>/dev/null || true
      for _ in $(seq 50); do [ -z "$(SLURM_CONF="$CONF" squeue -h -o '%A' 2>/dev/null)" ] && break; sleep 0.2; done
    fi
  fi
  stop_pid slurmd "$SLURMD_PID"
  stop_pid slurmctld "$CTLD_PID"
  stop_pid munged "$MUNGE_PID"
}

cmd_status() {
  local rc=0
  for d in munged:"$MUNGE_PID" slurmctld:"$CTLD_PID" slurmd:"$SLURMD_PID"; do
    if alive "${d#*:}"; then echo "${d%%:*}: running (pid $(cat "${d#*:}"))"; else echo "${d%%:*}: stopped"; rc=1; fi
  done
  if [ $rc -eq 0 ]; then
    SLURM_CONF="$CONF" sinfo
    SLURM_CONF="$CONF" squeue
  fi
  echo "config: $CONF; job completion log: $JOBCOMP"
  return $rc
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
