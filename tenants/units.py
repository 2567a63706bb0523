"""Administrative units over time: which version of a code is valid on a day, and which units of
today a unit of the past became (docs/domain.md §12).

A unit is keyed by ``(code, valid_from)``: codes are reused (after the 2025 reform the new phường
Lào Cai carries ``02647``, the code of the old phường Kim Tân). A unit that ended names the units
that took it over the next day in ``successor_codes`` (a merge names one, a split several, a
rename the same area under another name). Statistics can count reports by the unit of the
report's time (``report.unit_code``) or by today's units: :meth:`UnitHistory.today_codes` is the
mapping (the statistics domain calls it; it owns no copy of the rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tenants.models import AdministrativeUnit

# Legal dates of administrative acts are Vietnamese calendar days.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def legal_day(at: datetime | date) -> date:
    """The Vietnamese calendar day of an instant (a date is taken as it is)."""
    if isinstance(at, datetime):
        return at.astimezone(VIETNAM).date()
    return at


def valid_on(valid_from: date | None, valid_to: date | None, day: date) -> bool:
    """Is a period with inclusive, optional ends in force on ``day``?"""
    return (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)


@dataclass(frozen=True)
class UnitVersion:
    code: str
    name: str
    valid_from: date | None
    valid_to: date | None
    successor_codes: tuple[str, ...]

    def valid_on(self, day: date) -> bool:
        return valid_on(self.valid_from, self.valid_to, day)


class UnitHistory:
    """Every version of every unit, loaded once (a few thousand rows for a province), for
    mapping many reports without a query each."""

    def __init__(self, versions: Iterable[UnitVersion]) -> None:
        self._by_code: dict[str, list[UnitVersion]] = {}
        for v in versions:
            self._by_code.setdefault(v.code, []).append(v)
        for listed in self._by_code.values():
            listed.sort(key=lambda v: v.valid_from or date.min)

    @classmethod
    async def load(cls) -> UnitHistory:
        rows = await AdministrativeUnit.all().values(
            "code", "name", "valid_from", "valid_to", "successor_codes"
        )
        return cls(
            UnitVersion(
                r["code"],
                r["name"],
                r["valid_from"],
                r["valid_to"],
                tuple(r["successor_codes"] or ()),
            )
            for r in rows
        )

    def knows(self, code: str) -> bool:
        """Is ``code`` the code of any unit, of any period?"""
        return code in self._by_code

    def descendants(self, code: str) -> set[str]:
        """``code`` and every unit that took it over, through every reform since, whatever the
        dates (a split of the unit names several)."""
        found: set[str] = set()
        pending = [code]
        while pending:
            current = pending.pop()
            if current in found:
                continue
            found.add(current)
            for v in self._by_code.get(current, ()):
                pending.extend(v.successor_codes)
        return found

    def latest(self, code: str) -> UnitVersion | None:
        """The most recent version of ``code`` (None: an unknown code)."""
        listed = self._by_code.get(code)
        return listed[-1] if listed else None

    def name(self, code: str, day: date) -> str | None:
        """The unit's name on ``day``, or its latest (None: an unknown code)."""
        version = self.version(code, day) or self.latest(code)
        return version.name if version else None

    def version(self, code: str, day: date) -> UnitVersion | None:
        """The version of ``code`` in force on ``day`` (None: the code meant nothing then)."""
        for v in self._by_code.get(code, ()):
            if v.valid_on(day):
                return v
        return None

    def today_codes(
        self, code: str, on: datetime | date, today: datetime | date
    ) -> tuple[str, ...]:
        """The units of ``today`` that the unit ``code`` of day ``on`` became, following its
        successors through every reform in between (sorted, without repeats).

        A unit still in force maps to itself; one that ended without a recorded successor maps
        to itself too (its history is kept, nothing is invented); a split maps to all its
        parts: the caller that needs one unit per report uses the report's point (the
        locator at ``today``)."""
        day, until = legal_day(on), legal_day(today)
        found: set[str] = set()
        seen: set[tuple[str, date]] = set()
        pending: list[tuple[str, date]] = [(code, day)]
        while pending:
            current, when = pending.pop()
            if (current, when) in seen:
                continue
            seen.add((current, when))
            version = self.version(current, when)
            if version is None or version.valid_on(until) or not version.successor_codes:
                found.add(current)
                continue
            assert version.valid_to is not None  # it ended before ``until``
            after = version.valid_to + timedelta(days=1)
            pending.extend((successor, after) for successor in version.successor_codes)
        return tuple(sorted(found))

    def today_keys(self, today: datetime | date) -> dict[str, str]:
        """For grouping by today's units in SQL: each code whose latest version has ended,
        mapped to the key of the units of ``today`` it became (``"03006"``; a split joins its
        parts: ``"03010+03011"``). A code in force today is its own key and is left out, also
        when an earlier version of it ended: a reused code names its successor (each code the
        2025 reform reused was one of its new unit's predecessors)."""
        out: dict[str, str] = {}
        until = legal_day(today)
        for code, versions in self._by_code.items():
            latest = versions[-1]
            if latest.valid_to is None or latest.valid_on(until):
                continue
            became = self.today_codes(code, latest.valid_to, today)
            if became != (code,):
                out[code] = "+".join(became)
        return out
