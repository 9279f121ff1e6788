"""Settings for a remote Temporal cluster (mTLS or an API key) and the secrets read from files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.client import TLSConfig

from service.settings import Settings
from service.temporal import _tls


def test_local_dev_server_needs_no_tls() -> None:
    assert _tls(Settings()) is False


def test_an_api_key_implies_tls() -> None:
    assert _tls(Settings(temporal_api_key="secret-key")) is True


def test_mtls_reads_the_certificate_files(tmp_path: Path) -> None:
    for name in ("client.pem", "client.key", "ca.pem"):
        (tmp_path / name).write_bytes(f"-----{name}-----".encode())
    config = _tls(
        Settings(
            temporal_tls_cert=tmp_path / "client.pem",
            temporal_tls_key=tmp_path / "client.key",
            temporal_tls_ca=tmp_path / "ca.pem",
        )
    )
    assert isinstance(config, TLSConfig)
    assert config.client_cert == b"-----client.pem-----"
    assert config.client_private_key == b"-----client.key-----"
    assert config.server_root_ca_cert == b"-----ca.pem-----"


def test_the_case_id_key_from_a_file(tmp_path: Path) -> None:
    key = tmp_path / "case-id-key"
    key.write_text("0123456789abcdef\n", encoding="utf-8")
    settings = Settings(case_id_key_file=key)
    assert settings.case_secret == b"0123456789abcdef"
    assert not settings.uses_dev_case_key
    key.write_text("\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="empty"):
        Settings(case_id_key_file=key)
