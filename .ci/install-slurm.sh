#!/usr/bin/env bash
# Installs a Slurm that can run a single-node cluster on this machine (for test/e2e/slurm.test.ts
# and docs/slurm.md), idempotently: Debian's slurmctld, slurmd, slurm-client and munge (22.05 on
# Debian 12). The munge package generates /etc/munge/munge.key on install; this script makes sure
# one exists. Starting and stopping the cluster is scripts/slurm-cluster.sh. Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { printf '[install-slurm] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "install-slurm: run as root (apt-get install)" >&2
  exit 1
fi

pkgs=(slurmctld slurmd slurm-client munge)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  log "apt: installing ${need[*]}"
  apt-get update -qq
  # Package postinst scripts try to start services; without systemd they only warn.
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  log "already installed: ${pkgs[*]}"
fi

# munged refuses to start without a key readable only by the munge user.
if [ ! -s /etc/munge/munge.key ]; then
  log "generating /etc/munge/munge.key"
  if command -v mungekey >/dev/null; then mungekey --create --force --keyfile=/etc/munge/munge.key
  else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  fi
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key

for b in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sbatch /usr/bin/squeue /usr/bin/scontrol; do
  [ -x "$b" ] || { echo "install-slurm: $b missing after install" >&2; exit 1; }
done
log "$(/usr/sbin/slurmd -V)"
