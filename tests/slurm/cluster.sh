#!/usr/bin/env bash
# A real single-node Slurm cluster for Riverbed's scale-out tests (Debian's slurm-wlm + munge, no systemd).
#
#   tests/slurm/cluster.sh start STATE_DIR   installs the packages if needed, starts munged (unless one already
#                                            answers), slurmctld and slurmd with a slurm.conf in STATE_DIR, and waits
#                                            until the node is idle. Prints `export SLURM_CONF=…` for clients.
#   tests/slurm/cluster.sh stop STATE_DIR    stops exactly the daemons this script started (by the pids it recorded).
#   tests/slurm/cluster.sh check             exits 0 when this machine can run the cluster (root, and slurm or apt);
#                                            otherwise prints why and exits 3.
#
# Nothing outside STATE_DIR is changed except: the Debian packages, and /etc/munge/munge.key when none exists.
set -euo pipefail

cmd="${1:-}"
state="${2:-}"

fail() { echo "slurm-cluster: $*" >&2; exit 1; }

can_run() {
  if [ "$(id -u)" != 0 ]; then echo "not root (slurmd and munged need root here)"; return 3; fi
  if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "slurm-wlm is not installed and apt-get is not available"; return 3; }
  fi
  return 0
}

install_packages() {
  if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 && command -v sbatch >/dev/null 2>&1; then
    return
  fi
  echo "slurm-cluster: installing slurm-wlm and munge" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || fail "apt-get update failed"
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null || fail "apt-get install slurm-wlm munge failed"
}

munge_answers() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_answers; then
    return # a munged is already running (ours from an earlier start, or the machine's): use it, never stop it
  fi
  mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
  chmod 0400 /etc/munge/munge.key
  chmod 0755 /run/munge
  su -s /bin/sh munge -c "/usr/sbin/munged --pid-file=/run/munge/munged.pid" || fail "munged did not start"
  for _ in $(seq 50); do munge_answers && break; sleep 0.1; done
  munge_answers || fail "munged started but does not answer"
  cp /run/munge/munged.pid "$state/munged.pid"
}

write_conf() {
  local host cpus mem
  host="$(hostname -s)"
  cpus="$(nproc)"
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
  mkdir -p "$state/spool/ctld" "$state/spool/d" "$state/log"
  cat >"$state/slurm.conf" <<EOF
ClusterName=riverbed-test
SlurmctldHost=$host
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=$((16817 + RANDOM % 1000))
SlurmdPort=$((17818 + RANDOM % 1000))
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  [ -n "$state" ] || fail "usage: cluster.sh start STATE_DIR"
  why="$(can_run)" || fail "cannot run here: $why"
  mkdir -p "$state"
  state="$(cd "$state" && pwd)"
  install_packages
  start_munge
  write_conf
  export SLURM_CONF="$state/slurm.conf"
  /usr/sbin/slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start (see $state/log/slurmctld.log)"
  /usr/sbin/slurmd -f "$SLURM_CONF" || fail "slurmd did not start (see $state/log/slurmd.log)"
  for _ in $(seq 300); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return
    fi
    sleep 0.2
  done
  fail "the node did not become idle within 60 s: $(sinfo -h 2>&1 | head -3)"
}

stop_pidfile() {
  local file="$1" pid
  [ -s "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

stop() {
  [ -n "$state" ] && [ -d "$state" ] || fail "usage: cluster.sh stop STATE_DIR (an existing folder)"
  stop_pidfile "$state/slurmd.pid"
  stop_pidfile "$state/slurmctld.pid"
  stop_pidfile "$state/munged.pid"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  check) why="$(can_run)" && exit 0 || { echo "$why"; exit 3; } ;;
  *) fail "usage: cluster.sh start|stop STATE_DIR | check" ;;
esac
