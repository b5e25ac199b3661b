"""The controllers one derivation process runs (streams/control.py), wired to its store
and to the command path it sends through: the gateway in-process (embedded) or Kafka
to the node holding the charge point (a stack worker)."""

from __future__ import annotations

from chargestream.domain.commands import CsmsSend
from chargestream.domain.settings import Settings
from chargestream.storage.base import Store
from chargestream.streams.control import Controllers
from chargestream.streams.firmware_campaigns import FirmwareCampaigns
from chargestream.streams.local_lists import LocalListController
from chargestream.streams.notification_senders import Senders
from chargestream.streams.notifications import Notifier
from chargestream.streams.sites import SiteController


def build_controllers(settings: Settings, store: Store, send: CsmsSend) -> Controllers:
    return Controllers(
        [
            LocalListController(store, send),
            SiteController(store, send),
            FirmwareCampaigns(store, send),
            Notifier(store, Senders(settings).send),
        ]
    )
