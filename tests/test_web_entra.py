"""Signing in with the council's Microsoft Entra ID, against a real OpenID provider on 127.0.0.1
(fake_oidc.py) with the real Authlib client: the code flow with its state and nonce, the client secret, the
signed ID token; then kpibot's own rules (the council's tenant, a registered commissioner)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fake_oidc import CLIENT_ID, CLIENT_SECRET, TENANT, Provider, serve
from intake_fixtures import ALICE
from sqlmodel import Session, col, select
from starlette.testclient import TestClient
from web_fixtures import CAROL, Workspace

from bot import config
from bot.storage.models import AuditEvent

COUNCIL_ONLY = "Providers sign in with a link sent by email or Telegram"


@pytest.fixture
def provider() -> Iterator[Provider]:
    yield from serve()


@pytest.fixture
def entra(workspace: Workspace, provider: Provider) -> Workspace:
    """The workspace with Entra ID sign-in set up for the fake provider's tenant, its secret from the environment."""
    s = workspace.app.settings
    workspace.app.settings = s.model_copy(update={
        "web": s.web.model_copy(update={"oidc_tenant": TENANT, "oidc_client_id": CLIENT_ID,
                                        "oidc_metadata_url": provider.metadata_url}),
        "web_oidc_client_secret": CLIENT_SECRET})
    return workspace


def through_microsoft(client: TestClient) -> httpx.Response:
    """Press "Sign in with your council account", let the provider answer, and follow it back to kpibot."""
    started = client.get("/sign-in/entra")
    assert started.status_code == 302, started.text
    answer = httpx.get(started.headers["location"], follow_redirects=False)  # the provider, over real HTTP
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    assert back.path == "/sign-in/entra/callback"
    return client.get(f"{back.path}?{back.query}")


def test_a_commissioner_signs_in_with_the_council_account(entra: Workspace, provider: Provider) -> None:
    client = entra.client()
    page = client.get("/sign-in")
    assert "Sign in with your council account" in page.text
    provider.sign_in_as(CAROL.upper())  # Entra ID keeps the case the account was made with
    done = through_microsoft(client)
    assert (done.status_code, done.headers["location"]) == (303, "/")
    overview = client.get("/overview")
    assert overview.status_code == 200 and "Overview" in overview.text
    with Session(entra.engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "web_signed_in")
                             .order_by(col(AuditEvent.id).desc())).first()
    assert event is not None and event.detail == {"how": "entra"}


def test_the_request_carries_state_nonce_and_the_return_address(entra: Workspace, provider: Provider) -> None:
    started = entra.client().get("/sign-in/entra")
    asked = parse_qs(urlsplit(started.headers["location"]).query)
    assert asked["client_id"] == [CLIENT_ID] and asked["response_type"] == ["code"]
    assert asked["redirect_uri"] == [entra.app.settings.web.base_url + "/sign-in/entra/callback"]
    assert "openid" in asked["scope"][0].split() and asked["state"][0] and asked["nonce"][0]


@pytest.mark.parametrize(("who", "tenant", "status", "says"), [
    ("someone.else@example-council.example", TENANT, 403, "is not registered with kpibot"),
    (ALICE, TENANT, 403, COUNCIL_ONLY),  # a provider's person, even if the directory had them
    (CAROL, "0b9c7e1f-1111-4c2d-8e3f-9a8b7c6d5e4f", 403, "belongs to another organisation"),
])
def test_only_the_councils_registered_commissioners_get_in(entra: Workspace, provider: Provider, who: str,
                                                          tenant: str, status: int, says: str) -> None:
    client = entra.client()
    provider.sign_in_as(who, tid=tenant)
    refused = through_microsoft(client)
    assert refused.status_code == status and says in refused.text
    assert client.get("/overview").status_code == 303  # still signed out: off to the sign-in page


def test_a_token_signed_with_another_key_signs_nobody_in(entra: Workspace, provider: Provider) -> None:
    client = entra.client()
    provider.sign_in_as(CAROL)
    provider.forge = True
    refused = through_microsoft(client)
    assert refused.status_code == 400 and "was not completed" in refused.text
    assert "Traceback" not in refused.text and client.get("/overview").status_code == 303


def test_a_token_for_another_application_signs_nobody_in(entra: Workspace, provider: Provider) -> None:
    client = entra.client()
    provider.sign_in_as(CAROL)
    provider.audience = "another-app"
    assert through_microsoft(client).status_code == 400
    assert client.get("/overview").status_code == 303


def test_a_callback_from_another_browser_or_replayed_is_refused(entra: Workspace, provider: Provider) -> None:
    """The state lives in the browser's signed session: an answer meant for another browser (a login CSRF) or
    the same answer twice signs nobody in."""
    victim, attacker = entra.client(), entra.client()
    provider.sign_in_as(CAROL)
    started = attacker.get("/sign-in/entra")
    back = urlsplit(httpx.get(started.headers["location"], follow_redirects=False).headers["location"])
    assert victim.get(f"{back.path}?{back.query}").status_code == 400
    assert victim.get("/overview").status_code == 303
    assert attacker.get(f"{back.path}?{back.query}").status_code == 303  # the browser that asked: signed in
    assert entra.client().get(f"{back.path}?{back.query}").status_code == 400  # and the code is spent


def test_cancelling_at_microsoft_says_so(entra: Workspace, provider: Provider) -> None:
    provider.error = "access_denied"
    answer = through_microsoft(entra.client())
    assert answer.status_code == 400 and "You cancelled signing in" in answer.text


def test_microsoft_unreachable_gets_a_plain_page(entra: Workspace, provider: Provider) -> None:
    s = entra.app.settings
    entra.app.settings = s.model_copy(update={"web": s.web.model_copy(
        update={"oidc_metadata_url": "http://127.0.0.1:9/{tenant}/v2.0/.well-known/openid-configuration"})})
    answer = entra.client().get("/sign-in/entra")
    assert answer.status_code == 502 and "cannot be reached just now" in answer.text


def test_without_entra_id_there_is_no_such_page(workspace: Workspace) -> None:
    client = workspace.client()
    assert "council account" not in client.get("/sign-in").text
    assert client.get("/sign-in/entra").status_code == 404
    assert client.get("/sign-in/entra/callback?code=x&state=y").status_code == 404


def test_the_client_secret_comes_from_the_environment_or_the_settings_say_which(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from intake_fixtures import DEPLOYMENT

    path = tmp_path / "config.toml"
    path.write_text(DEPLOYMENT + f'\n[web]\noidc_tenant = "{TENANT}"\noidc_client_id = "{CLIENT_ID}"\n',
                    encoding="utf-8")
    with pytest.raises(config.ConfigError, match="KPIBOT_WEB_OIDC_CLIENT_SECRET"):
        config.load(path, environ={})
    settings = config.load(path, environ={"KPIBOT_WEB_OIDC_CLIENT_SECRET": CLIENT_SECRET})
    assert settings.web.oidc_enabled and CLIENT_SECRET not in repr(settings)
    path.write_text(DEPLOYMENT + f'\n[web]\noidc_client_id = "{CLIENT_ID}"\nweb_oidc_client_secret = "x"\n',
                    encoding="utf-8")
    with pytest.raises(config.ConfigError, match="must not be in the file"):
        config.load(path, environ={})
