"""A tiny per-station random generator.

``random.Random`` carries about 2.5 kB of Mersenne Twister state, which adds
up over 20,000 stations; SplitMix64 needs one integer. Seeding it with the
fleet seed and the station number makes each station reproducible no matter
how stations are split over processes or scheduled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_MASK = (1 << 64) - 1


class Rng:
    __slots__ = ("_state",)

    def __init__(self, seed: int, stream: int) -> None:
        self._state = (seed * 0x9E3779B97F4A7C15 ^ stream * 0xD1B54A32D192ED03) & _MASK

    def random(self) -> float:
        """A float in [0, 1)."""
        self._state = z = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return ((z ^ (z >> 31)) >> 11) * 2.0**-53

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def choice(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def expovariate(self, rate: float) -> float:
        """Waiting time of a Poisson process with ``rate`` events per unit of time."""
        return -math.log(1.0 - self.random()) / rate
