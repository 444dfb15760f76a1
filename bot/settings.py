"""Configuration from the environment or a ``.env`` file (see ``.env.example``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.content import DEFAULT_DIR
from bot.evidence_store import BlobStore, EvidenceStore, S3EvidenceStore

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
    whatsapp_token: SecretStr | None = None
    """A System User access token of the WhatsApp Business account (Cloud API)."""
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    """The Meta app's secret: webhook deliveries are signed with it."""
    whatsapp_verify_token: SecretStr | None = None
    """The token entered with the callback URL in Meta's App Dashboard."""
    whatsapp_api_base_url: str = "https://graph.facebook.com"
    whatsapp_reminder_template: str | None = None
    """An approved UTILITY template (one body parameter: the case number) for reminders due
    more than 24 hours after the user last wrote; without it such reminders wait for the
    user's next message."""
    whatsapp_template_languages: str = "es=es_MX,en=en_US,zh-Hans=zh_CN"
    """The template's language code for each of the bot's languages."""
    wechat_token: SecretStr | None = None
    """The Token entered with the callback URL in the Official Account's settings."""
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_encoding_aes_key: SecretStr | None = None
    """The EncodingAESKey (43 characters) for safe mode; empty: plaintext mode."""
    wechat_account: Literal["unverified", "verified"] = "unverified"
    """What the account may do: ``verified`` (a verified service account) downloads voice
    notes and videos and writes to the user later; ``unverified`` answers once per message."""
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    data_dir: Path = Path("data")
    database_url: SecretStr | None = None
    """``postgresql://user:password@host/db`` to keep the records in PostgreSQL instead of
    ``DATA_DIR/bot.sqlite3`` (evidence files stay in ``DATA_DIR``)."""
    evidence_store: str | None = None
    """``s3://bucket/prefix`` to keep evidence files in an S3-compatible bucket (for
    processes on several machines) instead of ``DATA_DIR/evidence``."""
    s3_endpoint: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    content_dir: Path = DEFAULT_DIR
    max_download_bytes: int = Field(default=TELEGRAM_DOWNLOAD_LIMIT, gt=0)
    retention_days: int = Field(default=0, ge=0)
    ocr: bool = True
    """Read the screenshots (bot/reading.py): on (the default) or off."""
    log_level: str = "INFO"
    log_salt: SecretStr | None = None

    @field_validator("evidence_store")
    @classmethod
    def _a_bucket_url(cls, value: str | None) -> str | None:
        if value and not value.strip().startswith("s3://"):
            raise ValueError("an s3://BUCKET or s3://BUCKET/PREFIX URL, or empty")
        return value.strip() if value else None

    @property
    def whatsapp(self) -> bool:
        """Whether the WhatsApp channel is configured (all four of its settings)."""
        return bool(
            self.whatsapp_token
            and self.whatsapp_phone_number_id
            and self.whatsapp_app_secret
            and self.whatsapp_verify_token
        )

    @property
    def wechat(self) -> bool:
        """Whether the WeChat channel is configured."""
        return bool(self.wechat_token and self.wechat_app_id and self.wechat_app_secret)

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

    def blob_store(self) -> BlobStore:
        """Where evidence files are kept: the bucket if set, else ``DATA_DIR/evidence``
        (staging is local in both cases)."""
        url = self.evidence_store
        if not url:
            return EvidenceStore(self.evidence_dir)
        secret = self.s3_secret_access_key
        return S3EvidenceStore(
            self.evidence_dir,
            url,
            endpoint=self.s3_endpoint,
            region=self.s3_region,
            access_key_id=self.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
        )

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"
