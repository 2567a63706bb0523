"""One settings object, read from environment variables (and a local `.env` file if present).

Secrets are `SecretStr` so they never appear in logs or reprs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from accounts.tokens import TokenConfig
from api.limits import GraphQLLimits
from outbox.channels import SmtpConfig
from outbox.runner import RetryPolicy

# An HS256 key shorter than the hash output is guessable offline from any one token; 32 bytes
# (256 bits) is the floor for every HMAC algorithm here.
MIN_JWT_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAHT_", env_file=".env", extra="ignore")

    # --- database -------------------------------------------------------------------------
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "PAHT_DATABASE_URL")
    )
    """Application-role DSN (NOSUPERUSER, NOBYPASSRLS). Unset: an embedded PostgreSQL is used."""
    database_owner_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_OWNER_URL", "PAHT_DATABASE_OWNER_URL"),
    )
    """Owner-role DSN used only for migrations."""
    data_dir: Path = Path(".paht")
    """Where the embedded PostgreSQL cluster, uploaded media and dev secrets live."""
    db_pool_max: int = 10
    db_connect_timeout_seconds: float = 60
    """How long a command waits for the database to accept connections at start-up (it retries
    with exponential back-off, logging each attempt); then it gives up with a clear error."""
    migrate_on_start: bool | None = None
    """Apply pending migrations in `paht serve` (needs ``DATABASE_OWNER_URL``). Default: only
    with the embedded development database; in production `paht migrate` runs once, and `serve`
    refuses to start while migrations are pending."""
    allow_unsafe_database_role: bool = False
    """Serve even when ``DATABASE_URL``'s role bypasses row-level security (superuser,
    BYPASSRLS, owner of the tables or member of their owner). Only for emergencies: logged
    loudly at every start."""

    # --- HTTP -----------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    """Development mode: GraphiQL, detailed logs. Never in production."""
    allowed_origins: list[str] = []
    """Browser origins allowed to call the API (CORS) and open WebSockets; `paht serve` with the
    embedded database (a development machine) allows the usual local dev servers."""
    max_body_bytes: int = 60 * 1024 * 1024
    """Largest multipart request (photos or a video and the operation)."""
    max_request_bytes: int = 1024 * 1024
    """Largest JSON request: a query of at most ``max_query_bytes`` plus its variables."""
    workers: int = Field(default=1, ge=1, le=64)
    """Server processes on the port, each with its own socket (api/workers.py)."""
    graceful_shutdown_seconds: int = 30
    """After SIGTERM, how long requests in flight may take to finish before their connections
    are closed (a client stalled mid-upload must not keep a stopping process alive)."""

    # --- tokens ---------------------------------------------------------------------------
    jwt_secret: SecretStr | None = None
    """HS256 secret. Unset in development: a random one is kept in the data folder."""
    jwt_algorithm: str = "HS256"
    jwt_private_key_file: Path | None = None
    """PEM private key for RS256/ES256/EdDSA signing (set jwt_algorithm accordingly)."""
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = "paht"
    jwt_audience: str = "paht-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600

    oidc_issuer: str | None = None
    """External identity provider (e.g. a provincial SSO). Its tokens are accepted too."""
    oidc_jwks_url: str | None = None
    oidc_audience: str | None = None

    # --- GraphQL limits -------------------------------------------------------------------
    max_query_bytes: int = 100_000
    max_query_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_complexity: int = 20_000
    max_variables_depth: int = 16
    max_page_size: int = 100
    introspection: bool | None = None
    """Schema introspection; default: only in debug (the committed schema is the contract)."""
    suggestions: bool | None = None
    """"Did you mean …" hints in errors; default: only in debug."""
    compiled_operations: bool = True
    """Known queries run from compiled plans (api/compiled.py); off: every operation through
    strawberry (the differential tests compare both)."""

    # --- background jobs ------------------------------------------------------------------
    jobs_interval_seconds: float = 60
    """Auto-close after the rating window, auto-reject of unanswered requests; 0 disables.
    Safe with several processes (an advisory lock keeps one runner at a time)."""

    # --- outbox: e-mail, gateways, webhooks ----------------------------------------------
    outbox_interval_seconds: float = 5
    """How often the background runner delivers the outbox (a pass that finds nothing due costs
    one query per tenant); 0 leaves delivery to the jobs pass."""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    """Default: a local SMTP sink (README: `make mail-sink`)."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: bool = False
    """Implicit TLS (port 465)."""
    smtp_starttls: bool | None = None
    """STARTTLS: ``true`` requires it, ``false`` never, unset when the server offers it."""
    mail_from: str = "PAHT <no-reply@paht.local>"
    """The sender, unless the tenant set its own (updateChannelSettings)."""
    outbox_http_timeout_seconds: float = 10
    """For each webhook and gateway call."""
    outbox_retry_base_seconds: float = 30
    outbox_retry_cap_seconds: float = 6 * 3600
    outbox_max_attempts: int = Field(default=8, ge=1, le=30)
    """Attempts of one message before it is FAILED."""
    webhook_disable_after: int = Field(default=5, ge=1, le=100)
    """Consecutive failures after which a webhook endpoint is switched off."""

    # --- media ----------------------------------------------------------------------------
    storage: Literal["local", "s3"] = "local"
    """Where attachments live: ``local`` (``media_root``; with several processes it must be one
    shared folder) or ``s3`` (an S3-compatible object store shared by every process)."""
    media_root: Path | None = None
    s3_endpoint_url: str | None = None
    """E.g. ``https://s3.example.gov.vn``; unset: the AWS endpoint of ``s3_region``."""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_path_style: bool = True
    """``https://host/bucket/key`` addressing, which every S3-compatible store accepts;
    ``false`` for virtual-hosted ``https://bucket.host/key``."""
    s3_prefix: str = ""
    """Key prefix inside the bucket (e.g. ``paht/``) when the bucket is shared."""
    public_url: str | None = None
    """The API's address as clients reach it (``https://paht.laocai.gov.vn``): media links
    start with it. Unset: the origin each request came to."""
    citizen_app_url: str | None = None
    """The citizen app's address (``https://phananh.laocai.gov.vn``): invitations to claim a
    hotline report link to ``{citizen_app_url}/claim?tenant=…&trackingCode=…``. Unset: the
    invitation carries the tracking code only."""
    media_secret: SecretStr | None = None
    """Signs the expiring links to media that is not public; every process must share it.
    Unset: derived from the HS256 JWT secret (with an asymmetric JWT key, a random one is kept
    in the data folder, which suits one host only)."""
    media_link_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    """How long a signed media link lasts, at least (at most twice as long)."""
    max_image_bytes: int = 10 * 1024 * 1024
    outbox_private_hosts: bool = False
    """Let webhook endpoints and SMS/Zalo gateways (addresses tenant administrators enter) be
    private or loopback addresses. Off: a delivery to one is refused and recorded."""
    open311_media_private_hosts: bool = False
    """Let an Open311 ``media_url`` point at a private or loopback address. Off: only public
    hosts are fetched (the server's own network stays out of reach)."""
    max_video_bytes: int = 50 * 1024 * 1024
    max_video_seconds: float = 120
    """Longest video accepted, by its real (packet) duration."""

    def token_config(self) -> TokenConfig:
        """Raises ValueError for a configuration tokens must not be issued with (whatever hosts
        the app; `paht serve` says so first, in its own words)."""
        if problem := self.jwt_secret_problem():
            raise ValueError(problem)
        asymmetric = self.jwt_algorithm.startswith(("RS", "PS", "ES", "Ed"))
        private = self.jwt_private_key_file
        public = self.jwt_public_key_file
        return TokenConfig(
            algorithm=self.jwt_algorithm,
            secret=None if asymmetric else self.signing_secret(),
            private_key=private.read_bytes() if asymmetric and private else None,
            public_key=public.read_bytes() if asymmetric and public else None,
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
            access_ttl_seconds=self.access_token_ttl_seconds,
            refresh_ttl_seconds=self.refresh_token_ttl_seconds,
            oidc_issuer=self.oidc_issuer,
            oidc_jwks_url=self.oidc_jwks_url,
            oidc_audience=self.oidc_audience,
        )

    def graphql_limits(self) -> GraphQLLimits:
        return GraphQLLimits(
            max_query_bytes=self.max_query_bytes,
            max_tokens=self.max_tokens,
            max_depth=self.max_query_depth,
            max_aliases=self.max_aliases,
            max_complexity=self.max_complexity,
            max_page_size=self.max_page_size,
            max_variables_depth=self.max_variables_depth,
            introspection=self.debug if self.introspection is None else self.introspection,
            suggestions=self.debug if self.suggestions is None else self.suggestions,
        )

    def smtp_config(self) -> SmtpConfig:
        password = self.smtp_password
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            username=self.smtp_username,
            password=password.get_secret_value() if password else None,
            use_tls=self.smtp_tls,
            start_tls=self.smtp_starttls,
            sender=self.mail_from,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            base_seconds=self.outbox_retry_base_seconds,
            cap_seconds=self.outbox_retry_cap_seconds,
            max_attempts=self.outbox_max_attempts,
            disable_after=self.webhook_disable_after,
        )

    def media_dir(self) -> Path:
        return self.media_root or (self.data_dir / "media")

    def jwt_secret_problem(self) -> str | None:
        """Why the configured signing secret must not be used (None: it may). Says how long it
        is, never what it is."""
        if self.jwt_secret is None or not self.jwt_algorithm.upper().startswith("HS"):
            return None  # generated (48 random bytes), or an asymmetric key pair instead
        length = len(self.jwt_secret.get_secret_value().encode())
        if length >= MIN_JWT_SECRET_BYTES:
            return None
        return (
            f"PAHT_JWT_SECRET is {length} bytes long; {self.jwt_algorithm} needs a secret of at "
            f"least {MIN_JWT_SECRET_BYTES} random bytes. Generate one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )

    def media_link_secret(self) -> bytes:
        if self.media_secret is not None:
            return self.media_secret.get_secret_value().encode()
        if self.jwt_algorithm.upper().startswith("HS"):
            base = self.signing_secret().encode()
        else:
            base = self._data_secret("media-secret").encode()
        # A key of its own: a media link's signature is never a token's.
        return hmac.new(base, b"paht media links", hashlib.sha256).digest()

    def verification_code_key(self) -> bytes:
        """The key of one-time codes' hashes (citizens/codes.py), derived as the media links'
        is but a key of its own."""
        return hmac.new(
            self.media_link_secret(), b"paht verification codes", hashlib.sha256
        ).digest()

    def signing_secret(self) -> str:
        """The HS256 secret; in development a random one persisted under the data folder."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        return self._data_secret("jwt-secret")

    def _data_secret(self, name: str) -> str:
        """A random secret persisted under the data folder (development, one host)."""
        path = self.data_dir / name
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value


# Vite, Create React App / Next.js, Angular, a plain static server: what `make run` allows.
DEV_ORIGINS = [
    f"http://{host}:{port}"
    for host in ("localhost", "127.0.0.1")
    for port in (3000, 4200, 5173, 8080)
]


@lru_cache
def get_settings() -> Settings:
    return Settings()
