"""Cached, bounded reads from the store.

Every query takes the UI's ``Settings`` first, so the cache key names the
store, and is bounded by a limit; results are cached for a few seconds, so
browser sessions and live fragments share one query per refresh. Pages
clear a query's cache after a write that changes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from chargestream.domain.records import (
    MAX_DEVICE_VARIABLES,
    Alert,
    AlertRule,
    ChargePointState,
    ChargingProfile,
    CommandRecord,
    DeviceVariable,
    IdTag,
    InstalledChargingProfile,
    MeterValue,
    Notification,
    Registration,
    Reservation,
    SecurityEvent,
    Session,
    Site,
    StatusInterval,
    TransferStatus,
)
from chargestream.domain.settings import Settings
from chargestream.storage.base import Store
from chargestream.streams.firmware_campaigns import CampaignProgress, recent_campaigns
from chargestream.streams.progress import Progress, progress_of
from chargestream.streams.sites import SessionView, session_views
from chargestream.ui import dataframes
from chargestream.ui.data import runner

MAX_CHARGE_POINTS = 20_000
MAX_ID_TAGS = 10_000
MAX_METER_VALUES = 50_000
MAX_EXPORT = 10_000
SCAN_PAGE = 1_000
NEWEST_SCANNED = 50  # sessions Session analysis looks through for meter values
SCAN_PAGES = 20  # "energy today" sums at most 20,000 sessions
LIVE = 5  # seconds a live query stays cached
SLOW = 30


@dataclass(frozen=True)
class Energy:
    kwh: float
    sessions: int
    capped: bool  # the scan stopped at its bound; the real total is higher


@st.cache_data(ttl=LIVE, show_spinner=False)
def fleet(settings: Settings) -> pd.DataFrame:
    """Every charge point (registered or seen), see ``dataframes.fleet_frame``."""
    db = runner(settings)
    registrations = db.run(db.store.list_registrations())
    states = db.run(db.store.list_charge_point_states(MAX_CHARGE_POINTS))
    return dataframes.fleet_frame(registrations, states)


@st.cache_data(ttl=SLOW, show_spinner=False)
def energy_since(settings: Settings, since: datetime) -> Energy:
    """Energy of the sessions started since ``since``, newest first, bounded."""
    db = runner(settings)
    return db.run(_scan_energy(db.store, since))


async def _scan_energy(store: Store, since: datetime) -> Energy:
    """Finished sessions' energy plus running sessions' energy so far."""
    counted: list[Session] = []
    capped, before = True, None
    for _ in range(SCAN_PAGES):
        page = await store.recent_sessions(SCAN_PAGE, before)
        recent = [s for s in page if (moment := dataframes.session_time(s)) and moment >= since]
        counted.extend(recent)
        if len(recent) < len(page) or len(page) < SCAN_PAGE:
            capped = False
            break
        before = dataframes.session_time(page[-1])
    running = await progress_of(store, [s for s in counted if s.active], datetime.now(UTC))
    total = sum(
        (running[s.transaction_id].energy_kwh if s.active else s.energy_kwh) or 0.0 for s in counted
    )
    return Energy(total, len(counted), capped)


@st.cache_data(ttl=LIVE, show_spinner=False)
def charge_point(
    settings: Settings, charge_point_id: str
) -> tuple[Registration | None, ChargePointState | None]:
    db = runner(settings)
    return (
        db.run(db.store.get_registration(charge_point_id)),
        db.run(db.store.get_charge_point_state(charge_point_id)),
    )


@st.cache_data(ttl=LIVE, show_spinner=False)
def status_history(
    settings: Settings, charge_point_id: str, start: datetime, end: datetime
) -> list[StatusInterval]:
    db = runner(settings)
    return db.run(db.store.status_history(charge_point_id, start, end))


@st.cache_data(ttl=LIVE, show_spinner=False)
def security_events(settings: Settings, charge_point_id: str, limit: int) -> list[SecurityEvent]:
    """Newest first by the charge point's timestamp."""
    db = runner(settings)
    return db.run(db.store.security_events(charge_point_id, limit))


@st.cache_data(ttl=LIVE, show_spinner=False)
def transfer_statuses(settings: Settings, charge_point_id: str) -> list[TransferStatus]:
    db = runner(settings)
    return db.run(db.store.transfer_statuses(charge_point_id))


@st.cache_data(ttl=LIVE, show_spinner=False)
def sessions(
    settings: Settings, charge_point_id: str | None, limit: int, before: datetime | None
) -> list[Session]:
    """Newest first; one charge point's or the fleet's."""
    db = runner(settings)
    if charge_point_id is None:
        return db.run(db.store.recent_sessions(limit, before))
    return db.run(db.store.sessions_for_charge_point(charge_point_id, limit, before))


@st.cache_data(ttl=LIVE, show_spinner=False)
def live_progress(settings: Settings, sessions: list[Session]) -> dict[int, Progress]:
    """Energy, power and duration so far of each session (running ones from meter values)."""
    db = runner(settings)
    return db.run(progress_of(db.store, sessions, datetime.now(UTC)))


@st.cache_data(ttl=SLOW, show_spinner=False)
def export_sessions(settings: Settings, charge_point_id: str | None) -> str:
    """CSV of the newest ``MAX_EXPORT`` sessions, computed in the run that shows the button."""
    db = runner(settings)
    found = db.run(_scan_sessions(db.store, charge_point_id))
    return dataframes.sessions_csv(found, db.run(progress_of(db.store, found, datetime.now(UTC))))


async def _scan_sessions(store: Store, charge_point_id: str | None) -> list[Session]:
    found: list[Session] = []
    before = None
    while len(found) < MAX_EXPORT:
        if charge_point_id is None:
            page = await store.recent_sessions(SCAN_PAGE, before)
        else:
            page = await store.sessions_for_charge_point(charge_point_id, SCAN_PAGE, before)
        found.extend(page)
        if len(page) < SCAN_PAGE:
            break
        before = dataframes.session_time(page[-1])
    return found[:MAX_EXPORT]


@st.cache_data(ttl=LIVE, show_spinner=False)
def session(settings: Settings, transaction_id: int) -> Session | None:
    db = runner(settings)
    return db.run(db.store.get_session(transaction_id))


@st.cache_data(ttl=LIVE, show_spinner=False)
def newest_metered_session(settings: Settings) -> int | None:
    """The newest of the ``NEWEST_SCANNED`` newest sessions with meter values (a session
    that has just started has none yet), else the newest session; None without sessions."""
    db = runner(settings)
    newest = db.run(db.store.recent_sessions(NEWEST_SCANNED, None))
    for session in newest:
        if db.run(db.store.meter_values(session.transaction_id, 1)):
            return session.transaction_id
    return newest[0].transaction_id if newest else None


@st.cache_data(ttl=LIVE, show_spinner=False)
def meter_values(settings: Settings, transaction_id: int) -> list[MeterValue]:
    db = runner(settings)
    return db.run(db.store.meter_values(transaction_id, MAX_METER_VALUES))


@st.cache_data(ttl=LIVE, show_spinner=False)
def alerts(
    settings: Settings, open_only: bool, limit: int, before: datetime | None = None
) -> list[Alert]:
    db = runner(settings)
    return db.run(db.store.alerts(open_only, limit, before))


@st.cache_data(ttl=LIVE, show_spinner=False)
def alert_rules(settings: Settings) -> list[AlertRule]:
    db = runner(settings)
    return db.run(db.store.list_alert_rules())


@st.cache_data(ttl=LIVE, show_spinner=False)
def notification_channels(settings: Settings) -> list[dict[str, Any]]:
    """The channels as table rows: whether a channel has a secret, never the secret."""
    db = runner(settings)
    return dataframes.channel_rows(db.run(db.store.notification_channels()))


@st.cache_data(ttl=LIVE, show_spinner=False)
def notifications(settings: Settings, limit: int) -> list[Notification]:
    db = runner(settings)
    return db.run(db.store.notifications(limit))


@st.cache_data(ttl=LIVE, show_spinner=False)
def id_tags(settings: Settings) -> list[IdTag]:
    db = runner(settings)
    return db.run(db.store.list_id_tags(MAX_ID_TAGS))


@st.cache_data(ttl=LIVE, show_spinner=False)
def commands(settings: Settings, charge_point_id: str | None, limit: int) -> list[CommandRecord]:
    db = runner(settings)
    return db.run(db.store.commands(charge_point_id, limit))


@st.cache_data(ttl=LIVE, show_spinner=False)
def firmware_campaigns(settings: Settings, limit: int) -> list[CampaignProgress]:
    """The newest campaigns first, each with every target's progress now."""
    db = runner(settings)
    return db.run(recent_campaigns(db.store, limit, datetime.now(UTC)))


@st.cache_data(ttl=LIVE, show_spinner=False)
def reservations(settings: Settings, charge_point_id: str | None, limit: int) -> list[Reservation]:
    """Newest requested first, as stored (``Reservation.as_of`` gives the status now)."""
    db = runner(settings)
    return db.run(db.store.reservations(charge_point_id, limit))


@st.cache_data(ttl=LIVE, show_spinner=False)
def charging_profiles(settings: Settings) -> list[ChargingProfile]:
    """The defined charging profiles by id."""
    db = runner(settings)
    return db.run(db.store.charging_profiles())


@st.cache_data(ttl=LIVE, show_spinner=False)
def installed_profiles(settings: Settings, charge_point_id: str) -> list[InstalledChargingProfile]:
    """A charge point's installed charging profiles (and those removed since)."""
    db = runner(settings)
    return db.run(db.store.installed_charging_profiles(charge_point_id))


@st.cache_data(ttl=LIVE, show_spinner=False)
def device_variables(settings: Settings, charge_point_id: str) -> list[DeviceVariable]:
    """A charge point's whole device model (OCPP 2.0.1), by component then variable."""
    db = runner(settings)
    return db.run(db.store.device_variables(charge_point_id, limit=MAX_DEVICE_VARIABLES))


@st.cache_data(ttl=LIVE, show_spinner=False)
def sites(settings: Settings) -> list[Site]:
    db = runner(settings)
    return db.run(db.store.list_sites())


@st.cache_data(ttl=LIVE, show_spinner=False)
def site_sessions(settings: Settings, site_id: str) -> list[SessionView]:
    """The site's open sessions with the allocation decided and the power measured."""
    db = runner(settings)
    return db.run(_site_sessions(db.store, site_id))


async def _site_sessions(store: Store, site_id: str) -> list[SessionView]:
    site = await store.get_site(site_id)
    return [] if site is None else await session_views(store, site)
