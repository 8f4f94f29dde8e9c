"""Settings: `config.toml` read once at start-up into a frozen, validated object.

Nothing else in kpibot reads config files or the environment. Secrets (bot token, mail passwords) come only from
environment variables; the database URL may come from `DATABASE_URL`. A bad value fails at start-up naming the key.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kpi_core import loader, plain_errors
from kpi_core.returns.safety import Limits
from kpi_core.terms import ContractTerms, TermOverrides, contract_terms

DEFAULT_PATH = Path("config.toml")
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-_]*$", max_length=64)]
Role = Literal["provider_submitter", "provider_manager", "commissioner"]


class ConfigError(ValueError):
    """The configuration is unreadable or invalid; the message names the file and keys."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Model):
    id: Id
    name: str
    kind: Literal["council", "provider"]


class Contract(_Model):
    id: Id
    name: str
    framework: str
    provider: Id
    commissioner: Id
    value: Decimal = Field(ge=0, description="annual contract value in pounds")
    start: date
    end: date | None = None
    year_start_month: int | None = Field(default=None, ge=1, le=12)
    # The commissioner's changes to the framework's terms for this contract: due dates, returns, data-submission
    # KPIs, the late-returns service failure rule (`false` removes one). See kpi_core/terms.py.
    terms: TermOverrides = TermOverrides()

    @field_validator("framework")
    @classmethod
    def _known_framework(cls, value: str) -> str:
        known = loader.known()
        if value not in known:
            raise ValueError(f"unknown framework {value!r}; known: {', '.join(sorted(known))}")
        return value

    @model_validator(mode="after")
    def _terms_fit(self) -> "Contract":
        problems = self.terms.problems(loader.get(self.framework))
        if problems:
            raise ValueError("terms: " + "; ".join(problems))
        return self

    def contract_terms(self) -> ContractTerms:
        """The terms in force for this contract: the framework's, with this contract's changes."""
        return contract_terms(loader.get(self.framework), self.terms)

    @property
    def start_month(self) -> int:
        """The month the contract's reporting years start (the framework's unless overridden)."""
        return self.year_start_month or loader.get(self.framework).calendar.year_start_month


class Contact(_Model):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str
    organisation: Id
    role: Role
    telegram_chat_id: int | None = None
    contracts: tuple[Id, ...] = ()  # empty: every contract of the organisation
    channel: Literal["any", "email", "telegram"] = "any"  # "telegram": returns by email are not accepted

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


SQLITE_PREFIX = "sqlite:///"
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class Storage(_Model):
    """Where kpibot keeps its data. Relative paths in the file are read from the config file's folder."""

    database_url: str = "sqlite:///var/kpibot.db"
    files_dir: Path = Path("var/files")
    outbox_dir: Path = Path("var/outbox")  # where the local (command line) channel leaves its messages

    @field_validator("database_url")
    @classmethod
    def _supported(cls, value: str) -> str:
        scheme = value.partition("://")[0]
        if "://" not in value or scheme not in DATABASE_SCHEMES:
            shown = f"{scheme}://..." if "://" in value else repr(value)  # never echo a password
            raise ValueError(f"{shown} is not a database kpibot supports; use SQLite (sqlite:///path/to/kpibot.db) "
                             "or PostgreSQL (postgresql+psycopg://user@host/database)")
        return value

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None for PostgreSQL (and an in-memory SQLite database)."""
        if not self.database_url.startswith(SQLITE_PREFIX):
            return None
        path = self.database_url[len(SQLITE_PREFIX):].partition("?")[0]
        return Path(path) if path and path != ":memory:" else None

    def resolved(self, base: Path, url_base: Path) -> "Storage":
        """The same storage with relative paths read from `base` (and a relative SQLite file from `url_base`)."""
        url = self.database_url
        path = self.sqlite_path
        if path is not None and not path.is_absolute():
            query = url.partition("?")[1] + url.partition("?")[2]
            url = f"{SQLITE_PREFIX}{(url_base / path).absolute()}{query}"
        return self.model_copy(update={"database_url": url, "files_dir": (base / self.files_dir).absolute(),
                                       "outbox_dir": (base / self.outbox_dir).absolute()})


class Intake(_Model):
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_uncompressed_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    # Files refused as possible personal data, and files from unknown senders, are kept restricted this long
    # (for the commissioner to look into), then purged from disk; the record that they came stays.
    quarantine_days: int = Field(default=30, ge=1, le=3650)
    unknown_sender_max_files: int = Field(default=200, ge=0)  # beyond this, unknown senders' files are not kept


class Reports(_Model):
    attach_pdf: bool = True  # attach the PDF return report to every reply (rendering takes about a second)
    # PDFs are laid out in worker processes: how many at once (one per core), and the bounds on each report.
    render_workers: int = Field(default=2, ge=1, le=32)
    render_timeout_seconds: float = Field(default=120, gt=0)
    render_memory_mb: int = Field(default=1536, ge=256)


Security = Literal["tls", "starttls", "plain"]  # implicit TLS, STARTTLS, or none (only to this machine)


class Email(_Model):
    """The mailbox returns are emailed to (read over IMAP when `imap_user` is set) and the SMTP server replies
    go out through. Passwords come from KPIBOT_IMAP_PASSWORD and KPIBOT_SMTP_PASSWORD only; with `auth = "oauth2"`
    both sign in with an OAuth 2.0 token instead (Microsoft 365), the app's secret in KPIBOT_OAUTH_CLIENT_SECRET."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_security: Security = "starttls"
    imap_host: str = "127.0.0.1"
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_user: str = ""  # empty: no mailbox is read
    imap_security: Security = "tls"
    folder: str = Field(default="INBOX", min_length=1, max_length=200)
    processed_folder: str = Field(default="kpibot-processed", min_length=1, max_length=200)  # created if missing
    from_address: str = Field(default="kpibot@example.invalid", pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
    poll_seconds: int = Field(default=300, ge=10, le=1500)  # IDLE is re-issued this often: a poll as a backstop
    require_dmarc_pass: bool = True  # hold a message whose receiving server's Authentication-Results lacks dmarc=pass
    authserv_id: str = ""  # trust only Authentication-Results from this server id (empty: the topmost header)
    max_replies_per_hour: int = Field(default=10, ge=1, le=1000)  # to one address, against loops
    # "oauth2": IMAP and SMTP sign in with a token from the client-credentials grant (docs/email.md).
    auth: Literal["password", "oauth2"] = "password"
    oauth_tenant: str = Field(default="", pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$|^$", max_length=253)
    oauth_token_url: str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    oauth_client_id: str = Field(default="", max_length=200)
    oauth_scope: str = Field(default="https://outlook.office365.com/.default", min_length=1, max_length=500)

    @property
    def token_url(self) -> str:
        """The token endpoint, with the tenant filled in."""
        return self.oauth_token_url.replace("{tenant}", self.oauth_tenant)

    @model_validator(mode="after")
    def _safe(self) -> "Email":
        if self.auth == "oauth2":
            self._oauth_complete()
        for kind in ("imap", "smtp"):
            host = getattr(self, f"{kind}_host")
            if getattr(self, f"{kind}_security") == "plain" and not is_loopback(host):
                raise ValueError(f"{kind}_security = \"plain\" sends the password unencrypted, so it is allowed only "
                                 f"to this machine (127.0.0.1, ::1 or localhost), not to {host!r}; use \"tls\" or "
                                 "\"starttls\"")
        if self.folder == self.processed_folder:
            raise ValueError("processed_folder must differ from folder (messages are moved there once read)")
        return self

    def _oauth_complete(self) -> None:
        if not self.oauth_client_id:
            raise ValueError('auth = "oauth2" needs oauth_client_id (the app\'s Application (client) ID)')
        if "{tenant}" in self.oauth_token_url and not self.oauth_tenant:
            raise ValueError('auth = "oauth2" needs oauth_tenant (the Directory (tenant) ID, or the domain, e.g. '
                             'example.gov.uk), as oauth_token_url has {tenant} in it')
        scheme, _, rest = self.token_url.partition("://")
        host = rest.split("/", 1)[0].rsplit(":", 1)[0] if rest else ""
        if scheme != "https" and not (scheme == "http" and is_loopback(host)):
            raise ValueError(f"oauth_token_url must be an https:// address (http:// only to this machine), not "
                             f"{self.token_url!r}")

    @property
    def mailbox_configured(self) -> bool:
        return bool(self.imap_user)


def is_loopback(host: str) -> bool:
    """Is `host` this machine (so a connection to it never crosses a network)?"""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Telegram(_Model):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # Long polling needs only outbound HTTPS; a webhook needs Telegram to reach `webhook_url` (ports 443, 80, 88
    # or 8443), forwarded to `webhook_listen`:`webhook_port`; its secret token is derived from the bot token.
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)

    @model_validator(mode="after")
    def _webhook(self) -> "Telegram":
        local = self.webhook_url.startswith(("http://127.0.0.1", "http://localhost"))
        if self.mode == "webhook" and not (self.webhook_url.startswith("https://") or local):
            raise ValueError("webhook_url: webhook mode needs the public https:// address Telegram calls")
        return self


class Outbox(_Model):
    max_attempts: int = Field(default=8, ge=1)
    backoff_seconds: int = Field(default=60, ge=1)


Days = tuple[Annotated[int, Field(ge=0, le=366)], ...]


class Reminders(_Model):
    """Reminder days for one return type (`[scheduler.return_types.<id>]`)."""

    reminder_days: Days | None = None  # days before the due date; 0 is the due date itself


class ContractReminders(Reminders):
    """Reminder days for one contract, and for its return types (`[scheduler.contracts.<id>]`)."""

    return_types: dict[str, Reminders] = {}


class Scheduler(_Model):
    """`[scheduler]`: when reminders, overdue notices, escalations and commissioners' reports go out (jobs/)."""

    sweep_seconds: int = Field(default=300, ge=10, le=3600)  # how often `kpibot run` looks for what is due
    reminder_days: Days = (14, 3, 1, 0)
    return_types: dict[str, Reminders] = {}  # reminder days for one return type, e.g. annual
    contracts: dict[str, ContractReminders] = {}  # reminder days for one contract (and its return types)
    overdue_every_days: int = Field(default=7, ge=1, le=92)  # overdue notices: the working day after, then this
    overdue_max: int = Field(default=0, ge=0)  # at most this many overdue notices per return; 0: until accepted
    report_working_days: int = Field(default=5, ge=0, le=30)  # exception report this long after a deadline
    digest_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday"] = "monday"
    send_from: time = time(9, 0)  # notices go out on working days between these local times
    send_until: time = time(17, 30)
    # Returns due before this date are not chased or escalated, and never count in a run of late periods: for a
    # deployment that starts in the middle of a contract, whose earlier returns were handled outside kpibot.
    chase_from: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Scheduler":
        problems = ["send_from must be earlier than send_until"] if self.send_from >= self.send_until else []
        problems += [f"{where}: a day appears more than once in {list(days)}"
                     for where, days in self._all_days() if len(set(days)) != len(days)]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _all_days(self) -> list[tuple[str, Days]]:
        found = [("reminder_days", self.reminder_days)]
        for kind, table in (("return_types", self.return_types), ("contracts", self.contracts)):
            for key, entry in table.items():
                found += [(f"{kind}.{key}.reminder_days", entry.reminder_days)] if entry.reminder_days else []
                found += [(f"{kind}.{key}.return_types.{r}.reminder_days", e.reminder_days)
                          for r, e in getattr(entry, "return_types", {}).items() if e.reminder_days]
        return found

    def reminder_days_for(self, contract_id: str, return_type: str) -> Days:
        """The reminder days of one contract's return type: the most specific setting wins."""
        contract = self.contracts.get(contract_id)
        if contract is not None:
            for_type = contract.return_types.get(return_type)
            if for_type is not None and for_type.reminder_days is not None:
                return for_type.reminder_days
            if contract.reminder_days is not None:
                return contract.reminder_days
        for_type = self.return_types.get(return_type)
        if for_type is not None and for_type.reminder_days is not None:
            return for_type.reminder_days
        return self.reminder_days

    @property
    def longest_notice(self) -> int:
        """The most days before a due date any reminder goes out."""
        return max(max(days, default=0) for _, days in self._all_days())


class Frameworks(_Model):
    """`[frameworks]`: the council's own framework files, loaded beside the shipped ones."""

    folder: Path | None = None  # relative to the config file's folder; every *.toml in it is a framework


class Settings(_Model):
    timezone: str = "Europe/London"
    storage: Storage = Storage()
    intake: Intake = Intake()
    reports: Reports = Reports()
    email: Email = Email()
    telegram: Telegram = Telegram()
    outbox: Outbox = Outbox()
    scheduler: Scheduler = Scheduler()
    frameworks: Frameworks = Frameworks()
    organisations: tuple[Organisation, ...] = ()
    contracts: tuple[Contract, ...] = ()
    contacts: tuple[Contact, ...] = ()
    # Secrets: from the environment only, never from the file.
    telegram_token: str = Field(default="", exclude=True, repr=False)
    smtp_password: str = Field(default="", exclude=True, repr=False)
    imap_password: str = Field(default="", exclude=True, repr=False)
    oauth_client_secret: str = Field(default="", exclude=True, repr=False)
    source: str = Field(default="", exclude=True)

    @field_validator("timezone")
    @classmethod
    def _real_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone name; use one from the IANA list, such as "
                             "'Europe/London'") from None
        return value

    @model_validator(mode="after")
    def _references(self) -> "Settings":
        problems = []
        orgs = {o.id: o for o in self.organisations}
        for kind, ids in (("organisations", [o.id for o in self.organisations]),
                          ("contracts", [c.id for c in self.contracts]),
                          ("contacts", [c.email for c in self.contacts])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                problems.append(f"{kind}: {', '.join(dupes)} appear more than once")
        for index, contract in enumerate(self.contracts):
            where = f"contracts #{index + 1} (id {contract.id!r})"
            for key, kind in (("provider", "provider"), ("commissioner", "council")):
                org = orgs.get(getattr(contract, key))
                if org is None or org.kind != kind:
                    problems.append(f"{where}: {key}: {getattr(contract, key)!r} is not a {kind} in organisations")
            if contract.end is not None and contract.end <= contract.start:
                problems.append(f"{where}: end: must be after start")
        contract_ids = {c.id for c in self.contracts}
        for index, contact in enumerate(self.contacts):
            where = f"contacts #{index + 1} (email {contact.email!r})"
            if contact.organisation not in orgs:
                problems.append(f"{where}: organisation: {contact.organisation!r} is not in organisations")
            for cid in contact.contracts:
                if cid not in contract_ids:
                    problems.append(f"{where}: contracts: {cid!r} is not a contract")
        problems += self._scheduler_references()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _scheduler_references(self) -> list[str]:
        """Reminder settings must name configured contracts and return types they owe."""
        owed = {c.id: set(c.contract_terms().returns) for c in self.contracts}
        every = set().union(*owed.values()) if owed else set()
        problems = [f"scheduler.contracts.{cid}: {cid!r} is not a contract"
                    for cid in self.scheduler.contracts if cid not in owed]
        tables = [("scheduler.return_types", self.scheduler.return_types, every)]
        tables += [(f"scheduler.contracts.{cid}.return_types", entry.return_types, owed[cid])
                   for cid, entry in self.scheduler.contracts.items() if cid in owed]
        for where, table, known in tables:
            problems += [f"{where}.{rid}: no such return (known: {', '.join(sorted(known)) or 'none'})"
                         for rid in table if rid not in known]
        return problems

    def contract(self, contract_id: str) -> Contract:
        for contract in self.contracts:
            if contract.id == contract_id:
                return contract
        known = ", ".join(c.id for c in self.contracts) or "(none configured)"
        raise ConfigError(f"unknown contract {contract_id!r}; configured: {known}")

    def organisation(self, org_id: str) -> Organisation:
        return next(o for o in self.organisations if o.id == org_id)


SECRET_ENV = {"telegram_token": "KPIBOT_TELEGRAM_TOKEN", "smtp_password": "KPIBOT_SMTP_PASSWORD",
              "imap_password": "KPIBOT_IMAP_PASSWORD", "oauth_client_secret": "KPIBOT_OAUTH_CLIENT_SECRET"}


def load(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings from `path` (else $KPIBOT_CONFIG, else ./config.toml) and the environment; the council's own
    frameworks (`[frameworks] folder`) are loaded first, so contracts may name them."""
    env = dict(os.environ if environ is None else environ)
    path = config_path(path, env)
    data = _read(path)
    if not data:
        raise ConfigError(f"{path}: the file is empty; it needs [[organisations]] (the council and its providers), "
                          "[[contracts]] (each naming its framework) and [[contacts]] (who submits and who "
                          "commissions): start from the example config.toml")
    email = data.get("email") if isinstance(data.get("email"), dict) else {}
    leaked = sorted(k for k in SECRET_ENV if k in data or k in email)  # where someone might well put a secret
    if leaked:
        raise ConfigError(f"{path}: {', '.join(leaked)} must not be in the file; set "
                          f"{', '.join(SECRET_ENV[k] for k in leaked)} in the environment instead")
    _use_frameworks(path, data)
    from_env = bool(env.get("DATABASE_URL"))
    if from_env:
        data.setdefault("storage", {})
        data["storage"] = {**data["storage"], "database_url": env["DATABASE_URL"]}
    shown = dict(data)
    data.update({key: env.get(var, "") for key, var in SECRET_ENV.items()})
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            key = plain_errors.place(error["loc"], shown)
            if any(word in str(part) for part in error["loc"] for word in ("url", "password", "token", "secret")):
                error = {**error, "input": None}  # never echo what may be a secret
            message = plain_errors.sentence(error)
            if error["type"] == "extra_forbidden":
                message = "is not a known setting (check its spelling)"
            if key == "storage.database_url" and from_env:
                key = "DATABASE_URL (from the environment)"
            problems.append(f"{key}: {message}" if key else message)
        raise ConfigError(f"{path}: " + "; ".join(problems)) from None
    # Paths in the file mean the same wherever kpibot runs from: `--config /srv/kpibot/config.toml status` from
    # another folder must find the same database, not create an empty one. DATABASE_URL is read like any path
    # given on the command line, from the current folder.
    base = path.absolute().parent
    storage = settings.storage.resolved(base, Path.cwd() if from_env else base)
    frameworks = settings.frameworks.model_copy(update={"folder": frameworks_folder_of(path, data)})
    return settings.model_copy(update={"source": str(path), "storage": storage, "frameworks": frameworks})


def config_path(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Path:
    """The config file kpibot reads: `path`, else $KPIBOT_CONFIG, else ./config.toml."""
    env = os.environ if environ is None else environ
    return Path(path or env.get("KPIBOT_CONFIG") or DEFAULT_PATH)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file (set KPIBOT_CONFIG or pass --config)") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None


def frameworks_folder_of(path: Path, data: dict[str, Any] | None = None) -> Path | None:
    """The council's frameworks folder named in the config file at `path` (`[frameworks] folder`, read from the
    file's folder), or None; read without validating the rest of the file, so `kpibot frameworks check` can point
    at mistakes in a framework that a contract names."""
    data = _read(path) if data is None else data
    section = data.get("frameworks")
    folder = section.get("folder") if isinstance(section, dict) else None
    if not isinstance(folder, str) or not folder.strip():
        return None
    return (path.absolute().parent / folder).absolute()


def _use_frameworks(path: Path, data: dict[str, Any]) -> None:
    """Load the council's frameworks (none when the file names no folder), or say what is wrong with them."""
    folder = frameworks_folder_of(path, data)
    try:
        loader.use_folder(folder)
    except loader.FrameworkError as exc:
        raise ConfigError(f"{path}: frameworks.folder: {exc.source}: {len(exc.problems)} "
                          f"mistake{'s' if len(exc.problems) != 1 else ''} ({exc.problems[0]}); run `kpibot "
                          "frameworks check` to see every one") from None


def read_limits(settings: Settings) -> Limits:
    """How much kpibot reads from one received file, from the [intake] settings."""
    return Limits(max_bytes=settings.intake.max_upload_bytes,
                  max_uncompressed_bytes=settings.intake.max_uncompressed_bytes)
