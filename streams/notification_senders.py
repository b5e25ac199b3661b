"""Sending one notification: a signed JSON webhook (httpx) or an e-mail (smtplib, in a thread).

A failure is a ``DeliveryError`` whose text names what went wrong without the channel's
secret or the SMTP password, so it can be kept in the delivery log.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from email.message import EmailMessage
from typing import Any

import httpx
import orjson

from chargestream.domain.notifications import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    subject,
    text_body,
)
from chargestream.domain.records import ChannelKind, NotificationChannel
from chargestream.domain.settings import PREFIX, Settings

TIMEOUT = 10.0  # seconds for one webhook request or SMTP conversation


class DeliveryError(RuntimeError):
    """One attempt failed; the text is safe to log and keep."""


class Senders:
    def __init__(self, settings: Settings, timeout: float = TIMEOUT) -> None:
        self._settings = settings
        self._timeout = timeout

    async def send(self, channel: NotificationChannel, message: dict[str, Any]) -> None:
        if channel.kind is ChannelKind.WEBHOOK:
            await self._post(channel, message)
        else:
            await asyncio.to_thread(self._mail, channel.target, message)

    async def _post(self, channel: NotificationChannel, message: dict[str, Any]) -> None:
        if not channel.target.startswith(("http://", "https://")):
            raise DeliveryError("the webhook URL is not http(s)")
        body = orjson.dumps(message)
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(timestamp)}
        if channel.secret:
            headers[SIGNATURE_HEADER] = sign(channel.secret, timestamp, body)
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(channel.target, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"webhook: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise DeliveryError(f"webhook: HTTP {response.status_code}")

    def _mail(self, to: str, message: dict[str, Any]) -> None:
        settings = self._settings
        if settings.smtp_host is None:
            raise DeliveryError(f"e-mail: {PREFIX}SMTP_HOST is not set")
        mail = EmailMessage()
        mail["From"] = settings.smtp_from
        mail["To"] = to
        mail["Subject"] = subject(message)
        mail.set_content(text_body(message))
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=self._timeout
            ) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.smtp_user is not None:
                    smtp.login(settings.smtp_user, settings.smtp_password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"e-mail: {type(error).__name__}") from None
