"""The agency ranking of a period (``agencyRanking``): by on-time rate, with a minimum-volume
guard so that an agency with a handful of finished reports is listed, not ranked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from stats.indicators import Figures
from stats.queries import Statistics


@dataclass(frozen=True)
class Ranked:
    agency_id: uuid.UUID | None
    figures: Figures
    rank: int | None  # None: fewer than the minimum of finished reports (listed, not ranked)


def rank_agencies(stats: Statistics, minimum: int) -> list[Ranked]:
    """Agencies by on-time rate (then volume); below ``minimum`` finished reports: unranked."""
    ranked = sorted(
        (g for g in stats.groups if g[1].finished >= minimum and g[1].on_time_rate is not None),
        key=lambda g: (-(g[1].on_time_rate or 0), -g[1].finished),
    )
    out = [Ranked(a, f, i + 1) for i, (a, f) in enumerate(ranked)]
    seen = {a for a, _ in ranked}
    out += [Ranked(a, f, None) for a, f in stats.groups if a not in seen]
    return out
