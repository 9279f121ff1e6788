"""Settings from the environment (and an optional ``.env`` file), validated at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.platform import Endpoint
from contracts.platform import DEV_APP_ID, DEV_SECRET, System
from db.session import DEFAULT_DATABASE_URL

# Only for development and tests: production must set CASE_ID_KEY (see README).
DEV_CASE_ID_KEY = "dev-only-case-id-key-change-me"
DEV_ISSUER = "https://idp.dev.retirement.local"
DEV_PAYLOAD_KEYS = Path("var") / "dev-keys" / "payload-keys.json"

# What one worker process runs (worker.build_worker).
WorkerRuns = Literal["everything", "workflows", "activities"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    temporal_address: str = Field(default="127.0.0.1:7233", description="host:port of Temporal")
    temporal_namespace: str = "default"
    temporal_task_queue: str = "retirement-cases"
    temporal_tls_cert: Path | None = Field(default=None, description="client certificate (mTLS)")
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = Field(default=None, description="server CA, if not public")
    temporal_api_key: SecretStr | None = Field(default=None, description="Temporal Cloud key")
    temporal_search_attributes: bool = Field(
        default=True, description="keep the custom search attributes current on cases"
    )
    database_url: str = DEFAULT_DATABASE_URL
    case_id_key: SecretStr = Field(
        default=SecretStr(DEV_CASE_ID_KEY),
        description="HMAC key that turns ID numbers into case ids; keep it secret and stable",
    )
    case_id_key_file: Path | None = Field(
        default=None, description="the case id key read from a file (a Docker secret)"
    )
    activity_threads: int = Field(default=16, ge=1, le=256)
    workflow_cache_size: int = Field(
        default=100,
        ge=0,
        le=10_000,
        description=(
            "cases a worker keeps in memory between their steps; a case idle for weeks is "
            "replayed from its history when it is next needed"
        ),
    )
    workflow_task_slots: int = Field(
        default=20,
        ge=2,
        le=500,
        description=(
            "workflow tasks one worker takes at a time: they are CPU-bound Python, so more than "
            "the cores can run only queue inside the worker, where they time out"
        ),
    )
    worker_runs: WorkerRuns = Field(
        default="everything",
        description=(
            "what this worker process takes from the task queue: everything, or only "
            "workflows or only activities, to run each in processes of their own"
        ),
    )
    worker_metrics_address: str | None = Field(
        default="127.0.0.1:9464", description="where the worker serves the SDK's metrics"
    )
    log_level: str = "INFO"

    # The HTTP API and the province's identity platform (an OIDC-style issuer of JWTs).
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    auth_issuer: str = Field(default=DEV_ISSUER, description="expected `iss` of bearer tokens")
    auth_audience: str = Field(default="retirement-api", description="expected `aud`")
    auth_jwks_file: Path | None = Field(
        default=None, description="the issuer's public keys (JWKS JSON); required in production"
    )
    auth_dev_mode: bool = Field(
        default=False,
        description="sign tokens for demo users with a local key under var/ (never in production)",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="the identity platform's issuer URL (its discovery document is under it); "
        "the pages' sign-in then uses OpenID Connect, authorization code with PKCE",
    )
    oidc_client_id: str = Field(default="retirement-web", description="this service's client id")
    oidc_redirect_url: str | None = Field(
        default=None,
        description="the callback URL registered with the platform (default: this service's "
        "/signin/callback as the request reached it; set it behind a proxy)",
    )
    dev_signin_file: Path | None = Field(
        default=None,
        description="development only: the demo users' tokens (`var/dev-tokens.json`, written "
        "by `make run`); the pages' sign-in then offers a choice of them",
    )
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)

    # Payload encryption (service/codec.py): every payload sent to Temporal is AES-GCM encrypted.
    payload_keys: SecretStr | None = Field(
        default=None, description='JSON {"<key id>": "<base64 32 bytes>"}: the key ring'
    )
    payload_keys_file: Path = Field(
        default=DEV_PAYLOAD_KEYS,
        description="the key ring as a file; the default is a development ring made under var/",
    )
    payload_key_id: str | None = Field(
        default=None, description="the key that encrypts (default: the last id in sort order)"
    )
    # The departments' systems, through the province's data-sharing platform (adapters/).
    departments_url: str = Field(
        default="http://127.0.0.1:8100",
        description="the platform's gateway: each department's system at {url}/{system}",
    )
    department_urls: dict[System, str] = Field(
        default={}, description="a system's own base URL where it is not under the gateway (JSON)"
    )
    platform_app_id: str = Field(default=DEV_APP_ID, description="this service's app id")
    platform_secret: SecretStr = Field(
        default=SecretStr(DEV_SECRET), description="the secret requests are signed with (HMAC)"
    )
    platform_secret_file: Path | None = Field(
        default=None, description="the signing secret read from a file (a Docker secret)"
    )
    department_timeout: float = Field(
        default=10.0, gt=0, le=25, description="seconds to wait for a department's answer"
    )
    outbox_lease: float = Field(
        default=60.0,
        ge=1,
        le=3600,
        description="seconds a dispatcher holds the deliveries it took: a dispatcher that died "
        "mid-send lets them go after this (they are posted again under the same keys)",
    )
    codec_cors_origins: list[str] = Field(
        default=["http://127.0.0.1:8233", "http://localhost:8233"],
        description="Temporal UI origins allowed to call the codec endpoint",
    )

    @model_validator(mode="after")
    def _key_from_file(self) -> Self:
        if self.case_id_key_file is not None:
            key = self.case_id_key_file.read_text(encoding="utf-8").strip()
            if not key:
                raise ValueError(f"{self.case_id_key_file} is empty")
            self.case_id_key = SecretStr(key)
        if self.platform_secret_file is not None:
            secret = self.platform_secret_file.read_text(encoding="utf-8").strip()
            if not secret:
                raise ValueError(f"{self.platform_secret_file} is empty")
            self.platform_secret = SecretStr(secret)
        return self

    def department_endpoint(self, system: System) -> Endpoint:
        base = self.department_urls.get(system) or f"{self.departments_url.rstrip('/')}/{system}"
        return Endpoint(base_url=base, app_id=self.platform_app_id, secret=self.platform_secret)

    @property
    def uses_dev_platform_secret(self) -> bool:
        return self.platform_secret.get_secret_value() == DEV_SECRET

    @property
    def uses_dev_case_key(self) -> bool:
        return self.case_id_key.get_secret_value() == DEV_CASE_ID_KEY

    @property
    def case_secret(self) -> bytes:
        return self.case_id_key.get_secret_value().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
