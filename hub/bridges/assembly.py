"""The bridges as one bundle built from the settings (hub/state.py holds it).

A bridge whose variables are unset is off: its endpoints answer 404 and its lanes' messages
wait in the outbox until it is configured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from hub.audit.log import AuditLog
from hub.bot.replies import Bot
from hub.bridges.inbound import BridgeInbound, Submit
from hub.bridges.integrations import IntegrationAuth, TableIntegrations
from hub.bridges.mattermost_format import ContextSigner, MattermostFormat
from hub.bridges.senders import CallbackSender, MattermostSender, Sender, SlackSender
from hub.bridges.service import BridgeService
from hub.settings import Settings
from protocol import Message

ACTIONS_PATH = "/api/mattermost/actions"


def context_key(signing_key: Ed25519PrivateKey) -> bytes:
    """The Mattermost context key, derived from the hub's signing key: every hub of a site
    has the same signing key (agents check it), so every hub verifies every button."""
    return hashlib.sha256(
        b"guardia mattermost context\n" + signing_key.private_bytes_raw()
    ).digest()


@dataclass
class Bridges:
    service: BridgeService
    inbound: BridgeInbound
    integrations: IntegrationAuth
    #: None: the Slack bridge is off
    slack_verifier: SignatureVerifier | None
    mattermost: MattermostSender | None
    mattermost_tokens: frozenset[str]
    mattermost_signer: ContextSigner


def build_bridges(
    settings: Settings,
    signing_key: Ed25519PrivateKey,
    sessions: async_sessionmaker[AsyncSession],
    *,
    submit: Submit,
    bot: Bot,
    audit: AuditLog,
    integrations: IntegrationAuth | None = None,
    on_chat: Callable[[Message], None] | None = None,
) -> Bridges:
    integrations = integrations or TableIntegrations(sessions)
    senders: dict[str, Sender] = {"messenger": CallbackSender(integrations)}
    if settings.slack_bot_token is not None:
        senders["slack"] = SlackSender(
            settings.slack_bot_token.get_secret_value(), settings.slack_api_url
        )
    signer = ContextSigner(context_key(signing_key))
    mattermost = None
    if settings.mattermost_url and settings.mattermost_token is not None:
        action_url = settings.public_url.rstrip("/") + ACTIONS_PATH if settings.public_url else None
        mattermost = MattermostSender(
            settings.mattermost_url,
            settings.mattermost_token.get_secret_value(),
            MattermostFormat(signer, action_url),
        )
        senders["mattermost"] = mattermost
    service = BridgeService(
        sessions,
        senders,
        integrations,
        poll=settings.bridge_poll_interval,
        retry_max=settings.bridge_retry_max,
    )
    secret = settings.slack_signing_secret
    raw_tokens = settings.mattermost_webhook_tokens
    tokens = raw_tokens.get_secret_value().split(",") if raw_tokens is not None else []
    return Bridges(
        service=service,
        inbound=BridgeInbound(
            sessions=sessions,
            submit=submit,
            bot=bot,
            audit=audit,
            service=service,
            on_chat=on_chat,
        ),
        integrations=integrations,
        slack_verifier=SignatureVerifier(secret.get_secret_value()) if secret else None,
        mattermost=mattermost,
        mattermost_tokens=frozenset(t.strip() for t in tokens if t.strip()),
        mattermost_signer=signer,
    )
