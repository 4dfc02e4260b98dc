"""The Kubernetes manifests in deploy/kubernetes hold the invariants that matter, checked against the code itself.

Probes point at routes the app really serves, on the port the container listens on; the pod runs as the image's
non-root user on a read-only root without capabilities; no secret is written in a manifest, and every secret the
gateway's configuration reads comes from a Secret; the ConfigMap's file is a valid configuration for several
replicas (PostgreSQL, not SQLite); the objects select the same pods; the grace period outlasts the drain.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from clearance.config import GatewayConfig, parse_config
from clearance.secretref import SecretRef
from tests.deploy.invariants import CONFIG_PATH, SECRET_NAME, get_routes, looks_secret

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
DRAIN_DEADLINE = 25.0
"""``server.drain.deadline``'s default, used while the configuration has no such section: seconds after SIGTERM by
which what is in flight has finished or been cut (``server.drain.grace`` is part of it)."""
FLUSH_ALLOWANCE = 10.0
"""Seconds the pod needs past the drain's deadline: to flush the audit queue and exit before Kubernetes kills it."""

Manifest = dict[str, Any]


def manifests() -> list[Manifest]:
    docs: list[Manifest] = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None)
    return docs


def one(kind: str) -> Manifest:
    found = [m for m in manifests() if m["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = one("Deployment")["spec"]["template"]["spec"]
    return spec


def gateway_container() -> dict[str, Any]:
    containers = pod_spec()["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def configured() -> GatewayConfig:
    text = one("ConfigMap")["data"]["clearance.yaml"]
    return parse_config(yaml.safe_load(text), source="deploy/kubernetes/configmap.yaml")


def secret_refs(value: object) -> Iterator[SecretRef]:
    """Every SecretRef in a parsed configuration."""
    if isinstance(value, SecretRef):
        yield value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secret_refs(getattr(value, name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from secret_refs(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from secret_refs(item)


def test_the_probes_ask_real_routes_of_the_app_on_the_container_port(tmp_path: Path) -> None:
    routes = get_routes(tmp_path)
    container = gateway_container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    probes = {kind: container[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    for kind, probe in probes.items():
        assert probe["path"] in routes, f"{kind} asks {probe['path']}, which the app does not serve"
        assert ports.get(probe["port"], probe["port"]) == 8080, kind
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    # the container listens where the ports say: the command line's --port, and the file's server.port
    args = container["args"]
    assert args[args.index("--port") + 1] == "8080"
    assert configured().server.port == 8080


def test_the_route_check_would_catch_a_probe_at_a_path_the_app_does_not_serve(tmp_path: Path) -> None:
    routes = get_routes(tmp_path)
    assert {"/healthz", "/readyz", "/metrics"} <= routes
    assert "/livez" not in routes  # served only by the catch-all 404, which is not a route of its own


def test_the_pod_runs_as_the_images_non_root_user_on_a_read_only_root() -> None:
    pod, container = pod_spec(), gateway_container()
    security = container["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    uid = pod["securityContext"]["runAsUser"]
    assert uid != 0
    assert f"USER {uid}:{uid}" in (ROOT / "Containerfile").read_text()
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security.get("privileged", False) is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert "add" not in security["capabilities"]
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False


def test_only_tmp_the_data_directory_and_the_configuration_are_mounted() -> None:
    pod, container = pod_spec(), gateway_container()
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert set(mounts) == {"/tmp", "/var/lib/clearance", str(Path(CONFIG_PATH).parent)}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    config_mount = mounts[str(Path(CONFIG_PATH).parent)]
    assert config_mount["readOnly"] is True
    source = volumes[config_mount["name"]]["configMap"]
    assert source["name"] == one("ConfigMap")["metadata"]["name"]
    assert [item["path"] for item in source["items"]] == [Path(CONFIG_PATH).name]
    args = container["args"]
    assert args[args.index("--config") + 1] == CONFIG_PATH


def test_no_secret_is_written_in_a_manifest() -> None:
    for manifest in manifests():
        if manifest["kind"] == "Secret":
            assert not manifest.get("data") and not manifest.get("stringData"), manifest["metadata"]["name"]
    for entry in gateway_container().get("env", []):
        if "value" in entry:
            assert not SECRET_NAME.search(entry["name"]), f"{entry['name']} is written in the manifest"
            assert not looks_secret(entry["name"], str(entry["value"])), entry["name"]
        else:
            assert "secretKeyRef" in entry["valueFrom"] or "configMapKeyRef" in entry["valueFrom"]
    assert "password" not in (configured().database.url.split("@")[0])


def test_the_secret_check_recognises_a_credential_value() -> None:
    assert looks_secret("AWS_ID", "AKIAZ7QW3ERTY5UIOP2L")
    assert looks_secret("GH", "ghp_R4nd0mT0k3nV4lu3abcdefghijklmnop12")
    assert not looks_secret("LOG_FORMAT", "json")


def test_every_secret_the_configuration_reads_comes_from_a_secret() -> None:
    wanted = {ref.env for ref in secret_refs(configured()) if ref.env is not None}
    assert wanted, "the ConfigMap's file names no secret: the check would check nothing"
    from_secrets = {
        entry["name"] for entry in gateway_container()["env"] if "secretKeyRef" in entry.get("valueFrom", {})
    }
    assert wanted <= from_secrets, f"{sorted(wanted - from_secrets)} not filled from a Secret"
    assert "PGPASSWORD" in from_secrets  # the database URL carries no password: libpq reads it from here


def test_the_secret_check_finds_a_secret_written_in_the_configuration() -> None:
    config = parse_config(
        {
            "upstreams": [{"name": "u", "base_url": "http://127.0.0.1:1/v1", "credentials": {"env": "UP_KEY"}}],
            "masking": {"hash_key": {"file": "/run/secrets/hash"}},
        }
    )
    assert [ref.env for ref in secret_refs(config)] == ["UP_KEY", None]


def test_the_configuration_is_valid_and_shares_postgresql_between_replicas() -> None:
    config = configured()
    assert one("Deployment")["spec"]["replicas"] >= 2
    assert config.database.url.startswith("postgresql")
    assert config.server.host == "0.0.0.0"
    assert config.upstreams


def test_the_objects_select_the_same_pods_and_the_autoscaler_scales_the_deployment() -> None:
    deployment = one("Deployment")
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert labels.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert one("Service")["spec"]["selector"] == labels
    assert one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == labels
    assert one("Service")["spec"]["ports"][0]["targetPort"] in ("http", 8080)
    hpa = one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        deployment["metadata"]["name"],
    )
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = one("PodDisruptionBudget")["spec"]
    assert 0 < pdb["minAvailable"] < hpa["spec"]["minReplicas"]


def test_the_container_has_requests_and_limits() -> None:
    resources = gateway_container()["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), kind


def test_the_grace_period_outlasts_the_drain() -> None:
    drain = getattr(configured().server, "drain", None)
    deadline = float(getattr(drain, "deadline", DRAIN_DEADLINE))
    assert pod_spec()["terminationGracePeriodSeconds"] >= deadline + FLUSH_ALLOWANCE
    # a preStop hook would delay SIGTERM, and so the drain, by its own length
    assert "lifecycle" not in gateway_container()


@pytest.mark.parametrize("path", sorted(MANIFESTS.glob("*.yaml")), ids=lambda p: p.name)
def test_the_kustomization_lists_every_manifest(path: Path) -> None:
    listed = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    assert path.name == "kustomization.yaml" or path.name in listed
