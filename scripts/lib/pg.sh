# shellcheck shell=bash
# Throwaway PostgreSQL clusters for tests: sourced by scripts/test and .ci/run.
#
#   pg_find_bindir   sets PG_BINDIR and PG_MAJOR to the newest PostgreSQL server
#                    binaries found (PATH and /usr/lib/postgresql/*/bin);
#                    returns 1 if there are none.
#   pg_start         initdb's a fresh cluster in a new temp dir, starts it on
#                    127.0.0.1 on a free port, waits until it accepts
#                    connections, and exports PG_PORT, PG_URL (an admin URL:
#                    postgres://postgres@127.0.0.1:PORT/postgres), PG_DIR,
#                    PG_BINDIR, PG_MAJOR. Returns non-zero (after printing the
#                    server log) if the cluster does not come up.
#   pg_stop          stops the cluster and removes its temp dir; idempotent,
#                    safe to call from an EXIT trap whether or not pg_start
#                    ran or succeeded.
#   pg_kill          crashes the running cluster of PG_DIR: SIGKILL to the
#                    postmaster and every server process it started (fault tests).
#   pg_restart       starts the cluster of PG_DIR again on PG_PORT (after
#                    pg_kill: crash recovery runs) and waits until it accepts
#                    connections.
#
# PG_EXTRA_CONF, when set, is appended to the cluster's settings (e.g.
# `synchronous_commit = on` for a test that kills the server and counts the
# commits it acknowledged).
#
# PostgreSQL refuses to run as root: when root, the cluster is owned and run by
# the `postgres` OS user (HRPLAN_PG_OS_USER overrides; `nobody` if neither
# exists). Otherwise it runs as the current user.
#
# Settings are for tests only: trust authentication, fsync off, no listening
# beyond 127.0.0.1, max_connections 200 (each test creates its own database
# and the tests run in parallel).

PG_DIR="${PG_DIR:-}"
PG_PORT="${PG_PORT:-}"
PG_URL="${PG_URL:-}"
PG_BINDIR="${PG_BINDIR:-}"
PG_MAJOR="${PG_MAJOR:-}"
_PG_RUNAS=()

_pg_log() { printf '[pg] %s\n' "$*" >&2; }

# Major version of the server binaries in directory $1 (e.g. 15), or nothing.
_pg_major_of() {
    local v
    v="$("$1/postgres" --version 2>/dev/null || "$1/initdb" --version 2>/dev/null)" || return 1
    # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> 15
    v="$(printf '%s\n' "$v" | sed -n 's/^[^0-9]*\([0-9][0-9]*\).*/\1/p' | head -n1)"
    [[ -n "$v" ]] && printf '%s\n' "$v"
}

pg_find_bindir() {
    local candidates=() dir major best_dir="" best_major=-1 p
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -d "$dir" ]] && candidates+=("$dir")
    done
    for p in initdb pg_ctl; do
        if command -v "$p" >/dev/null 2>&1; then
            # Resolve symlinks such as /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb.
            candidates+=("$(dirname "$(readlink -f "$(command -v "$p")")")")
        fi
    done
    for dir in "${candidates[@]}"; do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]] || continue
        major="$(_pg_major_of "$dir")" || continue
        [[ "$major" =~ ^[0-9]+$ ]] || continue
        if (( major > best_major )); then
            best_major=$major
            best_dir=$dir
        fi
    done
    [[ -n "$best_dir" ]] || return 1
    PG_BINDIR="$best_dir"
    PG_MAJOR="$best_major"
    export PG_BINDIR PG_MAJOR
}

# A TCP port on 127.0.0.1 that is free right now.
_pg_free_port() {
    local py port
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1; then
            port="$("$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null)" && [[ -n "$port" ]] && { printf '%s\n' "$port"; return 0; }
        fi
    done
    # No Python: try random ports until nothing answers on one.
    for _ in $(seq 1 100); do
        port=$(( 20000 + RANDOM % 30000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

# Runs a command as the cluster's owner.
_pg_run() {
    "${_PG_RUNAS[@]}" "$@"
}

_pg_setup_user() {
    _PG_RUNAS=()
    if [[ "$(id -u)" -eq 0 ]]; then
        local user="${HRPLAN_PG_OS_USER:-}"
        if [[ -z "$user" ]]; then
            if id postgres >/dev/null 2>&1; then
                user=postgres
            elif id nobody >/dev/null 2>&1; then
                user=nobody
            else
                _pg_log "running as root and neither a 'postgres' nor a 'nobody' OS user exists"
                return 1
            fi
        fi
        if command -v runuser >/dev/null 2>&1; then
            _PG_RUNAS=(runuser -u "$user" --)
        elif command -v setpriv >/dev/null 2>&1; then
            _PG_RUNAS=(setpriv "--reuid=$user" "--regid=$(id -g "$user")" --init-groups --)
        else
            # shellcheck disable=SC2016 # expanded by the inner shell
            _PG_RUNAS=(su -s /bin/sh "$user" -c '"$0" "$@"')
        fi
        _PG_OWNER="$user"
    else
        _PG_OWNER="$(id -un)"
    fi
}

_pg_wait_ready() {
    local _
    for _ in $(seq 1 120); do
        if [[ -x "$PG_BINDIR/pg_isready" ]]; then
            "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres && return 0
        elif command -v pg_isready >/dev/null 2>&1; then
            pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres && return 0
        elif [[ -x "$PG_BINDIR/psql" ]]; then
            "$PG_BINDIR/psql" -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1 && return 0
        else
            # pg_ctl -w already waited; a TCP connect is the best we can do.
            (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null && return 0
        fi
        sleep 0.5
    done
    return 1
}

_pg_show_log() {
    if [[ -n "$PG_DIR" && -f "$PG_DIR/postgres.log" ]]; then
        _pg_log "last lines of the server log ($PG_DIR/postgres.log):"
        tail -n 40 "$PG_DIR/postgres.log" >&2 || true
    fi
}

pg_start() {
    if [[ -z "$PG_BINDIR" ]]; then
        pg_find_bindir || { _pg_log "no PostgreSQL server binaries found"; return 1; }
    fi
    _pg_setup_user || return 1

    # A temp dir the cluster owner can reach: /tmp unless TMPDIR is readable by it.
    local base="${TMPDIR:-/tmp}"
    if [[ "$(id -u)" -eq 0 ]] && ! _pg_run test -x "$base" 2>/dev/null; then
        base=/tmp
    fi
    PG_DIR="$(mktemp -d "$base/hrplan-pg.XXXXXX")" || return 1
    export PG_DIR
    chmod 700 "$PG_DIR"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown "$_PG_OWNER" "$PG_DIR" || return 1
    fi

    local locale_args=(--locale=C.UTF-8)
    if ! locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale_args=(--no-locale)
    fi
    if ! _pg_run "$PG_BINDIR/initdb" -D "$PG_DIR/data" --auth=trust -U postgres \
            --encoding=UTF8 "${locale_args[@]}" >"$PG_DIR/initdb.log" 2>&1; then
        if [[ "${locale_args[0]}" != --no-locale ]]; then
            _pg_log "initdb with C.UTF-8 failed; retrying with --no-locale"
            _pg_run rm -rf "$PG_DIR/data"
            locale_args=(--no-locale)
            _pg_run "$PG_BINDIR/initdb" -D "$PG_DIR/data" --auth=trust -U postgres \
                --encoding=UTF8 "${locale_args[@]}" >"$PG_DIR/initdb.log" 2>&1 || {
                _pg_log "initdb failed:"; cat "$PG_DIR/initdb.log" >&2; return 1; }
        else
            _pg_log "initdb failed:"; cat "$PG_DIR/initdb.log" >&2; return 1
        fi
    fi

    local attempt
    for attempt in 1 2 3; do
        PG_PORT="$(_pg_free_port)" || { _pg_log "found no free TCP port"; return 1; }
        # Rewritten on each attempt: the last setting of a parameter wins, but
        # keep the file tidy anyway.
        # shellcheck disable=SC2016 # expanded by the inner shell
        _pg_run sh -c 'cat > "$1"' sh "$PG_DIR/data/postgresql.auto.conf" <<EOF
# Throwaway test cluster written by scripts/lib/pg.sh.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
${PG_EXTRA_CONF:-}
EOF
        if _pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" \
                -w -t 60 -s start >/dev/null 2>&1 && _pg_wait_ready; then
            PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
            export PG_PORT PG_URL
            _pg_log "PostgreSQL $PG_MAJOR running on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
            return 0
        fi
        _pg_log "PostgreSQL did not start on port $PG_PORT (attempt $attempt of 3)"
        _pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -s stop >/dev/null 2>&1 || true
    done
    _pg_show_log
    return 1
}

pg_stop() {
    [[ -n "$PG_DIR" ]] || return 0
    if [[ -d "$PG_DIR" ]]; then
        [[ ${#_PG_RUNAS[@]} -gt 0 || "$(id -u)" -ne 0 ]] || _pg_setup_user || true
        if [[ -f "$PG_DIR/data/postmaster.pid" && -n "$PG_BINDIR" ]]; then
            if ! _pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 20 -s stop >/dev/null 2>&1; then
                _pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 10 -s stop >/dev/null 2>&1 || true
            fi
        fi
        # Last resort: the postmaster's PID from its lock file.
        if [[ -f "$PG_DIR/data/postmaster.pid" ]]; then
            local pid
            pid="$(head -n1 "$PG_DIR/data/postmaster.pid" 2>/dev/null || true)"
            if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                kill -QUIT "$pid" 2>/dev/null || true
                sleep 1
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
        rm -rf "$PG_DIR"
        _pg_log "PostgreSQL stopped; removed $PG_DIR"
    fi
    PG_DIR=""
    PG_PORT=""
    PG_URL=""
}

pg_kill() {
    [[ -n "$PG_DIR" && -f "$PG_DIR/data/postmaster.pid" ]] || { _pg_log "pg_kill: no running cluster in PG_DIR"; return 1; }
    local pid children _
    pid="$(head -n1 "$PG_DIR/data/postmaster.pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    # Stop the postmaster first so that it starts nothing new, then kill its
    # children and itself: a postmaster killed alone leaves its backends holding
    # the shared memory, and a new one would refuse to start beside them.
    kill -STOP "$pid" 2>/dev/null || true
    children="$(pgrep -P "$pid" | tr '\n' ' ' || true)"
    # shellcheck disable=SC2086 # a list of PIDs
    [[ -z "${children// /}" ]] || kill -KILL $children 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
    local alive p
    for _ in $(seq 1 200); do
        alive=0
        for p in $pid $children; do
            kill -0 "$p" 2>/dev/null && alive=1
        done
        (( alive )) || return 0
        sleep 0.05
    done
    _pg_log "pg_kill: server processes still alive after 10 s"
    return 1
}

pg_restart() {
    [[ -n "$PG_DIR" && -n "$PG_PORT" ]] || { _pg_log "pg_restart: PG_DIR and PG_PORT are needed"; return 1; }
    if [[ -z "$PG_BINDIR" ]]; then
        pg_find_bindir || return 1
    fi
    _pg_setup_user || return 1
    _pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 -s start >/dev/null 2>&1 \
        && _pg_wait_ready
}
