# shellcheck shell=bash
# Shared functions for the local stack scripts (run.sh, stop.sh, test.sh).
# Source it; do not execute it. Callers set -euo pipefail themselves.
#
# Knobs (all optional):
#   RENDA_PG_URL            PostgreSQL server URL (default postgres://postgres@127.0.0.1:5432/postgres)
#   RENDA_PRIVATE_PG_PORT   first port tried for the private cluster (default 55432)
#   RENDA_COUNTIES          comma list of county codes (default: the seed's six)
#   RENDA_CARGO             cargo command (default cargo); a stand-in such as `true` skips builds
#   RENDA_BIN_DIR           where the service binaries are (default $CARGO_TARGET_DIR/debug or target/debug)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="$REPO_ROOT/.run"
# shellcheck disable=SC2034 # used by the scripts that source this file
LOCAL_DIR="$REPO_ROOT/deploy/local"

SEED_COUNTIES="330521,330782,331081,330603,330523,330110"
# Services that produce events, in topic names renda.<county>.<service>.
EVENT_SERVICES=(suggestion deputy supervision opinion-ingest notification)
# Processes of the local stack, in start order; stop goes in reverse.
# shellcheck disable=SC2034
PROCS=(suggestion deputy supervision opinion-ingest notification gateway)
TOPIC_PARTITIONS=3
TANSU_INSTALL=(cargo install tansu --locked --features "dynostore,libsql")
TANSU_CLUSTER_ID="renda-local"

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# Let errexit reach into $(...) too, so a failing step inside a helper stops the script.
shopt -s inherit_errexit

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || die "'$c' is needed; install it (Debian: apt-get install $c)"
	done
}

log() { printf '[renda] %s\n' "$*" >&2; }
warn() { printf '[renda] warning: %s\n' "$*" >&2; }
die() {
	printf '[renda] error: %s\n' "$*" >&2
	exit 1
}

cargo_cmd() {
	# shellcheck disable=SC2086 # RENDA_CARGO may carry words, e.g. "cargo +stable"
	${RENDA_CARGO:-cargo} "$@"
}

bin_dir() {
	if [[ -n ${RENDA_BIN_DIR:-} ]]; then
		printf '%s\n' "$RENDA_BIN_DIR"
	else
		local target=${CARGO_TARGET_DIR:-$REPO_ROOT/target}
		[[ $target == /* ]] || target="$REPO_ROOT/$target"
		printf '%s\n' "$target/debug"
	fi
}

# counties -> one code per line; rejects anything that is not a 6-digit code.
county_list() {
	local raw=${1:-${RENDA_COUNTIES:-$SEED_COUNTIES}} c
	local -a items
	IFS=',' read -r -a items <<<"$raw"
	for c in "${items[@]}"; do
		c=${c//[[:space:]]/}
		[[ -z $c ]] && continue
		[[ $c =~ ^[0-9]{6}$ ]] || die "RENDA_COUNTIES: '$c' is not a 6-digit county code"
		printf '%s\n' "$c"
	done
}

admin_port() {
	case $1 in
	gateway) echo 9100 ;;
	suggestion) echo 9101 ;;
	deputy) echo 9102 ;;
	supervision) echo 9103 ;;
	opinion-ingest) echo 9104 ;;
	notification) echo 9105 ;;
	*) die "unknown process $1" ;;
	esac
}

# ---------------------------------------------------------------- processes

# tcp_open HOST PORT: true when something accepts a TCP connection there.
tcp_open() {
	# shellcheck disable=SC2016 # $1 and $2 expand in the inner bash
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# pid_alive PID: running and not a zombie.
pid_alive() {
	local pid=$1 stat
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# pid_is PID NAME: PID is alive and runs the executable NAME (guards against pid reuse).
pid_is() {
	local pid=$1 name=$2 argv0
	pid_alive "$pid" || return 1
	argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1) || return 1
	[[ ${argv0##*/} == "$name" ]]
}

# pidfile_pid PIDFILE NAME: prints the pid when the file names a live NAME process.
pidfile_pid() {
	local pidfile=$1 name=$2 pid
	[[ -f $pidfile ]] || return 1
	pid=$(<"$pidfile")
	pid_is "$pid" "$name" || return 1
	printf '%s\n' "$pid"
}

# stop_pidfile PIDFILE NAME [TIMEOUT]: SIGTERM, wait, SIGKILL after TIMEOUT seconds.
stop_pidfile() {
	local pidfile=$1 name=$2 timeout=${3:-20} pid waited=0
	[[ -f $pidfile ]] || return 0
	if pid=$(pidfile_pid "$pidfile" "$name"); then
		log "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		while pid_alive "$pid" && ((waited < timeout * 10)); do
			sleep 0.1
			waited=$((waited + 1))
		done
		if pid_alive "$pid"; then
			warn "$name (pid $pid) still running ${timeout}s after SIGTERM; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
	fi
	rm -f "$pidfile"
}

# log_tail LOGFILE: the last lines written since the last "=== " start marker.
log_tail() {
	awk '/^=== /{n=0} {buf[n++]=$0} END{s=n>20?n-20:0; for(i=s;i<n;i++) print buf[i]}' "$1" 2>/dev/null || true
}

# wait_healthy TIMEOUT NAME=PID...: polls http://127.0.0.1:<admin port of NAME>/healthz until all
# answer 2xx; fails at once when a process exits, and after TIMEOUT seconds naming the laggards.
wait_healthy() {
	local timeout=$1 start=$SECONDS item name pid logfile
	shift
	local -a pending=("$@") still
	while ((${#pending[@]} > 0)); do
		still=()
		for item in "${pending[@]}"; do
			name=${item%%=*} pid=${item#*=} logfile="$RUN_DIR/logs/$name.log"
			if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$(admin_port "$name")/healthz" 2>/dev/null; then
				log "renda-$name is healthy"
			elif [[ -n $pid ]] && ! pid_alive "$pid"; then
				log_tail "$logfile" >&2
				die "renda-$name exited before becoming healthy; see .run/logs/$name.log"
			else
				still+=("$item")
			fi
		done
		pending=("${still[@]}")
		((${#pending[@]} > 0)) || break
		if ((SECONDS - start >= timeout)); then
			for item in "${pending[@]}"; do
				name=${item%%=*}
				printf -- '--- .run/logs/%s.log\n' "$name" >&2
				log_tail "$RUN_DIR/logs/$name.log" >&2
			done
			die "not healthy after ${timeout}s: ${pending[*]%%=*} (GET /healthz on their admin ports); see .run/logs/<name>.log"
		fi
		sleep 0.5
	done
}

# ---------------------------------------------------------------- PostgreSQL

PG_DIR="$RUN_DIR/pg"

# pg_host_port URL: prints "HOST PORT".
pg_host_port() {
	local rest=${1#*://} host port
	rest=${rest%%/*}
	rest=${rest%%\?*}
	rest=${rest##*@}
	if [[ $rest == \[* ]]; then
		host=${rest%%]*}
		host=${host#[}
		port=${rest##*]}
	else
		host=${rest%%:*}
		port=${rest#"$host"}
	fi
	port=${port#:}
	printf '%s %s\n' "${host:-127.0.0.1}" "${port:-5432}"
}

# pg_answers HOST PORT: pg_isready when installed, else a plain TCP connect.
pg_answers() {
	local host=$1 port=$2 rc
	if command -v pg_isready >/dev/null 2>&1; then
		for _ in {1..10}; do
			rc=0
			pg_isready -q -h "$host" -p "$port" -t 3 >/dev/null 2>&1 || rc=$?
			case $rc in
			0) return 0 ;;
			1) sleep 1 ;; # rejecting connections: starting up or shutting down
			*) return 1 ;;
			esac
		done
		return 1
	fi
	tcp_open "$host" "$port"
}

pg_bin_dir() {
	local d
	d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
	[[ -n $d && -x $d/initdb && -x $d/pg_ctl ]] || return 1
	printf '%s\n' "$d"
}

install_pg() {
	log "installing PostgreSQL from the distribution (apt-get install postgresql)"
	local -a sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null 2>&1 || die "PostgreSQL binaries missing and not root: install the 'postgresql' package or set RENDA_PG_URL"
		sudo=(sudo -n)
	fi
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null
}

# Runs a PostgreSQL binary; as root it runs as the postgres user (initdb and postgres refuse root).
pg_as_owner() {
	if ((EUID == 0)); then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# The private cluster's home (data/, postgres.log, port). Usually .run/pg; when the postgres
# user cannot reach the repository (e.g. under /root), a directory under /var/tmp.
private_pg_home() {
	if [[ -f $PG_DIR/home ]]; then
		cat "$PG_DIR/home"
		return
	fi
	mkdir -p "$PG_DIR"
	local home=$PG_DIR
	if ((EUID == 0)); then
		if ! id postgres >/dev/null 2>&1; then
			useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
		fi
		chown postgres: "$PG_DIR"
		if ! runuser -u postgres -- test -w "$PG_DIR"; then
			home="/var/tmp/renda-pg-$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)"
			mkdir -p "$home"
			chown postgres: "$home"
			log "postgres user cannot reach $PG_DIR; private cluster lives in $home"
		fi
	fi
	printf '%s\n' "$home" >"$PG_DIR/home"
	printf '%s\n' "$home"
}

# private_pg_port: prints the port of the running private cluster, fails when none runs.
private_pg_port() {
	[[ -f $PG_DIR/home ]] || return 1
	local home bin port
	home=$(<"$PG_DIR/home")
	[[ -f $home/data/postmaster.pid && -f $home/port ]] || return 1
	bin=$(pg_bin_dir) || return 1
	pg_as_owner "$bin/pg_ctl" -D "$home/data" status >/dev/null 2>&1 || return 1
	port=$(<"$home/port")
	pg_answers 127.0.0.1 "$port" || return 1
	printf '%s\n' "$port"
}

start_private_pg() {
	local bin home port
	bin=$(pg_bin_dir) || {
		install_pg
		bin=$(pg_bin_dir) || die "PostgreSQL binaries not found under /usr/lib/postgresql after installing"
	}
	home=$(private_pg_home)
	if [[ ! -s $home/data/PG_VERSION ]]; then
		log "initdb $home/data ($("$bin/postgres" --version))"
		rm -rf "$home/data"
		(cd "$home" && pg_as_owner "$bin/initdb" -D "$home/data" -U postgres -A trust -E UTF8 --locale=C >"$home/initdb.log" 2>&1) ||
			{
				cat "$home/initdb.log" >&2
				die "initdb failed"
			}
		# A throwaway development cluster: durability traded for speed.
		cat >>"$home/data/postgresql.conf" <<-'EOF'
			# renda local stack
			listen_addresses = '127.0.0.1'
			unix_socket_directories = ''
			max_connections = 300
			fsync = off
			synchronous_commit = off
			full_page_writes = off
		EOF
	fi
	port=${RENDA_PRIVATE_PG_PORT:-55432}
	local last=$((port + 50))
	while tcp_open 127.0.0.1 "$port"; do
		port=$((port + 1))
		((port <= last)) || die "no free port for the private PostgreSQL in ${RENDA_PRIVATE_PG_PORT:-55432}..$last"
	done
	log "starting private PostgreSQL on 127.0.0.1:$port (log $home/postgres.log)"
	printf '%s\n' "$port" >"$home/port"
	(cd "$home" && pg_as_owner "$bin/pg_ctl" -D "$home/data" -l "$home/postgres.log" -o "-p $port" -w -t 60 start >/dev/null) ||
		{
			tail -n 20 "$home/postgres.log" >&2 || true
			die "private PostgreSQL did not start; see $home/postgres.log"
		}
	pg_answers 127.0.0.1 "$port" || die "private PostgreSQL started but does not answer on 127.0.0.1:$port"
	printf '%s\n' "$port"
}

# ensure_pg: exports RENDA_PG_URL naming a server that answers. Sets RENDA_PG_STARTED=1 when
# this call started the private cluster (callers that only need it briefly may stop it).
ensure_pg() {
	RENDA_PG_STARTED=0
	local url=${RENDA_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres} host port
	read -r host port < <(pg_host_port "$url")
	if pg_answers "$host" "$port"; then
		log "PostgreSQL answers at $host:$port"
		export RENDA_PG_URL=$url
		return
	fi
	local private
	if private=$(private_pg_port); then
		log "no PostgreSQL at $host:$port; using the private cluster on 127.0.0.1:$private"
	else
		log "no PostgreSQL at $host:$port; starting a private cluster"
		private=$(start_private_pg)
		# shellcheck disable=SC2034 # read by callers
		RENDA_PG_STARTED=1
	fi
	export RENDA_PG_URL="postgres://postgres@127.0.0.1:$private/postgres"
}

stop_private_pg() {
	[[ -f $PG_DIR/home ]] || return 0
	local home bin
	home=$(<"$PG_DIR/home")
	[[ -f $home/data/postmaster.pid ]] || return 0
	bin=$(pg_bin_dir) || return 0
	if pg_as_owner "$bin/pg_ctl" -D "$home/data" status >/dev/null 2>&1; then
		log "stopping private PostgreSQL ($home/data)"
		(cd "$home" && pg_as_owner "$bin/pg_ctl" -D "$home/data" -m fast -w -t 60 stop >/dev/null)
	fi
}

# ---------------------------------------------------------------- private runs (test, bench)

# cleanup_on_exit BROKER_DIR: on exit stop the broker whose pidfile is in BROKER_DIR and the
# private PostgreSQL cluster if this run started it; keep the exit status.
cleanup_on_exit() {
	CLEANUP_BROKER_DIR=$1
	trap _cleanup_run EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

_cleanup_run() {
	local rc=$?
	trap - EXIT
	stop_pidfile "$CLEANUP_BROKER_DIR/broker.pid" tansu 10 || true
	if [[ ${RENDA_PG_STARTED:-0} == 1 ]]; then
		stop_private_pg || true
	fi
	exit "$rc"
}

# drop_databases REGEX WHAT: drops the databases whose names match REGEX, left by earlier
# runs, so they do not pile up (skipped where psql is missing).
drop_databases() {
	local regex=$1 what=$2 stale db
	command -v psql >/dev/null 2>&1 || return 0
	stale=$(psql "$RENDA_PG_URL" -Atc "SELECT datname FROM pg_database WHERE datname ~ '$regex'" 2>/dev/null || true)
	[[ -n $stale ]] || return 0
	log "dropping $(wc -l <<<"$stale") databases of earlier $what runs"
	while read -r db; do
		psql "$RENDA_PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
	done <<<"$stale"
}

# ---------------------------------------------------------------- python (chart check, subscriber)

# ensure_python: python3 with venv, from the distribution where missing (a fresh Debian
# machine with only Rust has neither).
ensure_python() {
	if command -v python3 >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
		return
	fi
	local sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	log "installing python3 and python3-venv from the distribution"
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq python3 python3-venv >/dev/null
	command -v python3 >/dev/null 2>&1 || die "python3 is still missing after installing it"
}

# ---------------------------------------------------------------- tansu (Kafka)

tansu_bin() { command -v tansu; }

ensure_tansu_installed() {
	mkdir -p "$RUN_DIR"
	(
		flock 9
		if ! tansu_bin >/dev/null 2>&1; then
			log "installing the tansu broker: ${TANSU_INSTALL[*]} (about 11 minutes on 2 cores, once)"
			"${TANSU_INSTALL[@]}"
		fi
	) 9>"$RUN_DIR/tansu-install.lock"
	tansu_bin >/dev/null 2>&1 || die "tansu not on PATH after installing"
	local help
	help=$("$(tansu_bin)" --help 2>&1) || true
	[[ $help == *"Storage engines:"*libsql* ]] ||
		die "$(tansu_bin) lacks the libsql (sqlite://) storage engine; reinstall: ${TANSU_INSTALL[*]} --force"
}

# start_broker PORT STORAGE DIR: starts tansu on 127.0.0.1:PORT with its working directory,
# pid file and log in DIR, unless one of ours already runs there. STORAGE is relative to DIR
# (sqlite://tansu.db; an absolute sqlite:/// path gets mangled by tansu 0.6).
start_broker() {
	local port=$1 storage=$2 dir=$3 pid
	mkdir -p "$dir"
	if pid=$(pidfile_pid "$dir/broker.pid" tansu) && tcp_open 127.0.0.1 "$port"; then
		log "tansu already running on 127.0.0.1:$port (pid $pid)"
		return
	fi
	if tcp_open 127.0.0.1 "$port"; then
		warn "something not started by these scripts listens on 127.0.0.1:$port; using it as the Kafka broker"
		return
	fi
	log "starting tansu on 127.0.0.1:$port (storage $storage in $dir, log $dir/broker.log)"
	(
		cd "$dir" || exit 1
		printf '=== %s tansu broker\n' "$(date -u +%FT%TZ)" >>broker.log
		RUST_LOG=${TANSU_LOG:-warn} nohup "$(tansu_bin)" broker \
			--kafka-cluster-id "$TANSU_CLUSTER_ID" \
			--kafka-listener-url "tcp://127.0.0.1:$port" \
			--kafka-advertised-listener-url "tcp://127.0.0.1:$port" \
			--storage-engine "$storage" \
			</dev/null >>broker.log 2>&1 &
		echo $! >broker.pid
	)
	pid=$(<"$dir/broker.pid")
	local start=$SECONDS
	until tcp_open 127.0.0.1 "$port"; do
		if ! pid_alive "$pid"; then
			tail -n 20 "$dir/broker.log" >&2 || true
			die "tansu exited at start; see $dir/broker.log"
		fi
		((SECONDS - start < 30)) || die "tansu not listening on 127.0.0.1:$port after 30s; see $dir/broker.log"
		sleep 0.2
	done
}

# create_topics BROKERS COUNTIES: renda.<county>.<service> with $TOPIC_PARTITIONS partitions for
# every county and event service; topics that already exist are left as they are.
create_topics() {
	local broker="tcp://${1%%,*}" list county service topic existing out created=0 present=0
	list=$(county_list "$2")
	existing=$("$(tansu_bin)" topic list --broker "$broker" 2>&1) || {
		printf '%s\n' "$existing" >&2
		die "listing topics on $broker failed"
	}
	while read -r county; do
		for service in "${EVENT_SERVICES[@]}"; do
			topic="renda.$county.$service"
			if [[ $existing == *"\"name\":\"$topic\""* ]]; then
				present=$((present + 1))
			elif out=$("$(tansu_bin)" topic create --broker "$broker" --partitions "$TOPIC_PARTITIONS" "$topic" 2>&1); then
				created=$((created + 1))
			elif [[ $out == *"already exists"* ]]; then
				present=$((present + 1))
			else
				printf '%s\n' "$out" >&2
				die "creating topic $topic on $broker failed"
			fi
		done
	done <<<"$list"
	log "topics on $broker: $created created, $present already there"
}
