#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, kept in a state directory DIR.
#
#   scripts/pg.sh start   DIR [-c name=value ...]  start (initdb first if DIR has no cluster);
#                                                  prints postgresql://jobq@127.0.0.1:PORT/postgres
#   scripts/pg.sh stop    DIR                      fast shutdown; the cluster stays for a later start
#   scripts/pg.sh kill    DIR                      immediate shutdown, like a crash (recovery on start)
#   scripts/pg.sh destroy DIR                      stop if running, then remove DIR
#   scripts/pg.sh url     DIR                      print the URL of the last start
#   scripts/pg.sh status  DIR                      exit 0 if the server is running, 3 if not
#
# The cluster lives in DIR/data (superuser `jobq`, trust authentication, UTF8, C locale), the
# server log in DIR/log, the port in DIR/port (a later start reuses it, so the URL stays the same)
# and the URL in DIR/url. The server listens on 127.0.0.1 only, with its Unix socket in DIR and
# max_connections=300; everything else is PostgreSQL's default (fsync and synchronous_commit on),
# because benchmarks run on the same script. Extra arguments to `start` go to the postgres command
# line for that start only, e.g. `-c synchronous_commit=off`.
#
# Only `start` and `url` print to standard output (the URL alone); messages go to standard error.
# Needs no terminal. As root, the server runs as the `postgres` system user (initdb and postgres
# refuse root) and DIR is made its own; the Debian package `postgresql` is installed when missing.
# Environment: JOBQ_PG_BINDIR (directory of initdb/pg_ctl; found by itself otherwise),
# JOBQ_PG_TIMEOUT (seconds to wait for a start or stop, 60 by default).
set -euo pipefail

prog=pg.sh
die() {
    echo "$prog: $*" >&2
    exit 1
}
usage() {
    sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

(($# >= 2)) || usage
cmd=$1
dir=$2
shift 2
[[ -n $dir ]] || usage
case $cmd in
start) ;;
stop | kill | destroy | url | status) (($# == 0)) || usage ;;
*) usage ;;
esac

# Absolute, without trailing slashes: the socket directory and postgres's own paths need it.
[[ $dir == /* ]] || dir=$PWD/$dir
while [[ $dir == */ && $dir != / ]]; do dir=${dir%/}; done
[[ $dir != / ]] || die "refusing to use / as the state directory"

data=$dir/data
marker=$dir/.jobq-pg # says "this directory belongs to pg.sh": destroy removes only such directories
timeout=${JOBQ_PG_TIMEOUT:-60}
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "JOBQ_PG_TIMEOUT must be a number of seconds (got '$timeout')"
export LC_ALL=C

# Single-quotes each argument for /bin/sh (pg_ctl -o and su -c hand their string to a shell).
shquote() {
    local out="" a q="'\\''"
    for a in "$@"; do out+=" '${a//\'/$q}'"; done
    printf '%s' "${out# }"
}

# Runs a server binary as the user that owns the cluster: postgres when we are root, else us.
as_owner() {
    if ((EUID != 0)); then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(shquote "$@")"
    fi
}

find_bindir() {
    local d
    if [[ -n ${JOBQ_PG_BINDIR:-} ]]; then
        [[ -x $JOBQ_PG_BINDIR/initdb && -x $JOBQ_PG_BINDIR/pg_ctl ]] ||
            die "JOBQ_PG_BINDIR=$JOBQ_PG_BINDIR has no initdb and pg_ctl"
        echo "$JOBQ_PG_BINDIR"
        return 0
    fi
    # pg_config may belong to a newer libpq than the installed server: take it only if the
    # server binaries are beside it, else the newest /usr/lib/postgresql/N/bin (Debian).
    if command -v pg_config >/dev/null 2>&1 && d=$(pg_config --bindir 2>/dev/null) &&
        [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
        echo "$d"
        return 0
    fi
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn |
        while read -r d; do [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && echo "$d"; done |
        head -n 1)
    [[ -n $d ]] && echo "$d"
}

bindir=""
need_bindir() {
    [[ -z $bindir ]] || return 0
    if bindir=$(find_bindir); then return 0; fi
    [[ -z ${JOBQ_PG_BINDIR:-} ]] || exit 1 # find_bindir said what is wrong with it
    if ((EUID != 0)); then
        die "no PostgreSQL server (initdb, pg_ctl, postgres) found; install the Debian package" \
            "'postgresql' as root (bash scripts/install-deps.sh does), or set JOBQ_PG_BINDIR"
    fi
    echo "$prog: installing the Debian package postgresql" >&2
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    "${apt[@]}" update </dev/null >&2
    "${apt[@]}" install --no-install-recommends postgresql </dev/null >&2
    bindir=$(find_bindir) || die "installed postgresql but found no initdb/pg_ctl/postgres"
}

# 0 if a postmaster runs on DIR/data. pg_ctl status: 0 running, 3 not running, 4 no cluster.
# Installs nothing: without server binaries no server can be running.
is_running() {
    [[ -f $data/PG_VERSION ]] || return 1
    [[ -n $bindir ]] || bindir=$(find_bindir) || return 1
    as_owner "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1
}

# Prints the last lines of the server log, for a failure message.
log_tail() {
    if [[ -s $dir/log ]]; then
        echo "$prog: last lines of $dir/log:" >&2
        tail -n 20 "$dir/log" | sed 's/^/    /' >&2
    fi
}

# Stops the server with pg_ctl's mode (fast or immediate); nothing to do if it is not running.
stop_server() {
    local mode=$1
    if ! is_running; then
        echo "$prog: no server running in $dir" >&2
        return 0
    fi
    if ! as_owner "$bindir/pg_ctl" stop -D "$data" -m "$mode" -w -t "$timeout" -s >&2; then
        log_tail
        die "could not stop the server in $dir (pg_ctl stop -m $mode)"
    fi
}

# As root: the postgres user must reach DIR. A closed temporary directory above it (mktemp -d
# makes them 0700), as in `pg.sh start "$(mktemp -d)/pg"`, is opened for search only (o+x, no
# listing); a closed directory anywhere else is left alone and prepare_dir says so.
open_temp_parents() {
    local rest=${dir#/} p="" part tmp
    while [[ -n $rest && $rest == */* ]]; do
        part=${rest%%/*}
        rest=${rest#*/}
        p+=/$part
        as_owner test -x "$p" && continue
        for tmp in /tmp /var/tmp ${TMPDIR:+"${TMPDIR%/}"}; do
            if [[ $p == "$tmp"/* ]]; then
                chmod o+x "$p"
                echo "$prog: made $p searchable (o+x) for the postgres user" >&2
                continue 2
            fi
        done
        return 0
    done
}

# Makes DIR (or checks an existing one) and hands it to the server's user.
prepare_dir() {
    if [[ -e $dir && ! -d $dir ]]; then die "$dir exists and is not a directory"; fi
    if [[ -d $dir && ! -e $marker && -n $(ls -A "$dir") ]]; then
        die "$dir is not empty and holds no pg.sh cluster; give an empty or new directory"
    fi
    mkdir -p "$dir"
    : >"$marker"
    if ((EUID == 0)); then
        id -u postgres >/dev/null 2>&1 || die "there is no 'postgres' system user to run the server as"
        open_temp_parents
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    local owner
    if ((EUID == 0)); then owner=postgres; else owner=$(id -un); fi
    as_owner test -w "$dir" -a -x "$dir" ||
        die "the server's user ($owner) cannot write $dir; a parent directory is closed to it:" \
            "use a directory under /tmp (mktemp -d)"
}

init_cluster() {
    [[ -f $data/PG_VERSION ]] && return 0
    # initdb into a scratch directory and rename it when complete, so an interrupted initdb
    # leaves nothing a later start would take for a cluster. --no-sync skips only initdb's own
    # flush of the fresh files (3 s of a 4 s initdb); the server's settings stay the defaults.
    local tmp=$dir/data.initdb
    rm -rf "$tmp" "$data"
    if ! as_owner "$bindir/initdb" -D "$tmp" -U jobq --auth=trust -E UTF8 --no-locale --no-sync \
        >"$dir/initdb.log" 2>&1 </dev/null; then
        sed 's/^/    /' "$dir/initdb.log" >&2
        die "initdb failed in $tmp"
    fi
    mv "$tmp" "$data"
}

# 0 if something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
    timeout 2 bash -c ": </dev/tcp/127.0.0.1/$1" >/dev/null 2>&1
}

# A random port below the kernel's ephemeral range (so an outgoing connection never holds our
# port while the server is down between a stop and a start), from 20000 up.
random_port() {
    local lo=20000 hi=60000 eph_lo _
    if read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
        ((eph_lo - 1 - lo >= 2000)); then
        hi=$((eph_lo - 1))
    fi
    echo $((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
}

# Starts the postmaster on PORT with our settings plus the caller's; 0 when ready, 1 when the
# port could not be bound, otherwise dies with the log.
try_start() {
    local port=$1
    shift
    local sockdir=$dir
    # A Unix socket path is at most 107 bytes (DIR/.s.PGSQL.PORT); a directory whose path is
    # longer, or would need quoting in the setting, gets no socket: clients use TCP anyway.
    if ((${#dir} + 16 > 107)) || [[ ! $dir =~ ^[A-Za-z0-9/._+-]+$ ]]; then
        echo "$prog: $dir does not suit a Unix socket; listening on TCP only" >&2
        sockdir=""
    fi
    local opts=(-c listen_addresses=127.0.0.1 -p "$port" -c "unix_socket_directories=$sockdir"
        -c max_connections=300 "$@")
    local before=0
    [[ -f $dir/log ]] && before=$(stat -c %s "$dir/log")
    # pg_ctl detaches the postmaster (its own session, standard streams on /dev/null and the
    # log), so the server outlives this script and holds none of its caller's pipes.
    if as_owner "$bindir/pg_ctl" start -D "$data" -l "$dir/log" -w -t "$timeout" -s \
        -o "$(shquote "${opts[@]}")" >"$dir/pg_ctl.out" 2>&1 </dev/null; then
        return 0
    fi
    if tail -c +"$((before + 1))" "$dir/log" 2>/dev/null |
        grep -q -e 'Address already in use' -e 'could not create any TCP/IP sockets'; then
        echo "$prog: port $port is taken" >&2
        return 1
    fi
    sed 's/^/    /' "$dir/pg_ctl.out" >&2
    log_tail
    if is_running; then as_owner "$bindir/pg_ctl" stop -D "$data" -m immediate -w -s >&2 || true; fi
    die "the server in $dir did not start"
}

# Waits until the server answers on its TCP port, for at most JOBQ_PG_TIMEOUT seconds.
wait_ready() {
    local port=$1 deadline=$((SECONDS + timeout))
    until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U jobq -d postgres -t 5 </dev/null; do
        if ((SECONDS >= deadline)); then
            log_tail
            die "the server in $dir was started but did not accept connections on port $port" \
                "within ${timeout}s"
        fi
        sleep 0.2
    done
}

start() {
    need_bindir
    prepare_dir
    init_cluster
    local port=""
    if [[ -s $dir/port ]]; then
        port=$(<"$dir/port")
        [[ $port =~ ^[0-9]+$ ]] || die "$dir/port does not hold a port number"
    fi
    if is_running; then
        [[ -n $port ]] || die "a server runs in $dir but $dir/port is missing; stop it first"
        if (($# > 0)); then
            echo "$prog: the server in $dir is already running; ignoring settings: $*" >&2
        fi
    elif [[ -n $port ]]; then
        # The same port as before, so URLs handed out earlier stay valid across a restart.
        if port_in_use "$port" || ! try_start "$port" "$@"; then
            die "port $port, which the server in $dir used before, is taken by another process"
        fi
    else
        local attempts=0 started=0
        while ((attempts++ < 25)); do
            port=$(random_port)
            port_in_use "$port" && continue
            if try_start "$port" "$@"; then
                started=1
                break
            fi
        done
        ((started)) || die "found no free port to start the server in $dir on"
        echo "$port" >"$dir/port"
    fi
    wait_ready "$port"
    local url="postgresql://jobq@127.0.0.1:$port/postgres"
    echo "$url" >"$dir/url"
    echo "$url"
}

case $cmd in
start)
    start "$@"
    ;;
stop)
    stop_server fast
    ;;
kill)
    stop_server immediate
    ;;
destroy)
    [[ -e $dir ]] || exit 0
    if [[ ! -e $marker && -n $(ls -A "$dir" 2>/dev/null) ]]; then
        die "$dir was not made by pg.sh (no $marker); not removing it"
    fi
    # The data is thrown away, so no shutdown checkpoint is needed.
    if is_running &&
        ! as_owner "$bindir/pg_ctl" stop -D "$data" -m immediate -w -t "$timeout" -s >&2; then
        # SIGQUIT is the postmaster's own immediate shutdown: no server may outlive its data.
        pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
        echo "$prog: pg_ctl stop failed in $dir; sending SIGQUIT to postmaster ${pid:-?}" >&2
        if [[ $pid =~ ^[0-9]+$ ]]; then kill -QUIT "$pid" 2>/dev/null || true; fi
        sleep 1
    fi
    rm -rf "$dir"
    ;;
url)
    [[ -s $dir/url ]] || die "no URL in $dir: run 'pg.sh start $dir' first"
    cat "$dir/url"
    ;;
status)
    if is_running; then
        echo "$prog: running on port $(cat "$dir/port" 2>/dev/null || echo '?') in $dir" >&2
        exit 0
    fi
    echo "$prog: not running in $dir" >&2
    exit 3
    ;;
esac
