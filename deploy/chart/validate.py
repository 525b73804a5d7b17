"""Render helm/renda offline with Helm's own engine and validate the output.

Run by deploy/chart/check.sh inside .run/chart-venv; not meant to be run alone.

Steps, each printed as it runs:
  1. helm lint --strict (Kubernetes version pinned) for the default and the CI values;
  2. render every case (release name, namespace, values) with Helm's template engine,
     writing the manifests to <out>/<case>.yaml like `helm template` does;
  3. parse every document (duplicate keys are errors, as in the API server) and validate it
     with kubernetes-validate against the pinned Kubernetes version in strict mode
     (unknown fields and kinds without a schema are errors, not warnings);
  4. check the chart's own contract: one Deployment, Service and ServiceAccount per enabled
     process, ports, probes, security context, environment, labels and selectors;
  5. render cases that must fail (bad values) and check that they do, with the expected message.

Exit status 0 only when every step passed; otherwise every failure is listed.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any, Callable

import helm_python as helm
import kubernetes_validate
import yaml
from kubernetes_validate.version import __version__ as KV_VERSION

GRPC_SERVICES = {
    "suggestion": (50051, 9101),
    "deputy": (50052, 9102),
    "supervision": (50053, 9103),
    "opinion-ingest": (50054, 9104),
    "notification": (50055, 9105),
}
GATEWAY = ("gateway", 8080, 9100)
UPSTREAM_VARS = {
    "suggestion": "RENDA_SUGGESTION_URL",
    "deputy": "RENDA_DEPUTY_URL",
    "supervision": "RENDA_SUPERVISION_URL",
    "opinion-ingest": "RENDA_OPINION_URL",
    "notification": "RENDA_NOTIFICATION_URL",
}
COMMON_ENV = [
    "RENDA_PG_URL",
    "RENDA_KAFKA_BROKERS",
    "RENDA_COUNTIES",
    "RENDA_CELL",
    "RENDA_LOG",
    "RENDA_ADMIN_ADDR",
]
POD_LABELS = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
]
# periodSeconds x failureThreshold of the startup probe must cover migrations.
MIN_STARTUP_SECONDS = 120


class Failures:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.checks = 0

    def check(self, ok: bool, message: str) -> bool:
        self.checks += 1
        if not ok:
            self.items.append(message)
            print(f"  FAIL {message}")
        return ok


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (the API server's strict decoding does)."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def effective(values: dict, name: str) -> dict:
    """A service's settings as the chart computes them: defaults, top-level keys replaced."""
    out = copy.deepcopy(values.get("defaults") or {})
    out.update(copy.deepcopy(values["services"][name]))
    return out


def lint(chart_dir: Path, values: dict | None, label: str, kube_version: str, fails: Failures) -> None:
    report = helm.lint(str(chart_dir), values, strict=True, kube_version=f"v{kube_version}")
    bad = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2]
    for m in bad:
        fails.check(False, f"lint[{label}]: {m.get('path')}: {m.get('error')}")
    for e in report.get("errors") or []:
        fails.check(False, f"lint[{label}]: {e}")
    fails.check(True, "lint")
    infos = len(report.get("messages", [])) - len(bad)
    status = "ok" if not bad and not report.get("errors") else "FAILED"
    print(f"  lint --strict [{label}] {status} ({len(bad)} warnings/errors, {infos} info)")


def render(chart: helm.Chart, values: dict | None, release: str, namespace: str) -> dict[str, str]:
    return chart.render(values, name=release, namespace=namespace, is_install=True)


def write_manifests(manifests: dict[str, str], path: Path) -> tuple[str, str]:
    parts = []
    notes = ""
    for source in sorted(manifests):
        body = manifests[source]
        if source.endswith("NOTES.txt"):
            notes = body
            continue
        if not body.strip():
            continue
        for doc in body.split("\n---"):
            if doc.strip().strip("-").strip():
                parts.append(f"---\n# Source: {source}\n{doc.strip().removeprefix('---').lstrip()}\n")
    text = "".join(parts)
    path.write_text(text)
    path.with_suffix(".NOTES.txt").write_text(notes)
    return text, notes


def env_map(container: dict, where: str, fails: Failures) -> dict[str, dict]:
    env: dict[str, dict] = {}
    for e in container.get("env", []):
        fails.check(e["name"] not in env, f"{where}: env {e['name']} set twice")
        env[e["name"]] = e
    return env


def check_deployment(
    dep: dict,
    objects: dict[tuple[str, str], dict],
    values: dict,
    prefix: str,
    name: str,
    release: str,
    fails: Failures,
) -> None:
    where = f"Deployment/{dep['metadata']['name']}"
    svc = effective(values, name)
    grpc = "grpcPort" in svc
    spec = dep["spec"]
    pod = spec["template"]
    pspec = pod["spec"]
    labels = pod["metadata"].get("labels", {})
    for label in POD_LABELS:
        fails.check(label in labels, f"{where}: pod label {label} missing")
    fails.check(labels.get("app.kubernetes.io/component") == name, f"{where}: component label is not {name}")
    fails.check(labels.get("app.kubernetes.io/instance") == release, f"{where}: instance label is not {release}")
    selector = spec["selector"]["matchLabels"]
    fails.check(
        all(labels.get(k) == v for k, v in selector.items()), f"{where}: selector {selector} does not select its pods"
    )
    fails.check(spec.get("replicas") == svc["replicas"], f"{where}: replicas {spec.get('replicas')} != {svc['replicas']}")
    fails.check(
        pspec.get("terminationGracePeriodSeconds") == svc["terminationGracePeriodSeconds"],
        f"{where}: terminationGracePeriodSeconds != {svc['terminationGracePeriodSeconds']}",
    )
    sa = pspec.get("serviceAccountName")
    fails.check(sa == f"{prefix}-{name}", f"{where}: serviceAccountName {sa!r}")
    fails.check(("ServiceAccount", sa) in objects, f"{where}: ServiceAccount {sa} not rendered")
    psc = pspec.get("securityContext", {})
    fails.check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 10001, f"{where}: pod securityContext")
    fails.check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: pod seccompProfile")

    ann = pod["metadata"].get("annotations", {})
    fails.check(ann.get("prometheus.io/scrape") == "true", f"{where}: prometheus.io/scrape")
    fails.check(ann.get("prometheus.io/port") == str(svc["adminPort"]), f"{where}: prometheus.io/port")
    fails.check(ann.get("prometheus.io/path") == "/metrics", f"{where}: prometheus.io/path")

    containers = pspec["containers"]
    if not fails.check(len(containers) == 1, f"{where}: {len(containers)} containers, want 1"):
        return
    c = containers[0]
    tag = svc["image"].get("tag") or values["global"]["image"].get("tag") or None
    image = c["image"]
    fails.check(f"{svc['image']['repository']}:" in image, f"{where}: image {image} is not {svc['image']['repository']}")
    if tag:
        fails.check(image.endswith(f":{tag}"), f"{where}: image {image} has not tag {tag}")
    fails.check(c.get("command") == [svc["binary"]], f"{where}: command {c.get('command')} != [{svc['binary']}]")

    sc = c.get("securityContext", {})
    fails.check(sc.get("runAsNonRoot") is True, f"{where}: runAsNonRoot")
    fails.check(sc.get("runAsUser") == 10001, f"{where}: runAsUser")
    fails.check(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem")
    fails.check(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation")
    fails.check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: capabilities.drop")
    fails.check(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: seccompProfile")

    res = c.get("resources", {})
    fails.check(res.get("requests") == svc["resources"]["requests"], f"{where}: resources.requests")
    fails.check(res.get("limits") == svc["resources"]["limits"], f"{where}: resources.limits")

    volumes = {v["name"]: v for v in pspec.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    for m in mounts.values():
        fails.check(m["name"] in volumes, f"{where}: volumeMount {m['name']} has no volume")
    tmp = mounts.get("/tmp")
    fails.check(
        tmp is not None and "emptyDir" in volumes.get(tmp["name"], {}), f"{where}: /tmp is not an emptyDir mount"
    )

    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    fails.check(ports.get("admin") == svc["adminPort"], f"{where}: admin port {ports.get('admin')}")
    env = env_map(c, where, fails)
    for var in COMMON_ENV:
        fails.check(var in env, f"{where}: env {var} missing")
    fails.check(
        env.get("RENDA_ADMIN_ADDR", {}).get("value") == f"0.0.0.0:{svc['adminPort']}", f"{where}: RENDA_ADMIN_ADDR"
    )
    g = values["global"]
    pg = env.get("RENDA_PG_URL", {}).get("valueFrom", {}).get("secretKeyRef", {})
    fails.check(
        pg == {"name": g["postgres"]["secretName"], "key": g["postgres"]["key"]},
        f"{where}: RENDA_PG_URL is not from Secret {g['postgres']['secretName']}/{g['postgres']['key']}",
    )
    if "RENDA_COUNTIES" not in (svc.get("env") or {}) and "RENDA_COUNTIES" not in (g.get("env") or {}):
        fails.check(
            env.get("RENDA_COUNTIES", {}).get("value") == ",".join(g["counties"]), f"{where}: RENDA_COUNTIES"
        )
    if g.get("otlpEndpoint"):
        fails.check(env.get("RENDA_OTLP_ENDPOINT", {}).get("value") == g["otlpEndpoint"], f"{where}: RENDA_OTLP_ENDPOINT")
    else:
        fails.check("RENDA_OTLP_ENDPOINT" not in env, f"{where}: RENDA_OTLP_ENDPOINT set though otlpEndpoint is empty")
    for k in list((g.get("env") or {})) + list((svc.get("env") or {})):
        fails.check(k in env, f"{where}: extra env {k} missing")

    # exactly one way to verify JWTs
    has_rs = "RENDA_JWT_RS256_PUBLIC_KEY_FILE" in env
    has_hs = "RENDA_JWT_HS256_SECRET" in env
    fails.check(has_rs != has_hs, f"{where}: want exactly one of RENDA_JWT_RS256_PUBLIC_KEY_FILE / RENDA_JWT_HS256_SECRET")
    if g["jwt"]["algorithm"] == "RS256":
        path = env.get("RENDA_JWT_RS256_PUBLIC_KEY_FILE", {}).get("value", "")
        mount_dir, _, file = path.rpartition("/")
        m = mounts.get(mount_dir)
        if fails.check(m is not None and m.get("readOnly") is True, f"{where}: {path} is not on a read-only mount"):
            vol = volumes.get(m["name"], {})
            src = vol.get("secret") or vol.get("configMap") or {}
            items = {i["path"]: i["key"] for i in src.get("items", [])}
            fails.check(items.get(file) == g["jwt"]["rs256"]["key"], f"{where}: {file} is not key {g['jwt']['rs256']['key']}")
            if "configMap" in vol and g["jwt"]["rs256"].get("publicKey"):
                cm = objects.get(("ConfigMap", vol["configMap"]["name"]))
                if fails.check(cm is not None, f"{where}: ConfigMap {vol['configMap']['name']} not rendered"):
                    fails.check(g["jwt"]["rs256"]["key"] in cm.get("data", {}), f"{where}: key missing in ConfigMap")
                    fails.check("BEGIN PUBLIC KEY" in cm["data"].get(g["jwt"]["rs256"]["key"], ""), "PEM in ConfigMap")
            if "secret" in vol:
                fails.check(vol["secret"]["secretName"] == g["jwt"]["rs256"]["existingSecret"], f"{where}: key Secret")
    else:
        ref = env.get("RENDA_JWT_HS256_SECRET", {}).get("valueFrom", {}).get("secretKeyRef", {})
        fails.check(
            ref == {"name": g["jwt"]["hs256"]["secretName"], "key": g["jwt"]["hs256"]["key"]},
            f"{where}: RENDA_JWT_HS256_SECRET is not from its Secret",
        )

    startup = c.get("startupProbe", {})
    fails.check(
        startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3) >= MIN_STARTUP_SECONDS,
        f"{where}: startupProbe allows less than {MIN_STARTUP_SECONDS}s for migrations",
    )
    probes = {k: c.get(k) for k in ("startupProbe", "readinessProbe", "livenessProbe")}
    if grpc:
        fails.check(ports.get("grpc") == svc["grpcPort"], f"{where}: grpc containerPort {ports.get('grpc')}")
        fails.check(
            env.get("RENDA_GRPC_ADDR", {}).get("value") == f"0.0.0.0:{svc['grpcPort']}", f"{where}: RENDA_GRPC_ADDR"
        )
        fails.check("RENDA_HTTP_ADDR" not in env, f"{where}: RENDA_HTTP_ADDR on a gRPC service")
        for k, p in probes.items():
            fails.check(
                p is not None and p.get("grpc", {}).get("port") == svc["grpcPort"], f"{where}: {k} is not gRPC on {svc['grpcPort']}"
            )
            want_service = svc["probes"][k.removesuffix("Probe")].get("grpcService") or ""
            fails.check(
                (p or {}).get("grpc", {}).get("service", "") == want_service,
                f"{where}: {k} asks for gRPC health service {(p or {}).get('grpc', {}).get('service')!r}, want {want_service!r}",
            )
    else:
        fails.check(ports.get("http") == svc["httpPort"], f"{where}: http containerPort {ports.get('http')}")
        fails.check(
            env.get("RENDA_HTTP_ADDR", {}).get("value") == f"0.0.0.0:{svc['httpPort']}", f"{where}: RENDA_HTTP_ADDR"
        )
        fails.check("RENDA_GRPC_ADDR" not in env, f"{where}: RENDA_GRPC_ADDR on the gateway")
        for k, p in probes.items():
            get = (p or {}).get("httpGet", {})
            fails.check(
                get.get("path") == "/healthz" and get.get("port") in ("admin", svc["adminPort"]),
                f"{where}: {k} is not GET /healthz on the admin port",
            )
        for up, var in UPSTREAM_VARS.items():
            url = env.get(var, {}).get("value")
            want = f"http://{prefix}-{up}:{GRPC_SERVICES[up][0]}"
            if var in (svc.get("env") or {}) or var in (g.get("env") or {}):
                continue
            fails.check(url == want, f"{where}: {var} is {url!r}, want {want!r}")
            if values["services"].get(up, {}).get("enabled"):
                s = objects.get(("Service", f"{prefix}-{up}"))
                if fails.check(s is not None, f"{where}: {var} names Service {prefix}-{up}, not rendered"):
                    sports = {p["port"] for p in s["spec"]["ports"]}
                    fails.check(GRPC_SERVICES[up][0] in sports, f"{where}: Service {prefix}-{up} lacks port of {var}")


def check_service(svc_obj: dict, dep: dict | None, where: str, fails: Failures) -> None:
    if not fails.check(dep is not None, f"{where}: no Deployment of the same name"):
        return
    labels = dep["spec"]["template"]["metadata"].get("labels", {})
    sel = svc_obj["spec"].get("selector", {})
    fails.check(sel and all(labels.get(k) == v for k, v in sel.items()), f"{where}: selector does not match its pods")
    cports = {p["name"] for p in dep["spec"]["template"]["spec"]["containers"][0].get("ports", [])}
    for p in svc_obj["spec"]["ports"]:
        fails.check(p.get("targetPort") in cports, f"{where}: targetPort {p.get('targetPort')} is no container port")


def check_case(
    chart: helm.Chart,
    label: str,
    values_override: dict | None,
    release: str,
    namespace: str,
    out: Path,
    kube_version: str,
    fails: Failures,
) -> int:
    print(f"render [{label}] release={release} namespace={namespace}")
    values = chart.merge_values(values_override)
    try:
        manifests = render(chart, values_override, release, namespace)
    except helm.HelmError as e:
        fails.check(False, f"render[{label}]: {e}")
        return 0
    text, notes = write_manifests(manifests, out / f"{label}.yaml")
    fails.check(bool(notes.strip()), f"render[{label}]: NOTES.txt rendered empty")
    try:
        docs = [d for d in yaml.load_all(text, Loader=UniqueKeyLoader) if d]
    except yaml.YAMLError as e:
        fails.check(False, f"render[{label}]: output is not valid YAML: {e}")
        return 0
    print(f"  rendered {len(docs)} documents -> {out / (label + '.yaml')}")

    objects: dict[tuple[str, str], dict] = {}
    kinds: dict[str, int] = {}
    valid = 0
    for d in docs:
        if not fails.check(isinstance(d, dict) and "apiVersion" in d and "kind" in d, f"render[{label}]: not an object: {str(d)[:80]}"):
            continue
        key = (d["kind"], d.get("metadata", {}).get("name", ""))
        fails.check(key not in objects, f"render[{label}]: {key[0]}/{key[1]} rendered twice")
        objects[key] = d
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
        fails.check(d["metadata"].get("namespace") == namespace, f"render[{label}]: {key[0]}/{key[1]} not in {namespace}")
        try:
            kubernetes_validate.validate(d, kube_version, strict=True)
            valid += 1
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            fails.check(False, f"k8s-schema[{label}] {key[0]}/{key[1]}: {path}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            fails.check(False, f"k8s-schema[{label}] {key[0]}/{key[1]}: {e.message}")
        except Exception as e:  # noqa: BLE001 - any other validator error is a failure too
            fails.check(False, f"k8s-schema[{label}] {key[0]}/{key[1]}: {type(e).__name__}: {e}")
    fails.checks += 0
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    print(f"  kubernetes {kube_version} strict schema: {valid}/{len(docs)} valid ({summary})")

    # the chart's own contract
    before = len(fails.items)
    prefix = values.get("fullnameOverride") or release
    enabled = sorted(n for n, s in values["services"].items() if s.get("enabled"))
    for kind in ("Deployment", "Service", "ServiceAccount"):
        got = sorted(n for (k, n) in objects if k == kind)
        want = sorted(f"{prefix}-{n}" for n in enabled)
        fails.check(got == want, f"render[{label}]: {kind}s {got}, want {want}")
    for n in enabled:
        dep = objects.get(("Deployment", f"{prefix}-{n}"))
        if dep is not None:
            check_deployment(dep, objects, values, prefix, n, release, fails)
        s = objects.get(("Service", f"{prefix}-{n}"))
        if s is not None:
            check_service(s, dep, f"Service/{prefix}-{n}", fails)
    for (k, n), obj in objects.items():
        if k == "PodDisruptionBudget":
            dep = objects.get(("Deployment", n))
            if fails.check(dep is not None, f"PodDisruptionBudget/{n}: no Deployment of the same name"):
                labels = dep["spec"]["template"]["metadata"]["labels"]
                sel = obj["spec"]["selector"]["matchLabels"]
                fails.check(all(labels.get(a) == b for a, b in sel.items()), f"PodDisruptionBudget/{n}: selector")
        if k == "Ingress":
            for rule in obj["spec"]["rules"]:
                for p in rule["http"]["paths"]:
                    name = p["backend"]["service"]["name"]
                    fails.check(("Service", name) in objects, f"Ingress/{n}: backend Service {name} not rendered")
    status = "ok" if len(fails.items) == before else f"{len(fails.items) - before} FAILED"
    print(f"  chart contract ({', '.join(enabled)}): {status}")
    return len(docs)


def expect_failure(
    chart: helm.Chart, label: str, values: dict, needle: str, fails: Failures
) -> None:
    try:
        render(chart, values, "renda", "renda")
    except helm.HelmError as e:
        ok = needle in str(e)
        fails.check(ok, f"must-fail[{label}]: failed, but without {needle!r}: {e}")
        print(f"  must fail [{label}]: {'ok' if ok else 'FAILED'} ({str(e).strip().splitlines()[-1][:110]})")
        return
    fails.check(False, f"must-fail[{label}]: rendered without error")
    print(f"  must fail [{label}]: FAILED (rendered without error)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chart", required=True, type=Path)
    ap.add_argument("--ci-values", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--kube-version", required=True)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    fails = Failures()

    print(
        f"helm engine: Helm {helm.helm_sdk_version()} Go SDK via libhelm_c {helm.helm_c_version()} "
        f"(helm-python-sdk); schemas: kubernetes-validate {KV_VERSION}, Kubernetes {args.kube_version}, strict"
    )
    ci_values = helm.values_from_yaml(args.ci_values.read_text())

    lint(args.chart, None, "default values", args.kube_version, fails)
    lint(args.chart, ci_values, args.ci_values.name, args.kube_version, fails)

    variant = deep_merge(
        ci_values,
        {
            "fullnameOverride": "",
            "global": {"jwt": {"rs256": {"publicKey": "", "existingSecret": "renda-jwt-public-key", "key": "tls.pub"}}},
            "services": {
                "notification": {"enabled": False},
                "gateway": {"ingress": {"tls": {"enabled": False}}, "env": {"RENDA_DEPUTY_URL": "http://deputy.other:50052"}},
            },
        },
    )
    docs = 0
    with helm.Chart.load(str(args.chart)) as chart:
        print(f"chart {chart.name} {chart.version} ({args.chart})")
        docs += check_case(chart, "default", None, "renda", "renda", args.out, args.kube_version, fails)
        docs += check_case(chart, "ci", ci_values, "renda", "renda-ci", args.out, args.kube_version, fails)
        docs += check_case(
            chart, "ci-rs256-secret-no-notification", variant, "prod-a", "renda-prod", args.out, args.kube_version, fails
        )

        print("values that must be refused")
        expect_failure(chart, "county not 6 digits", {"global": {"counties": ["33052"]}}, "counties", fails)
        expect_failure(chart, "county unquoted", {"global": {"counties": [330521]}}, "counties", fails)
        expect_failure(chart, "unknown top-level key", {"service": {}}, "service", fails)
        expect_failure(chart, "jwt algorithm", {"global": {"jwt": {"algorithm": "none"}}}, "algorithm", fails)
        expect_failure(chart, "RS256 without key", {"global": {"jwt": {"algorithm": "RS256"}}}, "exactly one of", fails)
        expect_failure(
            chart,
            "RS256 with two keys",
            {"global": {"jwt": {"algorithm": "RS256", "rs256": {"existingSecret": "a", "existingConfigMap": "b"}}}},
            "exactly one of",
            fails,
        )
        expect_failure(chart, "bad cell", {"global": {"cell": "a.b"}}, "cell", fails)
        expect_failure(chart, "no postgres secret", {"global": {"postgres": {"secretName": ""}}}, "secretName", fails)
        expect_failure(
            chart, "service with both ports", {"services": {"deputy": {"httpPort": 8081}}}, "deputy", fails
        )

    print()
    if fails.items:
        print(f"chart check FAILED: {len(fails.items)} of {fails.checks} checks failed:")
        for f in fails.items:
            print(f"  - {f}")
        return 1
    print(
        f"chart check passed: {docs} documents in 3 renders valid against Kubernetes {args.kube_version} (strict), "
        f"{fails.checks} checks, output in {args.out}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
