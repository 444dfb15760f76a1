"""Configuration from the environment or a ``.env`` file (see ``.env.example``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.content import DEFAULT_DIR

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""The Bot API's getFile limit; a local Bot API server allows more."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    data_dir: Path = Path("data")
    database_url: SecretStr | None = None
    """``postgresql://user:password@host/db`` to keep the records in PostgreSQL instead of
    ``DATA_DIR/bot.sqlite3`` (evidence files stay in ``DATA_DIR``)."""
    content_dir: Path = DEFAULT_DIR
    max_download_bytes: int = Field(default=TELEGRAM_DOWNLOAD_LIMIT, gt=0)
    retention_days: int = Field(default=0, ge=0)
    log_level: str = "INFO"
    log_salt: SecretStr | None = None

    @property
    def database_path(self) -> Path:
        return self.data_dir / "bot.sqlite3"

    @property
    def database(self) -> Path | str:
        """Where the storage lives: the PostgreSQL URL if set, else the SQLite file."""
        url = self.database_url.get_secret_value() if self.database_url else ""
        return url or self.database_path

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"
