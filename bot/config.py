"""Settings: `config.toml` read once at start-up into a frozen, validated object.

Nothing else in kpibot reads config files or the environment. Secrets (bot token, mail passwords) come only from
environment variables; the database URL may come from `DATABASE_URL`. A bad value fails at start-up naming the key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.settings import kept, redaction
from bot.settings.base import Model
from bot.settings.channels import Email, Telegram
from bot.settings.frameworks import Frameworks
from bot.settings.limits import Intake, Outbox, Reports
from bot.settings.meetings import Meetings
from bot.settings.people import Contact, Contract, Organisation
from bot.settings.plans import Plans
from bot.settings.review import Review
from bot.settings.scheduler import Scheduler
from bot.settings.storage import Storage
from bot.settings.teams import TeamsChannel, url_problem, webhook_urls
from bot.settings.web import Web
from kpi_core import loader, plain_errors
from kpi_core.framework_cache import FrameworkCache
from kpi_core.returns.safety import Limits

DEFAULT_PATH = Path("config.toml")


class ConfigError(ValueError):
    """The configuration is unreadable or invalid; the message names the file and keys."""


class Settings(Model):
    timezone: str = "Europe/London"
    storage: Storage = Field(default_factory=Storage)
    intake: Intake = Field(default_factory=Intake)
    reports: Reports = Field(default_factory=Reports)
    email: Email = Field(default_factory=Email)
    telegram: Telegram = Field(default_factory=Telegram)
    outbox: Outbox = Field(default_factory=Outbox)
    scheduler: Scheduler = Field(default_factory=Scheduler)
    web: Web = Field(default_factory=Web)  # the web workspace (bot/settings/web.py)
    review: Review = Field(default_factory=Review)
    frameworks: Frameworks = Field(default_factory=Frameworks)
    plans: Plans = Field(default_factory=Plans)
    meetings: Meetings = Field(default_factory=Meetings)
    organisations: tuple[Organisation, ...] = ()
    contracts: tuple[Contract, ...] = ()
    contacts: tuple[Contact, ...] = ()
    teams: tuple[TeamsChannel, ...] = ()  # Microsoft Teams channels (bot/settings/teams.py)
    # Secrets: from the environment only, never from the file.
    telegram_token: str = Field(default="", exclude=True, repr=False)
    smtp_password: str = Field(default="", exclude=True, repr=False)
    imap_password: str = Field(default="", exclude=True, repr=False)
    oauth_client_secret: str = Field(default="", exclude=True, repr=False)
    web_secret: str = Field(default="", exclude=True, repr=False)  # signs the web workspace's session cookies
    web_oidc_client_secret: str = Field(default="", exclude=True, repr=False)  # the Entra ID app's secret
    teams_urls: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)  # by [[teams]] name
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
        problems += self._teams_problems()
        if self.web.oidc_enabled and not self.web_oidc_client_secret:
            problems.append("web: oidc_client_id is set, so the Entra ID app's client secret must be set too, in "
                            "the environment variable KPIBOT_WEB_OIDC_CLIENT_SECRET")
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

    def _teams_problems(self) -> list[str]:
        """What is wrong with the `[[teams]]` entries: names, organisations, contracts, and the URLs found."""
        problems = []
        for kind, values in (("name", [t.name for t in self.teams]), ("url_env", [t.url_env for t in self.teams])):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                problems.append(f"teams: {kind} {', '.join(dupes)} appears more than once (one entry per channel)")
        orgs = {o.id for o in self.organisations}
        for index, entry in enumerate(self.teams):
            where = f"teams #{index + 1} (name {entry.name!r})"
            if entry.organisation not in orgs:
                problems.append(f"{where}: organisation: {entry.organisation!r} is not in organisations")
            for cid in entry.contracts:
                mine = [c for c in self.contracts if c.id == cid and entry.organisation in (c.provider, c.commissioner)]
                if not mine:
                    problems.append(f"{where}: contracts: {cid!r} is not a contract of {entry.organisation!r}")
            url = self.teams_urls.get(entry.name, "")
            if url and url_problem(url):
                problems.append(f"{where}: url_env: {entry.url_env} {url_problem(url)}")
        seen: dict[str, str] = {}
        for entry in self.teams:
            url = self.teams_urls.get(entry.name, "")
            if url in seen:
                problems.append(f"teams: {seen[url]} and {entry.name} hold the same webhook URL; one entry per webhook, "
                                "or each notice would be posted twice")
            elif url:
                seen[url] = entry.name
        return problems

    def reachable_teams(self) -> tuple[TeamsChannel, ...]:
        """The [[teams]] entries kpibot can post to: their URL is set in the environment."""
        return tuple(t for t in self.teams if self.teams_urls.get(t.name))

    def contract(self, contract_id: str) -> Contract:
        for contract in self.contracts:
            if contract.id == contract_id:
                return contract
        known = ", ".join(c.id for c in self.contracts) or "(none configured)"
        raise ConfigError(f"unknown contract {contract_id!r}; configured: {known}")

    def organisation(self, org_id: str) -> Organisation:
        return next(o for o in self.organisations if o.id == org_id)


SECRET_ENV = {"telegram_token": "KPIBOT_TELEGRAM_TOKEN", "smtp_password": "KPIBOT_SMTP_PASSWORD",
              "imap_password": "KPIBOT_IMAP_PASSWORD", "oauth_client_secret": "KPIBOT_OAUTH_CLIENT_SECRET",
              "web_secret": "KPIBOT_WEB_SECRET", "web_oidc_client_secret": "KPIBOT_WEB_OIDC_CLIENT_SECRET"}


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
    section = data.get("email")
    email = section if isinstance(section, dict) else {}
    found = data.get("web")
    web = found if isinstance(found, dict) else {}
    leaked = sorted(k for k in SECRET_ENV if k in data or k in email or k in web)  # where one might put a secret
    if "teams_urls" in data:
        raise ConfigError(f"{path}: teams_urls must not be in the file; each [[teams]] entry names the environment "
                          "variable holding its URL (url_env)")
    if leaked:
        raise ConfigError(f"{path}: {', '.join(leaked)} must not be in the file; set "
                          f"{', '.join(SECRET_ENV[k] for k in leaked)} in the environment instead")
    loader.use_cache(framework_cache_folder(env))
    _use_frameworks(path, data)
    from_env = bool(env.get("DATABASE_URL"))
    if from_env:
        data.setdefault("storage", {})
        data["storage"] = {**data["storage"], "database_url": env["DATABASE_URL"]}
    shown = dict(data)
    data.update({key: env.get(var, "") for key, var in SECRET_ENV.items()})
    data["teams_urls"] = webhook_urls(data.get("teams"), env)
    keep = _keeping(env, data)
    settings = keep[0].get(keep[1]) if keep else None
    if isinstance(settings, Settings):  # validated before, secrets blanked: they are the environment's again
        settings = settings.model_copy(update={key: data[key] for key in SECRET_ENV})
    else:
        settings = _validated(path, data, shown, from_env)
        if keep:
            keep[0].put(keep[1], settings.model_copy(update=dict.fromkeys(SECRET_ENV, "")))
    # Paths in the file mean the same wherever kpibot runs from: `--config /srv/kpibot/config.toml status` from
    # another folder must find the same database, not create an empty one. DATABASE_URL is read like any path
    # given on the command line, from the current folder.
    password = _password(settings.storage.database_url)
    redaction.register(*(getattr(settings, key) for key in SECRET_ENV), *settings.teams_urls.values(), password,
                       unquote(password))
    base = path.absolute().parent
    storage = settings.storage.resolved(base, Path.cwd() if from_env else base)
    frameworks = settings.frameworks.model_copy(update={"folder": frameworks_folder_of(path, data)})
    return settings.model_copy(update={"source": str(path), "storage": storage, "frameworks": frameworks})


def _keeping(env: dict[str, str], data: dict[str, Any]) -> tuple[FrameworkCache, str] | None:
    """Where the validation of `data` is kept between runs and under what (bot/settings/kept.py); None when it must
    not be: no cache folder, or its validation reads a secret's value (a Teams webhook URL) or it holds one (a
    database URL with a password)."""
    folder = framework_cache_folder(env)
    storage = data.get("storage")
    url = storage.get("database_url") if isinstance(storage, dict) else None
    if folder is None or data["teams_urls"] or (isinstance(url, str) and _password(url)):
        return None
    return FrameworkCache(folder.with_name("settings")), kept.entry_text(data, SECRET_ENV)


def _validated(path: Path, data: dict[str, Any], shown: dict[str, Any], from_env: bool) -> Settings:
    """`data` validated as Settings, or ConfigError naming the file and every bad key (`shown`: the file's own)."""
    try:
        return Settings.model_validate(data)
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


def framework_cache_folder(env: dict[str, str]) -> Path | None:
    """Where checked frameworks are kept between runs: $KPIBOT_CACHE_DIR (empty: nowhere), else the user's cache
    folder ($XDG_CACHE_HOME/kpibot or ~/.cache/kpibot); nowhere when the environment names no home."""
    if "KPIBOT_CACHE_DIR" in env:
        return Path(env["KPIBOT_CACHE_DIR"]) / "frameworks" if env["KPIBOT_CACHE_DIR"] else None
    base = env.get("XDG_CACHE_HOME") or (str(Path(env["HOME"]) / ".cache") if env.get("HOME") else "")
    return Path(base) / "kpibot" / "frameworks" if base else None


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


def _password(database_url: str) -> str:
    """The password in a database URL, if it has one (it is a secret like the others)."""
    scheme, found, rest = database_url.partition("://")
    credentials = rest.rsplit("@", 1)[0] if found and "@" in rest else ""
    return credentials.partition(":")[2]


def read_limits(settings: Settings) -> Limits:
    """How much kpibot reads from one received file, from the [intake] settings."""
    return Limits(max_bytes=settings.intake.max_upload_bytes,
                  max_uncompressed_bytes=settings.intake.max_uncompressed_bytes)
