{{/*
Helpers shared by every template. Templates range over .Values.services and
call these with a context dict: (dict "root" $ "name" $name "svc" $svc).
*/}}

{{/* Prefix of every object name: fullnameOverride, else the release name. */}}
{{- define "renda.prefix" -}}
{{- $p := default .Release.Name .Values.fullnameOverride | trimSuffix "-" -}}
{{- if gt (len $p) 40 -}}
{{- fail (printf "release name / fullnameOverride %q is longer than 40 characters; object names would not fit 63" $p) -}}
{{- end -}}
{{- $p -}}
{{- end -}}

{{/* Object name of one service: <prefix>-<service>. Context: dict root, name. */}}
{{- define "renda.componentName" -}}
{{- printf "%s-%s" (include "renda.prefix" .root) .name -}}
{{- end -}}

{{/* helm.sh/chart label value. */}}
{{- define "renda.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one service (immutable once deployed). Context: dict root, name. */}}
{{- define "renda.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* All labels of one service's objects. Context: dict root, name. */}}
{{- define "renda.labels" -}}
{{ include "renda.selectorLabels" . }}
app.kubernetes.io/part-of: renda
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "renda.chart" .root }}
{{- end -}}

{{/* Labels of chart-wide objects that belong to no one service. */}}
{{- define "renda.commonLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: renda
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "renda.chart" . }}
{{- end -}}

{{/*
Effective settings of one service: a copy of .Values.defaults with every
top-level key that the service sets replacing the default's (whole value).
Writes into the dict passed as "out", so callers get real values, not YAML text:
  {{- $svc := dict }}{{- include "renda.effective" (dict "root" $ "name" $name "out" $svc) }}
*/}}
{{- define "renda.effective" -}}
{{- $raw := index .root.Values.services .name -}}
{{- range $k, $v := deepCopy .root.Values.defaults -}}
{{- $_ := set $.out $k $v -}}
{{- end -}}
{{- range $k, $v := $raw -}}
{{- $_ := set $.out $k $v -}}
{{- end -}}
{{- if not (hasKey .out "adminPort") -}}
{{- fail (printf "services.%s.adminPort is required" .name) -}}
{{- end -}}
{{- if and (not (hasKey .out "grpcPort")) (not (hasKey .out "httpPort")) -}}
{{- fail (printf "services.%s needs grpcPort (gRPC service) or httpPort (gateway)" .name) -}}
{{- end -}}
{{- end -}}

{{/* true when the service serves gRPC (all but the gateway). Context: the effective svc dict. */}}
{{- define "renda.isGrpc" -}}
{{- if hasKey . "grpcPort" }}true{{ end -}}
{{- end -}}

{{/* Container image of one service. Context: dict root, svc. */}}
{{- define "renda.image" -}}
{{- $g := .root.Values.global.image -}}
{{- $tag := .svc.image.tag | default $g.tag | default .root.Chart.AppVersion -}}
{{- printf "%s%s:%s" ($g.registry | default "") .svc.image.repository (toString $tag) -}}
{{- end -}}

{{/* Comma list of the onboarded counties, each checked to be 6 digits. */}}
{{- define "renda.counties" -}}
{{- $out := list -}}
{{- range $c := required "global.counties must list at least one county" .Values.global.counties -}}
{{- $s := toString $c -}}
{{- if not (regexMatch "^[1-9][0-9]{5}$" $s) -}}
{{- fail (printf "global.counties: %q is not a 6-digit county code (quote it in YAML)" $s) -}}
{{- end -}}
{{- $out = append $out $s -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* Kafka bootstrap servers as one comma list. */}}
{{- define "renda.kafkaBrokers" -}}
{{- $b := required "global.kafka.brokers is required" .Values.global.kafka.brokers -}}
{{- if kindIs "slice" $b -}}
{{- join "," $b -}}
{{- else -}}
{{- toString $b -}}
{{- end -}}
{{- end -}}

{{/* Name of the ConfigMap the chart creates for an inline RS256 public key. */}}
{{- define "renda.jwtConfigMapName" -}}
{{- printf "%s-jwt-public-key" (include "renda.prefix" .) -}}
{{- end -}}

{{/* Checks global.jwt and says which algorithm is in use: "HS256" or "RS256". */}}
{{- define "renda.jwtAlgorithm" -}}
{{- $jwt := .Values.global.jwt -}}
{{- $alg := upper (toString $jwt.algorithm) -}}
{{- if eq $alg "RS256" -}}
{{- $n := 0 -}}
{{- if $jwt.rs256.existingSecret }}{{ $n = add1 $n }}{{ end -}}
{{- if $jwt.rs256.existingConfigMap }}{{ $n = add1 $n }}{{ end -}}
{{- if $jwt.rs256.publicKey }}{{ $n = add1 $n }}{{ end -}}
{{- if ne $n 1 -}}
{{- fail "global.jwt.algorithm RS256 needs exactly one of global.jwt.rs256.existingSecret, existingConfigMap or publicKey" -}}
{{- end -}}
{{- if and $jwt.rs256.publicKey (not (contains "BEGIN PUBLIC KEY" $jwt.rs256.publicKey)) -}}
{{- fail "global.jwt.rs256.publicKey must be a PEM public key (-----BEGIN PUBLIC KEY-----)" -}}
{{- end -}}
RS256
{{- else if eq $alg "HS256" -}}
{{- if not (and $jwt.hs256.secretName $jwt.hs256.key) -}}
{{- fail "global.jwt.algorithm HS256 needs global.jwt.hs256.secretName and key" -}}
{{- end -}}
HS256
{{- else -}}
{{- fail (printf "global.jwt.algorithm must be HS256 or RS256, not %q" $alg) -}}
{{- end -}}
{{- end -}}

{{/* Path of the mounted RS256 public key inside the containers. */}}
{{- define "renda.jwtKeyFile" -}}
{{- printf "%s/public.pem" (trimSuffix "/" .Values.global.jwt.rs256.mountPath) -}}
{{- end -}}

{{/*
Environment of one container, as a YAML list. Computed RENDA_* variables first,
then global.env, then the service's env (later wins on the same name).
A value may be a scalar or a map (e.g. {valueFrom: {secretKeyRef: ...}}).
Context: dict root, name, svc (effective settings).
*/}}
{{- define "renda.env" -}}
{{- $root := .root -}}
{{- $g := $root.Values.global -}}
{{- $svc := .svc -}}
{{- $env := dict -}}
{{- $_ := set $env "RENDA_PG_URL" (dict "valueFrom" (dict "secretKeyRef" (dict "name" (required "global.postgres.secretName is required" $g.postgres.secretName) "key" (required "global.postgres.key is required" $g.postgres.key)))) -}}
{{- $_ := set $env "RENDA_KAFKA_BROKERS" (include "renda.kafkaBrokers" $root) -}}
{{- $_ := set $env "RENDA_COUNTIES" (include "renda.counties" $root) -}}
{{- $cell := toString (required "global.cell is required" $g.cell) -}}
{{- if not (regexMatch "^[A-Za-z0-9_-]+$" $cell) -}}
{{- fail (printf "global.cell %q: use letters, digits, - and _" $cell) -}}
{{- end -}}
{{- $_ := set $env "RENDA_CELL" $cell -}}
{{- $_ := set $env "RENDA_LOG" (toString ($g.log | default "info")) -}}
{{- if $g.otlpEndpoint -}}
{{- $_ := set $env "RENDA_OTLP_ENDPOINT" (toString $g.otlpEndpoint) -}}
{{- end -}}
{{- if eq (include "renda.jwtAlgorithm" $root) "RS256" -}}
{{- $_ := set $env "RENDA_JWT_RS256_PUBLIC_KEY_FILE" (include "renda.jwtKeyFile" $root) -}}
{{- else -}}
{{- $_ := set $env "RENDA_JWT_HS256_SECRET" (dict "valueFrom" (dict "secretKeyRef" (dict "name" $g.jwt.hs256.secretName "key" $g.jwt.hs256.key))) -}}
{{- end -}}
{{- $_ := set $env "RENDA_ADMIN_ADDR" (printf "0.0.0.0:%d" (int $svc.adminPort)) -}}
{{- if include "renda.isGrpc" $svc -}}
{{- $_ := set $env "RENDA_GRPC_ADDR" (printf "0.0.0.0:%d" (int $svc.grpcPort)) -}}
{{- else -}}
{{- $_ := set $env "RENDA_HTTP_ADDR" (printf "0.0.0.0:%d" (int $svc.httpPort)) -}}
{{- /* upstreams: every gRPC service by its Service name, enabled or not (override in env) */ -}}
{{- $upstreams := dict "suggestion" "RENDA_SUGGESTION_URL" "deputy" "RENDA_DEPUTY_URL" "supervision" "RENDA_SUPERVISION_URL" "opinion-ingest" "RENDA_OPINION_URL" "notification" "RENDA_NOTIFICATION_URL" -}}
{{- range $up, $var := $upstreams -}}
{{- $upSvc := index $root.Values.services $up | default (dict) -}}
{{- $port := $upSvc.grpcPort | default 0 | int -}}
{{- if $port -}}
{{- $_ := set $env $var (printf "http://%s:%d" (include "renda.componentName" (dict "root" $root "name" $up)) $port) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $k, $v := $g.env -}}
{{- $_ := set $env $k $v -}}
{{- end -}}
{{- range $k, $v := $svc.env -}}
{{- $_ := set $env $k $v -}}
{{- end -}}
{{- range $k, $v := $env }}
- name: {{ $k }}
{{- if kindIs "map" $v }}
{{ toYaml $v | indent 2 }}
{{- else }}
  value: {{ toString $v | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* One probe's timing fields. Context: a probe settings dict. */}}
{{- define "renda.probeTiming" -}}
periodSeconds: {{ .periodSeconds | int }}
timeoutSeconds: {{ .timeoutSeconds | int }}
failureThreshold: {{ .failureThreshold | int }}
{{- end -}}
