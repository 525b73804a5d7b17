#!/usr/bin/env bash
# make run: brings up the local stack (PostgreSQL, tansu, the six processes), seeds demo data
# for the seed's counties and prints where to point a client. Safe to run again: whatever
# already runs is kept (a process whose binary was rebuilt is restarted), seeding is idempotent.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

GATEWAY_URL="http://127.0.0.1:8080"
BROKER_PORT=9092
export RENDA_KAFKA_BROKERS=${RENDA_KAFKA_BROKERS:-127.0.0.1:$BROKER_PORT}
export RENDA_COUNTIES=${RENDA_COUNTIES:-$SEED_COUNTIES}
export RENDA_CELL=${RENDA_CELL:-local}
export RENDA_LOG=${RENDA_LOG:-info}
DEMO_USERS="$LOCAL_DIR/demo-users.json"
HEALTH_TIMEOUT=${RENDA_HEALTH_TIMEOUT:-180}

require_cmd curl
mkdir -p "$RUN_DIR/pids" "$RUN_DIR/logs"

ensure_pg
ensure_tansu_installed
if [[ $RENDA_KAFKA_BROKERS == "127.0.0.1:$BROKER_PORT" ]]; then
	start_broker "$BROKER_PORT" "sqlite://tansu.db" "$RUN_DIR/broker"
else
	log "RENDA_KAFKA_BROKERS=$RENDA_KAFKA_BROKERS: not starting a local broker"
fi
create_topics "$RENDA_KAFKA_BROKERS" "$RENDA_COUNTIES"

log "cargo build --workspace --bins"
cargo_cmd build --workspace --bins

if [[ -z ${RENDA_JWT_HS256_SECRET:-} ]]; then
	if [[ ! -s $RUN_DIR/jwt-secret ]]; then
		(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$RUN_DIR/jwt-secret")
		log "generated a JWT secret in .run/jwt-secret"
	fi
	RENDA_JWT_HS256_SECRET=$(<"$RUN_DIR/jwt-secret")
fi
export RENDA_JWT_HS256_SECRET

BIN_DIR=$(bin_dir)

# start_proc NAME: starts renda-NAME unless it already runs; prints its pid.
start_proc() {
	local name=$1 exe="renda-$1" pidfile="$RUN_DIR/pids/$1.pid" logfile="$RUN_DIR/logs/$1.log" pid
	if pid=$(pidfile_pid "$pidfile" "$exe"); then
		if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == *" (deleted)" ]]; then
			log "$exe: binary was rebuilt; restarting"
			stop_pidfile "$pidfile" "$exe" 30
		else
			log "$exe already running (pid $pid)"
			printf '%s\n' "$pid"
			return
		fi
	fi
	[[ -x $BIN_DIR/$exe ]] || die "$BIN_DIR/$exe not found; did cargo build --workspace --bins succeed?"
	local -a env=()
	[[ $name == gateway ]] && env=(RENDA_DEMO_USERS="$DEMO_USERS")
	printf '=== %s starting %s\n' "$(date -u +%FT%TZ)" "$exe" >>"$logfile"
	env "${env[@]}" nohup "$BIN_DIR/$exe" </dev/null >>"$logfile" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$pidfile"
	log "started $exe (pid $pid, log .run/logs/$name.log)"
	printf '%s\n' "$pid"
}

STARTED=()
for name in "${PROCS[@]}"; do
	STARTED+=("$name=$(start_proc "$name")")
done
wait_healthy "$HEALTH_TIMEOUT" "${STARTED[@]}"
log "all six processes are healthy"

# ---------------------------------------------------------------- demo data

# demo_suggestion COUNTY: prints "title|category|content" for the county's demo suggestion.
demo_suggestion() {
	case $1 in
	330521) echo "关于加快农村生活污水处理设施提标改造的建议|生态环境|莫干山镇部分行政村污水处理终端建成较早、处理能力不足，民宿旺季集中排放时出水不能稳定达标。建议县生态环境局会同住建部门制定提标改造计划，优先改造民宿集聚村的处理终端，并建立第三方运维考核机制。" ;;
	330782) echo "关于国际商贸城周边老旧小区加装电梯的建议|城乡建设|国际商贸城周边多个老旧小区居住着大量老年人和外籍商户，上下楼不便。建议市住建局简化既有住宅加装电梯审批流程，提高财政补助标准，并在小区设立加装电梯协调议事机制。" ;;
	331081) echo "关于优化城区至石塘镇公交线路的建议|交通运输|城区至石塘镇的公交班次少、末班车早，群众和游客出行不便。建议市交通运输局增加早晚高峰和节假日班次，延长末班车时间，并在沿线主要村庄设置候车亭。" ;;
	330603) echo "关于增加中小学课后服务学位供给的建议|教育|随着新居民子女入学人数增加，部分街道中小学课后服务学位紧张。建议区教育体育局统筹校内外资源扩大课后服务覆盖面，并加强托管服务质量监管。" ;;
	330523) echo "关于加强白茶产业冬春季冻害防护的建议|农业农村|近年冬春季低温冻害频发，白茶种植户损失较大。建议县农业农村局推广防霜风机等防护设施，完善政策性农业保险，并组织农技人员开展防冻技术指导。" ;;
	330110) echo "关于提升社区卫生服务中心夜间门诊能力的建议|卫生健康|未来科技城片区人口快速增长，社区卫生服务中心夜间门诊覆盖不足，群众夜间就医只能前往大医院。建议区卫生健康局在人口密集片区试点夜间门诊，并配齐儿科常用药品。" ;;
	*) return 1 ;;
	esac
}

json_field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p"; }

dev_token() {
	curl -fsS --max-time 10 -X POST "$GATEWAY_URL/v1/dev/tokens" \
		-H 'content-type: application/json' -d "{\"login\":\"$1\"}" | json_field token
}

# api METHOD PATH TOKEN BODY: calls the gateway; dies naming the call unless it answers 2xx.
api() {
	local method=$1 path=$2 token=$3 data=$4 body code
	body=$(mktemp)
	code=$(curl -sS --max-time 30 -o "$body" -w '%{http_code}' -X "$method" "$GATEWAY_URL$path" \
		-H "authorization: Bearer $token" -H 'content-type: application/json' -d "$data") || code=000
	if [[ $code != 2?? ]]; then
		cat "$body" >&2 && echo >&2
		rm -f "$body"
		die "seeding: $method $path answered HTTP $code; see .run/logs/gateway.log"
	fi
	rm -f "$body"
}

# seed_configuration COUNTY CATEGORY: registers the county's demo agency, a routing rule
# sending CATEGORY to it, and for 德清 the auto-assign policy of the source document.
seed_configuration() {
	local county=$1 category=$2 staff line code name rule_id
	staff=$(dev_token "staff-$county") || die "no dev token for staff-$county"
	line=$(grep "\"login\": \"agency-$county\"" "$DEMO_USERS") || return 0
	code=$(json_field agency <<<"$line")
	name=$(json_field agency_name <<<"$line")
	[[ -n $code && -n $name ]] || return 0
	api PUT "/v1/counties/$county/agencies/$code" "$staff" "{\"name\":\"$name\",\"active\":true}"
	# A fixed rule id per county keeps re-runs from adding the rule twice.
	rule_id="00000000-0000-7000-8000-000000$county"
	api POST "/v1/counties/$county/routing-rules" "$staff" \
		"{\"id\":\"$rule_id\",\"category\":\"$category\",\"agency\":\"$code\",\"priority\":10}"
	if [[ $county == 330521 ]]; then
		api PUT "/v1/counties/$county/suggestion-policy" "$staff" \
			'{"mode":"months","handling_period":3,"rehandling_period":1,"max_months_with_extension":6,"remind_days_before":[7,3,1],"urge_after_days":3,"supervise_after_days":7,"auto_assign":true,"motion_min_cosigners":10}'
	fi
	log "demo configuration for $county: agency $code ($name), rule $category → $code$([[ $county == 330521 ]] && echo ', auto-assign on')"
}

seed_county() {
	local county=$1 line title category content token code body
	line=$(demo_suggestion "$county") || return 0
	IFS='|' read -r title category content <<<"$line"
	seed_configuration "$county" "$category"
	token=$(dev_token "deputy-$county") || die "no dev token for deputy-$county from $GATEWAY_URL/v1/dev/tokens; see .run/logs/gateway.log"
	[[ -n $token ]] || die "the dev token response for deputy-$county has no \"token\" field"
	body=$(mktemp)
	code=$(curl -sS --max-time 30 -o "$body" -w '%{http_code}' -X POST "$GATEWAY_URL/v1/counties/$county/suggestions" \
		-H "authorization: Bearer $token" \
		-H "idempotency-key: renda-demo-seed-$county-1" \
		-H 'content-type: application/json' \
		-d "{\"kind\":\"suggestion\",\"title\":\"$title\",\"content\":\"$content\",\"category\":\"$category\"}") || code=000
	case $code in
	200 | 201) log "demo suggestion for $county: HTTP $code" ;;
	*)
		cat "$body" >&2 && echo >&2
		rm -f "$body"
		die "seeding $county: POST /v1/counties/$county/suggestions answered HTTP $code; see .run/logs/gateway.log"
		;;
	esac
	rm -f "$body"
}

COUNTY_LIST=$(county_list "$RENDA_COUNTIES")
while read -r county; do
	seed_county "$county"
done <<<"$COUNTY_LIST"

# ---------------------------------------------------------------- where to point a client

cat <<EOF

Renda local stack is up.
  gateway   $GATEWAY_URL   (OpenAPI: $GATEWAY_URL/openapi.json)
  kafka     $RENDA_KAFKA_BROKERS   (topics renda.<county>.<service>, $TOPIC_PARTITIONS partitions)
  postgres  $RENDA_PG_URL
  logs      .run/logs/<name>.log    stop: make stop

Demo users (token: POST $GATEWAY_URL/v1/dev/tokens):
EOF
while IFS= read -r line; do
	login=$(json_field login <<<"$line")
	[[ -n $login ]] || continue
	uname=$(json_field name <<<"$line")
	role=$(sed -n 's/.*"roles"[[:space:]]*:[[:space:]]*\[\([^]]*\)\].*/\1/p' <<<"$line" | tr -d '" ')
	agency=$(json_field agency_name <<<"$line")
	printf '  %-15s %-7s %s %s\n' "$login" "$role" "$uname" "$agency"
	printf "    curl -s -X POST %s/v1/dev/tokens -H 'content-type: application/json' -d '{\"login\":\"%s\"}'\n" "$GATEWAY_URL" "$login"
done <"$DEMO_USERS"

cat <<EOF

Walk-through (a deputy of 德清县 submits; the county's staff finds it in the inbox):
  GW=$GATEWAY_URL
  token() { curl -s -X POST \$GW/v1/dev/tokens -H 'content-type: application/json' \\
      -d "{\"login\":\"\$1\"}" | sed -n 's/.*"token" *: *"\\([^"]*\\)".*/\\1/p'; }
  DEPUTY=\$(token deputy-330521); STAFF=\$(token staff-330521); OTHER=\$(token staff-330782)
  curl -s -X POST \$GW/v1/counties/330521/suggestions \\
      -H "authorization: Bearer \$DEPUTY" -H "idempotency-key: \$(cat /proc/sys/kernel/random/uuid)" \\
      -H 'content-type: application/json' \\
      -d '{"kind":"suggestion","title":"关于增设乡村公交站点的建议","content":"建议在新市镇各行政村增设公交站点。","category":"交通运输"}'
  curl -s \$GW/v1/counties/330521/inbox -H "authorization: Bearer \$STAFF"                    # the staff's item
  curl -s \$GW/v1/counties/330521/deputies/me/activities -H "authorization: Bearer \$DEPUTY"   # the duty record
  curl -s \$GW/v1/counties/330521/inbox -H "authorization: Bearer \$OTHER"                    # 403: another county
EOF
