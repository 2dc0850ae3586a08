#!/usr/bin/env bash
# scripts/slurm-local.sh up|down|status: a one-node SLURM cluster on this machine, for
# `make test-slurm` and for trying `hydra/launcher=slurm` without a real cluster.
#
#   scripts/slurm-local.sh up            # install what is missing, start, smoke-test srun
#   scripts/slurm-local.sh down          # stop every daemon it started (by pid file)
#   scripts/slurm-local.sh down --purge  # ... and forget jobs, logs and the accounting db
#   scripts/slurm-local.sh status        # which daemons run, sinfo
#
# Debian/Ubuntu, as root, with or without systemd (a container has none, and apt's
# policy-rc.d refuses to start services there): every daemon is started directly.
#   munged     (user munge)  authentication between commands and daemons
#   mariadbd   (user mysql)  } accounting, so that `sacct` (which submitit polls) answers;
#   slurmdbd   (root)        } SLURM_ACCOUNTING=0 leaves both out
#   slurmctld  (root)        the controller
#   slurmd     (root)        the one node, named after `hostname -s`
# Environment: SLURM_ACCOUNTING=1|0 (default 1), SLURM_PARTITION (default debug),
# SLURM_CPUS / SLURM_MEM_MB (default: what `slurmd -C` sees; memory 90 % of it).
# `up` is idempotent; a changed slurm.conf (e.g. SLURM_ACCOUNTING switched) restarts
# slurmctld and slurmd, whose saved state keeps the queue. Knobs chosen for tests:
# a requeued job restarts in ~15 s (credentials expire after 10 s, not 120 s; the
# scheduler runs every 5 s, not 60 s).
set -euo pipefail

PARTITION="${SLURM_PARTITION:-debug}"
ACCOUNTING="${SLURM_ACCOUNTING:-1}"
NODE="$(hostname -s)"
ETC=/etc/slurm
LOGS=/var/log/slurm
SPOOL_CTL=/var/spool/slurmctld
SPOOL_D=/var/spool/slurmd
START=$SECONDS

log() { echo "slurm-local: [$((SECONDS - START)) s] $*"; }
die() { echo "slurm-local: $*" >&2; exit 1; }
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# retry SECONDS CMD...: run CMD once a second until it succeeds, or fail after SECONDS.
retry() {
    local left=$1; shift
    until "$@" >/dev/null 2>&1; do
        left=$((left - 1)); [ "$left" -gt 0 ] || return 1; sleep 1
    done
}

install_packages() {
    local want=(munge slurmctld slurmd slurm-client) missing=() p
    [ "$ACCOUNTING" = 1 ] && want+=(slurmdbd mariadb-server)
    for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # "policy-rc.d denied execution of start" during the install is expected in a container
    if ! apt-get install -y -q "${missing[@]}" >/tmp/slurm-local.apt.log 2>&1; then
        apt-get update -q >>/tmp/slurm-local.apt.log 2>&1
        apt-get install -y -q "${missing[@]}" >>/tmp/slurm-local.apt.log 2>&1 \
            || { tail -20 /tmp/slurm-local.apt.log >&2; die "apt-get install failed"; }
    fi
}

start_munge() {
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    install -d -o munge -g munge -m 755 /run/munge  # systemd's RuntimeDirectory, by hand
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged
    retry 15 sh -c 'munge -n | unmunge' || die "munged did not start"
}

start_accounting() {
    install -d -o mysql -g mysql /run/mysqld
    if ! mariadb -e 'select 1' >/dev/null 2>&1; then
        log "starting mariadbd"
        setsid /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 \
            --pid-file=/run/mysqld/mysqld.pid --socket=/run/mysqld/mysqld.sock \
            >"$LOGS/mariadb.log" 2>&1 </dev/null &
        retry 60 mariadb -e 'select 1' || { tail "$LOGS/mariadb.log" >&2; die "mariadbd did not start"; }
    fi
    # root reaches MariaDB through its socket without a password (Debian's default)
    mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm-local';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
    umask 077  # slurmdbd refuses a slurmdbd.conf (it holds a password) others can read
    cat >"$ETC/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm-local
StorageLoc=slurm_acct_db
LogFile=$LOGS/slurmdbd.log
PidFile=/run/slurmdbd.pid
EOF
    umask 022
    chmod 600 "$ETC/slurmdbd.conf"
    if ! running /run/slurmdbd.pid; then log "starting slurmdbd"; /usr/sbin/slurmdbd; fi
}

write_slurm_conf() {  # prints "changed" when slurm.conf differs from the running one
    local hw cpus mem accounting
    hw="$(slurmd -C | head -1)"
    cpus="${SLURM_CPUS:-$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hw")}"
    mem="${SLURM_MEM_MB:-$(($(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw") * 9 / 10))}"
    if [ "$ACCOUNTING" = 1 ]; then
        accounting="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"
    else
        accounting="AccountingStorageType=accounting_storage/none"
    fi
    cat >"$ETC/slurm.conf.new" <<EOF
# scripts/slurm-local.sh: one node, every daemon as root, no cgroups (containers lack them)
ClusterName=local
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# a requeued job waits until the old credential expires: 10 s here, 120 s by default
AuthInfo=cred_expire=10
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
$accounting
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=5,bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
StateSaveLocation=$SPOOL_CTL
SlurmdSpoolDir=$SPOOL_D
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
# finished jobs stay visible to squeue/scontrol 5 min; SIGTERM→SIGKILL grace 30 s
MinJobAge=300
KillWait=30
InactiveLimit=0
Waittime=0
NodeName=$NODE CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    if cmp -s "$ETC/slurm.conf.new" "$ETC/slurm.conf"; then
        rm "$ETC/slurm.conf.new"
    else
        mv "$ETC/slurm.conf.new" "$ETC/slurm.conf"
        echo changed
    fi
}

# stop NAME PIDFILE: SIGTERM the process of PIDFILE, SIGKILL after 30 s.
stop() {
    local pid
    running "$2" || { rm -f "$2"; return 0; }
    pid="$(cat "$2")"
    kill -TERM "$pid"
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    rm -f "$2"
    log "stopped $1 ($pid)"
}

node_ready() { sinfo -h -n "$NODE" -o %t | grep -Eq '^(idle|mix|alloc)'; }

up() {
    install_packages
    mkdir -p "$ETC" "$LOGS" "$SPOOL_CTL" "$SPOOL_D"
    start_munge
    [ "$ACCOUNTING" = 1 ] && start_accounting
    local changed
    changed="$(write_slurm_conf)"
    if [ -n "$changed" ]; then  # AccountingStorageType and the node need a restart
        stop slurmd /run/slurmd.pid
        stop slurmctld /run/slurmctld.pid
    fi
    if [ "$ACCOUNTING" = 1 ]; then  # the cluster must be in the database before slurmctld
        # (sacctmgr finds slurmdbd through slurm.conf's AccountingStorageType)
        retry 60 sacctmgr -n list cluster || { tail "$LOGS/slurmdbd.log" >&2; die "slurmdbd does not answer"; }
        sacctmgr -n -P list cluster format=cluster | grep -qx local \
            || sacctmgr -i add cluster local >/dev/null
    fi
    running /run/slurmctld.pid || { log "starting slurmctld"; /usr/sbin/slurmctld; }
    running /run/slurmd.pid || { log "starting slurmd"; /usr/sbin/slurmd; }
    retry 30 scontrol ping || { tail "$LOGS/slurmctld.log" >&2; die "slurmctld does not answer"; }
    if ! retry 20 node_ready; then  # left DOWN by daemons killed earlier
        scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
        retry 20 node_ready || { sinfo -R >&2; tail "$LOGS/slurmd.log" >&2; die "node not ready"; }
    fi
    [ "$(timeout 60 srun -N1 -n1 -t 1 hostname)" = "$(hostname)" ] || die "srun smoke test failed"
    log "up: partition $PARTITION, node $NODE, accounting=$ACCOUNTING"
}

down() {
    if command -v scancel >/dev/null && scontrol ping >/dev/null 2>&1; then
        scancel --user=root 2>/dev/null || true  # slurmd must end its jobs' processes
        retry 35 sh -c '[ -z "$(squeue -h)" ]' || true
    fi
    stop slurmd /run/slurmd.pid
    stop slurmctld /run/slurmctld.pid
    stop slurmdbd /run/slurmdbd.pid
    if [ "${1:-}" = --purge ] && mariadb -e 'select 1' >/dev/null 2>&1; then
        mariadb -e 'DROP DATABASE IF EXISTS slurm_acct_db'  # through SQL: InnoDB stays consistent
    fi
    stop mariadbd /run/mysqld/mysqld.pid
    stop munged /run/munge/munged.pid
    if [ "${1:-}" = --purge ]; then
        rm -rf "$SPOOL_CTL" "$SPOOL_D" "$LOGS"
        log "state, logs and accounting database removed"
    fi
}

status() {
    local name pidfile
    for name in munged:/run/munge/munged.pid mariadbd:/run/mysqld/mysqld.pid \
        slurmdbd:/run/slurmdbd.pid slurmctld:/run/slurmctld.pid slurmd:/run/slurmd.pid; do
        pidfile=${name#*:}
        if running "$pidfile"; then echo "${name%%:*}: running ($(cat "$pidfile"))"
        else echo "${name%%:*}: stopped"; fi
    done
    scontrol ping >/dev/null 2>&1 && sinfo
}

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts daemons)"
case "${1:-}" in
    up) up ;;
    down) down "${2:-}" ;;
    status) status ;;
    *) echo "usage: $0 up|down [--purge]|status" >&2; exit 2 ;;
esac
