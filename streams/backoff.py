"""Waiting between retries of a write the store refused."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays of ``first`` seconds, doubling up to ``most``, until ``reset``."""

    first: float = 0.5
    most: float = 10.0
    delay: float = field(init=False)

    def __post_init__(self) -> None:
        self.delay = self.first

    async def wait(self) -> None:
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, self.most)

    def reset(self) -> None:
        self.delay = self.first
