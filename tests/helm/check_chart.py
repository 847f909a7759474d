"""Renders helm/op-sequencer with the real Helm SDK (PyPI helm-python-sdk, offline) for every
values file, lints it, validates every manifest against the Kubernetes schemas
(PyPI kubernetes-validate) and checks what the chart must do: five components, StatefulSets with
volumes for the components that own sled data, probes on the health routes, env names that are
the CLI's own (deploy/env/*.env.example), a ServiceMonitor where enabled, secrets where given.

Run with the peers' venv: python tests/helm/check_chart.py <repo root>. Exit 1 on any failure.
"""
import re, sys, pathlib

import yaml
import helm_python as helm
import kubernetes_validate

K8S = "1.30.0"
ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
CHART = ROOT / "helm" / "op-sequencer"
COMPONENTS = ["state-fetcher", "txpool", "signer", "publisher", "builder"]
failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL {msg}")


def cli_env(component):
    """The env names the CLI reads for a component: its deploy/env example (kept identical to the
    CLI by services/op-sequencer/tests/env_examples.rs), commented-out lines included."""
    text = (ROOT / "deploy" / "env" / f"{component}.env.example").read_text()
    return set(re.findall(r"^#?\s*(OPSEQ_[A-Z0-9_]+)=", text, re.M))


def render(values_files, release="opseq"):
    vals = {}
    for f in values_files:
        merge(vals, yaml.safe_load((CHART / f).read_text()) or {})
    with helm.Chart.load(str(CHART)) as chart:
        out = chart.render(vals, name=release, namespace="devnet")
    docs = []
    for path in sorted(out):
        if path.endswith("NOTES.txt") or not out[path].strip():
            continue
        docs.extend(d for d in yaml.safe_load_all(out[path]) if d)
    return vals, docs


def merge(a, b):
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            merge(a[k], v)
        else:
            a[k] = v


def check(values_files):
    label = " + ".join(values_files)
    before = len(failures)
    lint = helm.lint(str(CHART), values=None, strict=True, namespace="devnet")
    bad = [m for m in lint.get("messages", []) if (m.get("severity") or 0) >= 2] + list(lint.get("errors") or [])
    if bad:
        fail(f"{label}: helm lint: {bad}")
    vals, docs = render(values_files)
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
        try:
            kubernetes_validate.validate(d, K8S, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            # CRDs (ServiceMonitor) have no bundled schema; their fields are checked below.
            if d["kind"] != "ServiceMonitor":
                fail(f"{label}: no schema for {d['kind']}")
        except kubernetes_validate.ValidationError as e:
            fail(f"{label}: {d['kind']}/{d['metadata']['name']}: {e.message}")
    workloads = {w["metadata"]["labels"]["app.kubernetes.io/component"]: w
                 for w in by_kind.get("StatefulSet", []) + by_kind.get("Deployment", [])}
    # Builder groups: one builder workload and Service per group, builder-<name>.
    groups = vals["components"]["builder"].get("groups") or []
    expected = [c for c in COMPONENTS if c != "builder"] + (
        [f"builder-{g['name']}" for g in groups] if groups else ["builder"])
    if sorted(workloads) != sorted(expected):
        fail(f"{label}: workloads {sorted(workloads)}")
    services = {s["metadata"]["labels"]["app.kubernetes.io/component"] for s in by_kind.get("Service", [])}
    if services != set(expected):
        fail(f"{label}: services {services}")
    for name, w in workloads.items():
        spec = w["spec"]["template"]["spec"]
        c = spec["containers"][0]
        command = "builder" if name.startswith("builder") else name
        if c["args"] != [command]:
            fail(f"{label}: {name} runs {c['args']}")
        # Sled owners and the builder (its persisted sequencing mode) keep their data on a
        # PersistentVolumeClaim.
        if command in ("state-fetcher", "txpool", "builder"):
            if w["kind"] != "StatefulSet" or not w["spec"].get("volumeClaimTemplates"):
                fail(f"{label}: {name} has no persistent volume")
        probes = {p: c.get(p, {}).get("httpGet", {}).get("path") for p in ("startupProbe", "readinessProbe", "livenessProbe")}
        if probes != {"startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}:
            fail(f"{label}: {name} probes {probes}")
        if not c.get("resources", {}).get("requests"):
            fail(f"{label}: {name} has no resource requests")
        env = {e["name"]: e.get("value") for e in c["env"]}
        unknown = set(env) - cli_env(command)
        if unknown:
            fail(f"{label}: {name} sets env the CLI does not read: {sorted(unknown)}")
        # Peers point at the other components' Services on their gRPC ports.
        for var, peer in [("OPSEQ_STATE_ADDR", "state-fetcher"), ("OPSEQ_PUBLISHER_ADDR", "publisher")]:
            port = vals["components"]["stateFetcher" if peer == "state-fetcher" else peer]["grpcPort"]
            if env.get(var) != f"http://opseq-op-sequencer-{peer}:{port}":
                fail(f"{label}: {name} {var}={env.get(var)}")
        mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
        if command == "builder" and vals["jwt"]["existingSecret"]:
            if env.get("OPSEQ_RPC_JWT_SECRET") != "/secrets/jwt/jwt.hex" or "/secrets/jwt" not in mounts:
                fail(f"{label}: the builder does not read the JWT secret")
        # Each group builds its chains and follows every other group's builder Service.
        if command == "builder" and groups:
            g = next(g for g in groups if name == f"builder-{g['name']}")
            port = vals["components"]["builder"]["grpcPort"]
            peers = ",".join(f"http://opseq-op-sequencer-builder-{o['name']}:{port}" for o in groups if o is not g)
            want = {"OPSEQ_BUILDER_CHAINS": ",".join(str(x) for x in g["chains"]), "OPSEQ_BUILDER_PEERS": peers}
            got = {k: env.get(k) for k in want}
            if got != want:
                fail(f"{label}: {name} {got}, want {want}")
        elif "OPSEQ_BUILDER_CHAINS" in env or "OPSEQ_BUILDER_PEERS" in env:
            fail(f"{label}: {name} builds a subset without groups")
        fork = vals["chains"]["fork"]["url"]
        if (env.get("OPSEQ_FORK_URL") != fork) if fork else ("OPSEQ_FORK_URL" in env):
            fail(f"{label}: {name} OPSEQ_FORK_URL={env.get('OPSEQ_FORK_URL')}, values say {fork}")
        # A devnet config: every component reads the same file from the devnet ConfigMap.
        devnet = vals["chains"].get("devnetConfig")
        if devnet and (env.get("OPSEQ_DEVNET_CONFIG") != "/devnet/devnet.yaml" or "/devnet" not in mounts):
            fail(f"{label}: {name} does not read the devnet config")
        if not devnet and "OPSEQ_DEVNET_CONFIG" in env:
            fail(f"{label}: {name} reads a devnet config the values do not give")
        if env.get("OPSEQ_L2_HARDFORK") != vals["chains"]["l2Hardfork"]:
            fail(f"{label}: {name} OPSEQ_L2_HARDFORK={env.get('OPSEQ_L2_HARDFORK')}")
        # The publisher's op-node targets, `<chainId>=<url>` each.
        targets = vals["components"]["publisher"].get("opNode") or {}
        want = ",".join(f"{k}={v}" for k, v in sorted(targets.items())) or None
        if name == "publisher" and env.get("OPSEQ_PUBLISH_OP_NODE") != want:
            fail(f"{label}: publisher OPSEQ_PUBLISH_OP_NODE={env.get('OPSEQ_PUBLISH_OP_NODE')}, want {want}")
        if name != "publisher" and "OPSEQ_PUBLISH_OP_NODE" in env:
            fail(f"{label}: {name} publishes into op-node")
        if name == "signer" and vals["signerKey"]["existingSecret"]:
            if "/secrets/signer" not in mounts or "OPSEQ_SIGNER_KEY_FILE" not in env:
                fail(f"{label}: the signer does not read its key")
    if vals["chains"].get("devnetConfig"):
        maps = {m["metadata"]["name"]: m["data"] for m in by_kind.get("ConfigMap", [])}
        data = maps.get("opseq-op-sequencer-devnet", {})
        want = {"devnet.yaml", *(vals["chains"].get("devnetFiles") or {})}
        if set(data) != want or yaml.safe_load(data["devnet.yaml"]) != yaml.safe_load(vals["chains"]["devnetConfig"]):
            fail(f"{label}: the devnet ConfigMap holds {sorted(data)}, want {sorted(want)}")
    monitors = by_kind.get("ServiceMonitor", [])
    if vals["serviceMonitor"]["enabled"]:
        ok = len(monitors) == 1 and monitors[0]["spec"]["endpoints"][0]["path"] == "/metrics" \
            and monitors[0]["spec"]["endpoints"][0]["port"] == "http"
        if not ok:
            fail(f"{label}: ServiceMonitor {monitors}")
    elif monitors:
        fail(f"{label}: a ServiceMonitor although disabled")
    if len(failures) == before:
        print(f"ok   {label}: {len(docs)} manifests rendered, linted and validated against Kubernetes {K8S}")


for files in (
    ["values.yaml"],
    ["values.yaml", "values-devnet.yaml"],
    ["values.yaml", "values-production.yaml"],
    ["values.yaml", "values-fork.yaml"],
    ["values.yaml", "values-interop.yaml"],
    ["values.yaml", "values-op-stack.yaml"],
):
    check(files)

print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
