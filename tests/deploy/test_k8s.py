"""deploy/k8s validated offline: kubernetes-validate (the Kubernetes OpenAPI schemas, strict)
for core kinds, a JSON Schema of KEDA's CRDs for the ScaledObject, and cross-references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.deploy.tools import DEPLOY

K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30"
KEDA = Draft202012Validator(
    json.loads((Path(__file__).parent / "keda-v1alpha1.schema.json").read_text())
)
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _all() -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for p in MANIFESTS for d in _documents(p)}


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_manifest_is_valid(path: Path) -> None:
    for document in _documents(path):
        if document["apiVersion"].startswith("keda.sh/"):
            KEDA.validate(document)
        else:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_validators_refuse_broken_manifests() -> None:
    deployment = _all()[("Deployment", "vane-worker")]
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    scaled = json.loads(json.dumps(_all()[("ScaledObject", "vane-worker")]))
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 5000  # must be a string
    assert not KEDA.is_valid(scaled)


def test_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in MANIFESTS} - {"secret.example.yaml"}


def test_worker_probes_limits_and_references() -> None:
    objects = _all()
    pod = objects[("Deployment", "vane-worker")]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    config = objects[("ConfigMap", "vane-config")]
    assert container["envFrom"][0]["configMapRef"]["name"] == "vane-config"
    secret = objects[("Secret", "vane-secrets")]["stringData"]
    for env in container["env"]:
        ref = env["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"] in secret) == ("vane-secrets", True)
    assert all(
        name.startswith(("VANE_", "KAFKA_BOOTSTRAP", "REDIS_URL")) for name in config["data"]
    )
    # The default bind is loopback: probes and scrapes come from outside the pod.
    assert config["data"]["VANE_WEB_HOST"] == "0.0.0.0"
    port = container["ports"][0]
    service = objects[("Service", "vane-worker")]["spec"]
    assert service["ports"][0]["targetPort"] == port["name"]
    assert service["selector"] == pod_labels(objects)


def pod_labels(objects: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    return dict(objects[("Deployment", "vane-worker")]["spec"]["template"]["metadata"]["labels"])


def test_scaled_object_matches_the_deployment_and_the_group() -> None:
    objects = _all()
    scaled = objects[("ScaledObject", "vane-worker")]["spec"]
    config = objects[("ConfigMap", "vane-config")]["data"]
    assert scaled["scaleTargetRef"]["name"] == "vane-worker"
    trigger = scaled["triggers"][0]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == config["VANE_APP_ID"]
    assert trigger["metadata"]["bootstrapServers"] == config["KAFKA_BOOTSTRAP"]
    # Faust gives partition N of every input topic to one worker: more is idle.
    assert scaled["maxReplicaCount"] <= int(config["VANE_TOPIC_PARTITIONS"])
    auth = trigger["authenticationRef"]["name"]
    assert ("TriggerAuthentication", auth) in objects
