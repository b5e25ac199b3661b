"""The dashboard's access to the store: one open Store on a private event loop.

``Store`` is async and Streamlit scripts are not, so each UI process runs
one asyncio loop in a daemon thread (held by ``st.cache_resource``) and
submits coroutines to it. The back end is chosen by the composition root, whose
entry script hands its store factory to ``use_store_factory`` on every run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import streamlit as st

from chargestream.domain.settings import Settings
from chargestream.storage.base import Store

T = TypeVar("T")

QUERY_TIMEOUT = 30.0  # seconds; a store that does not answer fails the page, not the process


StoreFactory = Callable[[Settings], Store]
"""Builds the (not yet opened) Store of a deployment from its settings."""

_store_factory: StoreFactory | None = None


def use_store_factory(factory: StoreFactory) -> None:
    """Set the factory ``runner`` opens the process's store with (the entry script calls this)."""
    global _store_factory
    _store_factory = factory


class StoreRunner:
    """An open Store and the event loop thread its coroutines run on."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ui-store-loop", daemon=True
        )
        self._thread.start()
        try:
            self.run(store.open())
        except BaseException:
            self._stop_loop()
            raise

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = QUERY_TIMEOUT) -> T:
        """Run ``coroutine`` on the store's loop and wait for its result (thread-safe)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def close(self) -> None:
        try:
            self.run(self.store.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def settings() -> Settings:
    """The settings of this UI process, read from ``CHARGESTREAM_*`` variables."""
    return Settings.from_env()


@st.cache_resource(show_spinner=False, on_release=StoreRunner.close)
def runner(settings: Settings) -> StoreRunner:
    """The process-wide StoreRunner of the store these settings name."""
    if _store_factory is None:
        raise RuntimeError("no store factory: start the dashboard through its entry script")
    return StoreRunner(_store_factory(settings))
