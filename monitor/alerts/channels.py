"""Senders for the configured alert channels (`alerts.channels`). Holds no business logic."""

from __future__ import annotations

from monitor.alerts.dispatch import Sender
from monitor.alerts.email import EmailSender
from monitor.alerts.slack import SlackSender
from monitor.config import AlertSettings, AppriseChannel, EmailChannel, SlackChannel


def build_channels(settings: AlertSettings) -> dict[str, Sender]:
    """One sender per configured channel, by channel name."""
    senders: dict[str, Sender] = {}
    for name, channel in settings.channels.items():
        if isinstance(channel, SlackChannel):
            senders[name] = SlackSender(name, channel)
        elif isinstance(channel, EmailChannel):
            senders[name] = EmailSender(name, channel)
        elif isinstance(channel, AppriseChannel):
            # Imported only when used: Apprise loads its plugin catalogue on import.
            from monitor.alerts.apprise_channel import AppriseSender

            senders[name] = AppriseSender(name, channel)
    return senders
