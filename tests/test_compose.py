"""``docker-compose.yml`` is the production topology. No Docker engine runs here, so its
structure is checked: every service, image, healthcheck, dependency and setting it relies on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
OURS = ("migrate", "api", "worker", "activity-worker")
WORKERS = ("worker", "activity-worker")


def test_the_topology_has_every_part() -> None:
    assert set(SERVICES) == {
        "postgresql",
        "temporal",
        "search-attributes",
        "temporal-ui",
        "migrate",
        "api",
        "worker",
        "activity-worker",
    }


def test_official_images_for_the_platform_and_our_image_for_the_service() -> None:
    assert SERVICES["postgresql"]["image"].startswith("postgres:")
    assert SERVICES["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert SERVICES["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert SERVICES["search-attributes"]["image"].startswith("temporalio/admin-tools:")
    for name in OURS:
        assert SERVICES[name]["build"] == "."
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    # Every package the project installs, but the development-only simulator and harness, is in
    # the image (one forgotten, the service fails to import in production only).
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {name.rstrip("*") for name in included} - {"simulator", "harness"}
    assert {"domain", "workflows", "api", "web", "notifications"} <= packages
    for package in sorted(packages):
        assert f"COPY {package} {package}" in dockerfile, package
    assert "worker.py" in dockerfile


def test_temporal_runs_on_postgresql() -> None:
    env = SERVICES["temporal"]["environment"]
    assert env["DB"].startswith("postgres")
    assert env["POSTGRES_SEEDS"] == "postgresql"


def test_long_running_services_have_healthchecks_and_ordered_starts() -> None:
    for name in ("postgresql", "temporal", "temporal-ui", "api", *WORKERS):
        assert "test" in SERVICES[name]["healthcheck"], name
    assert SERVICES["temporal"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    for name in ("api", *WORKERS):
        needs = SERVICES[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["temporal"]["condition"] == "service_healthy"
    for name in WORKERS:
        assert SERVICES[name]["depends_on"]["search-attributes"]["condition"] == (
            "service_completed_successfully"
        )
    for one_shot in ("migrate", "search-attributes"):
        assert SERVICES[one_shot]["restart"] == "no"


def test_the_workers_scale_and_drain() -> None:
    for name in WORKERS:
        assert SERVICES[name]["deploy"]["replicas"] >= 2, name
        assert "ports" not in SERVICES[name], name  # replicas cannot share a host port
        assert SERVICES[name]["stop_grace_period"], name


def test_workflows_and_department_steps_run_in_workers_of_their_own() -> None:
    """The workflow tasks that answer decisions never share a process (and its interpreter
    lock) with the department steps; only the activity worker holds the platform's secret."""
    workflows, activities = (SERVICES[name]["environment"] for name in WORKERS)
    assert workflows["WORKER_RUNS"] == "workflows"
    assert activities["WORKER_RUNS"] == "activities"
    assert workflows["TEMPORAL_TASK_QUEUE"] == activities["TEMPORAL_TASK_QUEUE"]
    assert "PLATFORM_SECRET_FILE" not in workflows
    assert "platform-secret" not in SERVICES["worker"]["secrets"]


def test_the_ui_decodes_through_the_api_with_the_admins_token() -> None:
    env = SERVICES["temporal-ui"]["environment"]
    assert env["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert env["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"  # noqa: S105 - a flag
    assert env["TEMPORAL_AUTH_ENABLED"] == "true"


def test_search_attributes_are_the_ones_the_workflow_sets() -> None:
    from contracts.search import ALL

    command = " ".join(SERVICES["search-attributes"]["command"])
    for key in ALL:
        assert key.name in command, key.name


def test_settings_come_from_the_environment_and_exist() -> None:
    fields = set(Settings.model_fields)
    for name in OURS:
        for variable in SERVICES[name]["environment"]:
            assert variable.lower() in fields, f"{name}: {variable} is no setting"


def test_no_secret_is_committed() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if re.search(r"(PASSWORD|SECRET|KEY)\w*:", line) and not line.strip().startswith("#"):
            value = line.split(":", 1)[1].strip()
            assert value == "" or "${" in value or value.startswith("/run/secrets/"), line
    for secret in COMPOSE["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    assert "secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8")


def test_the_activity_worker_reaches_the_departments_and_no_simulator_runs() -> None:
    env = SERVICES["activity-worker"]["environment"]
    for name in ("DEPARTMENTS_URL", "PLATFORM_APP_ID"):
        assert env[name].startswith(f"${{{name}:?"), name  # required: no development default
    assert env["PLATFORM_SECRET_FILE"] == "/run/secrets/platform-secret"  # noqa: S105 - a path
    assert "platform-secret" in SERVICES["activity-worker"]["secrets"]
    assert "platform-secret" in COMPOSE["secrets"]
    assert not any("simulator" in name for name in SERVICES)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY simulator" not in dockerfile
    settings_fields = Settings.model_fields
    for name in ("DEPARTMENTS_URL", "PLATFORM_APP_ID", "DEPARTMENT_TIMEOUT"):
        assert name.lower() in settings_fields, name
