"""Official working-day calendars: which days count when a deadline is given in working days.

A calendar is data (``xinyong/charter/calendars/<name>-<year>.yaml``), one file per year, each citing the
notice that fixed it: China's State Council announces every year its public holidays and the make-up
working days (调休) that move weekends, so no rule of thumb gives the right answer (three working days
from 2026-09-30 end on Saturday 2026-10-10, a make-up working day). A day in a year no file covers is
refused with :class:`CalendarNotCovered` instead of guessed: a deadline computed as Monday-to-Friday
could fall inside a holiday and cut a subject's window short.

A policy names its calendar (``procedure.calendar``, default ``cn``); the procedure code takes the
calendar as a parameter, so a policy for another jurisdiction can ship and name its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from xinyong.model.base import Frozen
from xinyong.model.errors import InvalidInput, PolicyError
from xinyong.policy.source import SourceDoc, parse_yaml

DEFAULT_CALENDAR = "cn"
_REST_WEEKDAYS = frozenset({5, 6})  # Saturday, Sunday


# Validators are built when a calendar is first loaded: a run that only checks a policy names a shipped
# calendar (``calendar_names``) never builds them.
_DEFERRED = ConfigDict(defer_build=True)


class CalendarNotCovered(InvalidInput):
    """A deadline needs a day of a year for which the calendar has no official notice."""

    title = "calendar not covered"


class Holiday(Frozen):
    model_config = _DEFERRED

    name: str = Field(min_length=1)
    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> Holiday:
        if self.to < self.from_:
            raise ValueError("a holiday ends before it starts")
        return self


class MakeUpDay(Frozen):
    """A Saturday or Sunday declared a working day to make up for a holiday bridge (调休)."""

    model_config = _DEFERRED

    date: date
    for_: str = Field(alias="for", min_length=1)


class CalendarYear(Frozen):
    """One year of one calendar, as announced by the notice it cites."""

    model_config = _DEFERRED

    kind: Literal["working_day_calendar"]
    calendar: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    year: int = Field(ge=1900, le=2999)
    notice: str = Field(min_length=1)
    notice_ref: str = Field(min_length=1)
    published: date
    holidays: list[Holiday]
    working_days: list[MakeUpDay] = Field(default_factory=list)
    # the year's notice is not published yet: statutory holidays and their weekday make-up only, no
    # make-up working weekends, so no window ends earlier than the official calendar will make it end
    provisional: bool = False

    @model_validator(mode="after")
    def _within_the_year(self) -> CalendarYear:
        days = [d for h in self.holidays for d in (h.from_, h.to)] + [w.date for w in self.working_days]
        if any(d.year != self.year for d in days):
            raise ValueError(f"every holiday and make-up day must fall in {self.year}")
        for w in self.working_days:
            if w.date.weekday() not in _REST_WEEKDAYS:
                raise ValueError(f"make-up working day {w.date} is not a Saturday or Sunday")
        return self


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days of one jurisdiction over the years its notices cover."""

    name: str
    years: dict[int, str]  # year -> the notice that fixed it
    holidays: frozenset[date]
    make_up_days: frozenset[date]

    def covers(self, day: date) -> bool:
        return day.year in self.years

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday outside holidays, plus the make-up Saturdays and Sundays."""
        if day.year not in self.years:
            known = ", ".join(str(y) for y in sorted(self.years)) or "none"
            raise CalendarNotCovered(
                f"the {self.name!r} working-day calendar has no official notice for {day.year} (covered: "
                f"{known}); add xinyong/charter/calendars/{self.name}-{day.year}.yaml citing the notice",
                field="date")
        if day in self.make_up_days:
            return True
        return day.weekday() not in _REST_WEEKDAYS and day not in self.holidays

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


def _calendar_dir() -> Path:
    return Path(str(resources.files("xinyong.charter") / "calendars"))


def _read_year(path: Path) -> CalendarYear:
    doc: SourceDoc = parse_yaml(path.read_text(encoding="utf-8"), path)
    try:
        return CalendarYear.model_validate(doc.data)
    except ValidationError as exc:
        raise PolicyError([doc.problem(tuple(e["loc"]), "XS010",
                                       f"{'.'.join(map(str, e['loc'])) or '(document)'}: {e['msg']}")
                           for e in exc.errors()]) from None


def calendar_names() -> frozenset[str]:
    """Names of the calendars shipped with xinyong (``cn``...)."""
    return frozenset(p.stem.rsplit("-", 1)[0] for p in _calendar_dir().glob("*-*.yaml"))


@cache
def load_calendar(name: str = DEFAULT_CALENDAR) -> WorkingCalendar:
    """The shipped calendar ``name``, every year of it; a file whose name and content disagree is refused."""
    years: dict[int, str] = {}
    holidays: set[date] = set()
    make_up: set[date] = set()
    for path in sorted(_calendar_dir().glob(f"{name}-*.yaml")):
        year = _read_year(path)
        if (year.calendar, str(year.year)) != tuple(path.stem.rsplit("-", 1)):
            raise PolicyError([SourceDoc(path, None).problem((), "XS010",
                                                             f"file name says {path.stem}, content says "
                                                             f"{year.calendar}-{year.year}")])
        years[year.year] = f"{'provisional: ' if year.provisional else ''}{year.notice_ref} ({year.notice})"
        for h in year.holidays:
            holidays.update(h.from_ + timedelta(days=i) for i in range((h.to - h.from_).days + 1))
        make_up.update(w.date for w in year.working_days)
    if not years:
        raise CalendarNotCovered(f"no working-day calendar named {name!r} (known: "
                                 f"{', '.join(sorted(calendar_names()))})", field="calendar")
    return WorkingCalendar(name, years, frozenset(holidays), frozenset(make_up))
