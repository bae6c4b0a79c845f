"""Settings of the notifications service, read from ``ODR_NOTIFICATIONS_`` environment variables.

They live here rather than in ``shared.config.Settings`` because only this service reads them
(SMTP, webhooks, reminders). Defaults are the embedded run: mail goes to a local mailbox you can
open in the browser, webhooks retry on the Standard Webhooks schedule.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Standard Webhooks / Svix schedule: each delay starts after the previous attempt failed.
SPEC_RETRY_SCHEDULE = [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]


class NotificationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ODR_NOTIFICATIONS_", extra="ignore")

    default_time_zone: str = Field("Asia/Almaty", description=(
        "Time zone of a case until an event names one (CaseFiled does; events published before it did: the agreement to mediate)."))
    default_language: Literal["kk", "ky", "ru", "en"] = Field("ru", description="Language when nothing else is known about a recipient.")

    email_transport: Literal["mailbox", "smtp"] = Field(
        "mailbox", description="`mailbox`: keep mail in the service's database, readable at /notifications/mailbox (dev mode); `smtp`: send it.")
    mail_from: str = Field("ODR <no-reply@odr.example>", description="From header of every email.")
    message_id_domain: str = Field("odr.example", description="Right-hand side of Message-IDs (`<delivery id@domain>`).")
    smtp_host: str = Field("localhost", description="SMTP server.")
    smtp_port: int = Field(25, description="SMTP port (587 with STARTTLS, 465 with implicit TLS).")
    smtp_username: str | None = Field(None, description="SMTP user, if the server wants authentication.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the connection with STARTTLS.")
    smtp_tls: bool = Field(False, description="Implicit TLS (port 465).")
    smtp_timeout_seconds: float = Field(30.0, description="Timeout of one SMTP conversation.")
    sms_provider: Literal["logging", "smsc"] = Field("logging", description=(
        "SMS provider. `smsc`: SMSC.kz's HTTP API (needs its credentials); `logging`: in dev mode writes delivery ids "
        "to the log, outside dev mode sends nothing and records each SMS as failed."))
    smsc_base_url: str = Field("https://smsc.kz", description="SMSC.kz API address (`/sys/send.php` is under it); https outside dev mode.")
    smsc_api_key: SecretStr | None = Field(None, description="SMSC.kz API key (instead of login and password). Never logged.")
    smsc_login: str | None = Field(None, description="SMSC.kz login (with the password, when no API key is set).")
    smsc_password: SecretStr | None = Field(None, description="SMSC.kz password. Never logged.")
    sms_sender: str | None = Field(None, description="Sender id (alpha name registered with the provider); unset: the account's default.")
    sms_max_segments: int = Field(4, ge=1, le=10, description=(
        "Most SMS segments one message may be billed as (UCS-2 for Cyrillic and Kazakh: 70 characters, 67 per segment); "
        "longer texts are shortened, the link kept whole."))
    sms_timeout_seconds: float = Field(15.0, description="Time the SMS provider has to answer one request.")

    delivery_poll_seconds: float = Field(5.0, description="The longest the email/SMS worker rests: deliveries committed in the same process wake it and it wakes for the next retry or expired lease; this interval finds deliveries another replica committed.")
    delivery_lease_seconds: float = Field(120.0, description="A delivery marked `sending` by a worker that died is retried after this.")
    delivery_max_attempts: int = Field(8, description="Email/SMS attempts before a delivery is given up.")
    delivery_retry_base_seconds: float = Field(30.0, description="First email retry delay; doubles each attempt (with jitter).")

    webhook_retry_schedule: list[float] = Field(
        default_factory=lambda: list(SPEC_RETRY_SCHEDULE),
        description="Delays (s) before each webhook attempt; default is the Standard Webhooks schedule (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).")
    webhook_jitter: float = Field(0.2, description="Random +-fraction applied to every retry delay.")
    webhook_timeout_seconds: float = Field(15.0, description="Time a court endpoint has to answer.")
    webhook_allow_insecure_urls: bool = Field(
        False, description="Accept http:// and loopback/private endpoint addresses (development and tests only).")
    webhook_secret_grace_seconds: int = Field(86400, description="After a rotation, how long the old secret still signs (default one day).")
    webhook_poll_seconds: float = Field(5.0, description="The longest the webhook worker rests: messages committed in the same process wake it and it wakes for the next retry or expired lease; this interval finds messages another replica committed.")
    webhook_concurrency: int = Field(16, description="Webhook requests in flight at once per worker.")

    scheduler_poll_seconds: float = Field(5.0, description="The longest the reminder scheduler rests: it wakes when the next job is due and when a job is scheduled in the same process; this interval finds jobs another replica scheduled.")
    session_reminders_seconds: list[int] = Field(default_factory=lambda: [86400, 3600],
                                                 description="Reminders before a session starts (default 24 h and 1 h).")
    answer_window_reminder_seconds: int = Field(172800, description="Reminder this long before an invitation's answer window closes.")
    signature_reminder_seconds: int = Field(172800, description="Reminder to signers this long after signatures were requested.")
    obligation_reminder_days: int = Field(3, description="Reminder to the owing side this many days before an obligation's due date (09:00 in the case's time zone).")
    feed_poll_seconds: float = Field(1.0, description="How often a live feed stream looks for new notices committed elsewhere.")
