#!/usr/bin/env bash
# Build and run the project's Dockerfile for real, without a Docker engine and without Docker Hub.
#
# For a Debian 12 (bookworm) machine, run as root, that reaches the Debian mirror and PyPI,
# with PostgreSQL and Redis listening on 127.0.0.1. The script:
#   1. installs buildah, podman, runc and debootstrap (apt);
#   2. makes a stand-in for python:3.12-slim-bookworm (debootstrap minbase + the runtime libraries
#      + this machine's CPython 3.12 copied to /usr/local + the current pip) and imports it
#      under the official name, so the Dockerfile's FROM line resolves locally (never pulled);
#   3. builds the unmodified Dockerfile with buildah (docker format, so HEALTHCHECK is kept);
#   4. checks what the image holds: the release id fixed at build, exactly the lock's packages,
#      a CMD that serves and does not migrate, no secret in its environment, no .env/.git/tests;
#   5. runs the image with podman (runc, host network): uid check, `migrate` as its own command,
#      gunicorn, /healthz, /readyz, the login page and every /static/ asset it references, and
#      the image's own HEALTHCHECK; then a graceful stop.
#
# Usage: docker-check.sh [PROJECT_DIR]      (default: the repository holding this script)
# Environment: PYSRC (the prefix of a CPython 3.12 build, e.g. a pyenv version; `make
#   docker-check` finds one), WORK (default: a new private temp folder), MIRROR, IMAGE,
#   PG_ADMIN_URL, CACHE_URL, APP_PORT (default: a free port), KEEP=1 (keep WORK).
# Images and containers live in a container store of their own under WORK, removed at the
# end: nothing of the machine's own podman/buildah storage is read, tagged or deleted.
# `make test` runs it last; it fails on any check, and on any error line in the server log.
#
# Why these choices (each one hit in the sandbox this was written on):
#   - crun (podman's default here) refuses "cgroups in hybrid mode" when the cgroup2 hierarchy
#     has a controller, even with --cgroups=disabled: use runc.
#   - podman asks for RLIMIT_NOFILE=1048576 by default and lowers its own RLIMIT_NPROC to 32768;
#     setrlimit above the hard limit is refused (EPERM) even for root here: pass --ulimit.
#   - buildah's default OCI image format drops HEALTHCHECK: build with --format docker.
#   - a TLS-intercepting egress proxy (if any) has its CA in /usr/local/share/ca-certificates:
#     it is added to the stand-in's trust store (pip >= 24.2 uses the system store).
set -euo pipefail

PROJECT=$(cd "${1:-$(dirname "$0")/..}" && pwd)
WORK=${WORK:-$(mktemp -d /tmp/docker-check.XXXXXX)}
PYSRC=${PYSRC:-$(ls -d "$HOME"/.pyenv/versions/3.12.* 2>/dev/null | sort -V | tail -1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
BASE=docker.io/library/python:3.12-slim-bookworm
IMAGE=${IMAGE:-localhost/calls-dashboard:check}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
CACHE_URL=${CACHE_URL:-redis://127.0.0.1:6379/2}
APP_PORT=${APP_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
DB=dockercheck_$$
CTR=docker-check-$$
NOFILE=$(ulimit -Hn)
NPROC=$(ulimit -Hu); { [ "$NPROC" = unlimited ] || [ "$NPROC" -gt 32768 ]; } && NPROC=32768
export DEBIAN_FRONTEND=noninteractive

mkdir -p "$WORK" && chmod 700 "$WORK"
STORE=(--root "$WORK/storage" --runroot "$WORK/run")
podman() { command podman "${STORE[@]}" "$@"; }
buildah() { command buildah "${STORE[@]}" "$@"; }
log() { printf '\n== %s\n' "$*"; }
rx() { awk -F'[: ]+' 'NR>2 && $2!="lo" {s+=$3} END {print s+0}' /proc/net/dev; }
TIMES=()
timed() {  # timed NAME CMD...: run, record seconds and bytes received
    local name=$1; shift; local t0=$SECONDS r0; r0=$(rx)
    log "$name"
    "$@"
    TIMES+=("$(printf '%-28s %4ss  %6s MB received' "$name" $((SECONDS - t0)) $(( ($(rx) - r0) / 1048576 )))")
}
prun() { podman --runtime runc run --ulimit "nofile=$NOFILE:$NOFILE" --ulimit "nproc=$NPROC:$NPROC" "$@"; }
# One-off commands: no healthcheck (podman would try to schedule it through systemd).
prun1() { prun --rm --no-healthcheck "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# A command in the stand-in rootfs, with a clean environment (no PIP_* etc. from this host).
inroot() { chroot "$WORK/rootfs" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    ${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
    ${no_proxy:+no_proxy=$no_proxy} \
    PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

cleanup() {
    set +e
    podman --runtime runc rm -f "$CTR" >/dev/null 2>&1
    if [ -n "${DB_CREATED:-}" ]; then
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    fi
    if [ -z "${KEEP:-}" ]; then
        podman rmi -af >/dev/null 2>&1
        podman system reset -f >/dev/null 2>&1
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

install_tools() {
    apt-get update -q
    apt-get install -y -q --no-install-recommends buildah podman runc debootstrap curl \
        fuse-overlayfs uidmap postgresql-client >"$WORK/apt.log"
    grep -E 'newly installed|Need to get' "$WORK/apt.log" || true
    buildah --version; podman --version; runc --version | head -1
    # Databases of earlier runs that were killed before their cleanup.
    psql "$PG_ADMIN_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'dockercheck\\_%'" |
        while read -r stale; do psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $stale WITH (FORCE)"; done
}

make_base() {
    local R=$WORK/rootfs
    [ -x "$PYSRC/bin/python3.12" ] && [ -f "$PYSRC/lib/python3.12/os.py" ] \
        || fail "no CPython 3.12 build at PYSRC=$PYSRC (a prefix like ~/.pyenv/versions/3.12.x)"
    case $(realpath "$PYSRC") in /usr | /usr/local | /) fail "PYSRC=$PYSRC is a system prefix, not a CPython build";; esac
    rm -rf "$R"
    # Once more on failure: a mirror hiccup should not fail the whole test run.
    debootstrap --variant=minbase bookworm "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { rm -rf "$R"; sleep 5; debootstrap --variant=minbase bookworm "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; } \
        || { tail -20 "$WORK/debootstrap.log"; fail debootstrap; }
    # What python:3.12-slim-bookworm has at run time: certificates, netbase, tzdata, and the
    # libraries CPython's extension modules link against.
    inroot sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends \
        ca-certificates netbase tzdata libssl3 libsqlite3-0 libffi8 libbz2-1.0 liblzma5 zlib1g \
        libreadline8 libncursesw6 libexpat1 libuuid1 libtirpc3 libnsl2' >"$WORK/rootfs-apt.log"
    if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$R/usr/local/share/ca-certificates/"
        inroot update-ca-certificates >/dev/null
    fi
    # CPython into /usr/local, trimmed like the official image (no tests, idle, tkinter, .a, .pyc).
    tar -C "$PYSRC" -c --exclude='lib/python3.12/site-packages/*' --exclude='lib/python3.12/test' \
        --exclude='lib/python3.12/idlelib' --exclude='lib/python3.12/tkinter' \
        --exclude='lib/python3.12/turtledemo' --exclude='*/tests' --exclude='*/idle_test' \
        --exclude='__pycache__' --exclude='*.pyc' --exclude='*.a' --exclude='lib-dynload/_tkinter*' \
        --exclude='bin/idle*' --exclude='bin/pip*' --exclude='bin/2to3*' --exclude='bin/*-gdb.py' . \
        | tar -C "$R/usr/local" -x
    inroot /usr/sbin/ldconfig
    inroot /usr/local/bin/python3 -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, readline, decimal'
    inroot /usr/local/bin/python3 -m ensurepip --default-pip >/dev/null
    inroot /usr/local/bin/python3 -m pip install -q --root-user-action=ignore --no-cache-dir \
        --disable-pip-version-check --cert /etc/ssl/certs/ca-certificates.crt --upgrade pip
    rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb
    find "$R/usr/local" -name __pycache__ -prune -exec rm -rf {} +
    tar -C "$R" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
        | podman import \
            --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' \
            --change "ENV PYTHON_VERSION=$("$PYSRC/bin/python3.12" -c 'import platform; print(platform.python_version())')" \
            --change 'CMD ["python3"]' - "$BASE" >/dev/null
    prun1 "$BASE" sh -c 'python --version; pip --version'
}

build_image() {
    buildah bud --format docker --isolation chroot --network host --pull-never \
        -t "$IMAGE" "$PROJECT" >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; fail build; }
    grep -E '^STEP|^Successfully|level=(warning|error)|warning' "$WORK/build.log" | cut -c1-150
    podman image ls "$IMAGE"
}

# What the built image holds, as tests/test_deployment_files.py once read from the Dockerfile.
check_contents() {
    local want got cmd envs
    # The release id was fixed at build from the code the image holds (dashboard/release.py).
    want=$(cd "$PROJECT" && "$PYSRC/bin/python3.12" -m dashboard.release)
    got=$(prun1 "$IMAGE" cat /app/RELEASE)
    [ "$got" = "$want" ] || fail "release id in the image is '$got', this checkout's is '$want'"
    echo "release id fixed at build: $got"
    # Exactly the lock's packages, at the lock's versions (names compared normalised).
    norm() { tr 'A-Z_.' 'a-z--' | sort; }
    diff <(grep -vE '^[[:space:]]*(#|$)' "$PROJECT/requirements.lock" | norm) \
        <(prun1 "$IMAGE" pip freeze | norm) || fail "installed packages differ from requirements.lock"
    echo "installed packages = requirements.lock ($(grep -cvE '^[[:space:]]*(#|$)' "$PROJECT/requirements.lock"))"
    # The server command serves; migrating is its own step (docker-compose.yml's migrate).
    cmd=$(podman image inspect "$IMAGE" --format '{{json .Config.Cmd}}')
    case $cmd in *gunicorn*dashboard/gunicorn.conf.py*) ;; *) fail "CMD is not gunicorn with its config: $cmd";; esac
    case $cmd in *migrate*) fail "CMD migrates: $cmd";; esac
    echo "CMD $cmd"
    # No secret baked in (collectstatic's throw-away values stay in their RUN step), and no
    # local state, tests or git history copied in.
    envs=$(podman image inspect "$IMAGE" --format '{{json .Config.Env}}')
    case $envs in *DJANGO_SECRET_KEY*|*FIELD_ENCRYPTION_KEYS*) fail "a secret is in the image's environment";; esac
    prun1 "$IMAGE" sh -c 'cd /app && for p in .env .git .venv tests bench; do
            [ ! -e "$p" ] || { echo "image holds /app/$p"; exit 1; }; done
        [ -z "$(ls -A data)" ] || { echo "image holds files in /app/data"; exit 1; }
        [ -n "$(find staticfiles -name "staticfiles.json")" ] || { echo "no collected static files"; exit 1; }
        [ "$(stat -c %U data)" = app ] || { echo "/app/data is not the app user'"'"'s"; exit 1; }' \
        || fail "image contents (above)"
    echo "no .env/.git/.venv/tests/bench, empty data/ owned by app, static files collected"
}

run_checks() {
    local url=http://127.0.0.1:$APP_PORT env=$WORK/app.env key user hc
    user=$(podman image inspect "$IMAGE" --format '{{.Config.User}}')
    [ "$(prun1 "$IMAGE" id -u)" = 10001 ] || fail "image does not run as uid 10001 (USER=$user)"
    echo "runs as uid 10001 (USER $user)"
    check_contents
    key=$(prun1 "$IMAGE" python -m dashboard.envfile --new-key)
    psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB"
    DB_CREATED=1
    cat >"$env" <<EOF
DJANGO_SECRET_KEY=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')
FIELD_ENCRYPTION_KEYS=$key
DATABASE_URL=${PG_ADMIN_URL%/*}/$DB
CACHE_URL=$CACHE_URL
PORT=$APP_PORT
GUNICORN_BIND=127.0.0.1:$APP_PORT
DJANGO_ALLOWED_HOSTS=localhost,127.0.0.1
EOF
    echo "-- migrate (separate command)"
    prun1 --network host --env-file "$env" "$IMAGE" python manage.py migrate --noinput | tail -3
    echo "-- serve (image CMD)"
    prun -d --name "$CTR" --network host --env-file "$env" "$IMAGE" >/dev/null 2>"$WORK/run.err" \
        || { cat "$WORK/run.err"; fail "podman run"; }
    for _ in $(seq 60); do curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && break; sleep 0.5; done
    for p in /healthz /readyz; do
        [ "$(curl -sS -o /dev/null -w '%{http_code}' "$url$p")" = 200 ] || { podman logs "$CTR"; fail "$p"; }
        echo "$p 200: $(curl -sS "$url$p")"
    done
    curl -fsSL -o "$WORK/login.html" -w 'login page %{http_code} at %{url_effective}\n' "$url/" || fail "login page"
    local assets; assets=$(grep -oE '(href|src)="/static/[^"]+"' "$WORK/login.html" | sed -E 's/^(href|src)="//; s/"$//')
    [ -n "$assets" ] || fail "login page references no /static/ asset"
    for a in $assets; do
        [ "$(curl -sS -o /dev/null -w '%{http_code}' "$url$a")" = 200 ] || fail "static asset $a"
        echo "200 $a"
    done
    [ "$(podman exec "$CTR" id -u)" = 10001 ] || fail "server not running as 10001"
    podman top "$CTR" user pid args
    # The image's own HEALTHCHECK, run inside the container (podman has no systemd timer here).
    hc=$(podman image inspect "$IMAGE" --format '{{json .HealthCheck}}' 2>/dev/null || true)
    echo "HEALTHCHECK: $hc"
    [ -n "$hc" ] && [ "$hc" != null ] || fail "image has no HEALTHCHECK"
    podman healthcheck run "$CTR" 2>/dev/null || fail "HEALTHCHECK exited non-zero"
    echo "HEALTHCHECK exit 0"
    podman stop -t 25 "$CTR" >/dev/null 2>&1
    [ "$(podman inspect "$CTR" --format '{{.State.ExitCode}}')" = 0 ] || fail "non-zero exit on SIGTERM"
    echo "graceful stop: exit 0"
    if podman logs "$CTR" 2>&1 | grep -E '\[ERROR\]|Traceback| ERROR '; then
        fail "error lines in the server log (above)"
    fi
}

timed "install buildah/podman" install_tools
timed "stand-in base image" make_base
timed "build Dockerfile" build_image
timed "run and probe" run_checks
log "summary"
printf '%s\n' "${TIMES[@]}"
du -sh "$WORK/storage" 2>/dev/null | sed 's/^/container storage (removed now): /'
podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'calls-dashboard|python'
echo OK
