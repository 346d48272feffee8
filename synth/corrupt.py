"""Apply the error model to departmental records: names, IDs, dates, newborn names, formats,
redeliveries — per (record, role), at the rates of the source's table, logging every change.

Draws are vectorised (one uniform per row and family); only the chosen rows go through the
Python functions of ``noise``. Date-format noise does not touch the value: it sets a
``__fmt_<column>`` style that the writers honour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from .names_table import GIVEN_NAMES, MIDDLE_DOT
from .noise import (
    DATE_FORMATS,
    NAME_FAMILIES,
    ErrorLog,
    id_15_digit,
    id_format,
    id_transposition,
    id_typo,
    lunar_birthday,
    minority_separator,
    month_day_swap,
)
from .styles import DATE_COLUMNS, DATE_STYLE


@dataclass(frozen=True)
class Role:
    role: str
    pid: str
    name: str | None = None
    id: str | None = None
    birth: str | None = None


ROLES: dict[str, tuple[Role, ...]] = {
    "population": (Role("person", "true_pid", id="id_number"),),
    "hukou": (Role("person", "true_pid", id="id_number"),),
    "death": (Role("person", "true_pid", "name", "id_number", "birth_date"),),
    "marriage": (
        Role("husband", "husband_pid", "husband_name", "husband_id_number", "husband_birth_date"),
        Role("wife", "wife_pid", "wife_name", "wife_id_number", "wife_birth_date"),
    ),
    "birth_certificate": (
        Role("mother", "mother_pid", "mother_name", "mother_id_number"),
        Role("father", "father_pid", "father_name", "father_id_number"),
        Role("child", "child_pid", birth="birth_date"),
    ),
    "maternity_insurance": (Role("person", "true_pid", "name", "id_number"),),
    "vaccination": (
        Role("child", "child_pid", "child_name", "id_number", "birth_date"),
        Role("mother", "mother_pid", "mother_name"),
        Role("guardian", "guardian_pid", id="guardian_id_number"),
    ),
    "school": (
        Role("person", "true_pid", "name", "id_number", "birth_date"),
        Role("guardian", "guardian_pid", "guardian_name", "guardian_id_number"),
    ),
}


class _Corrupter:
    def __init__(
        self,
        rng: np.random.Generator,
        source: str,
        rates: dict[str, float],
        truth: pl.DataFrame,
        log: ErrorLog,
    ) -> None:
        self.rng, self.source, self.rates, self.log = rng, source, rates, log
        self.key = "person_id" if source == "population" else "record_id"
        self.birth_year = truth["birth_date"].dt.year().to_numpy()  # indexed by pid
        self.truth = truth

    def rate(self, family: str) -> float:
        return float(self.rates.get(family, 0.0))

    def apply(
        self,
        frame: pl.DataFrame,
        column: str,
        idx: np.ndarray,
        fn: Callable,
        family: str,
        role: Role,
    ) -> pl.DataFrame:
        """Run ``fn(value, rng)`` on the chosen rows of ``column``."""
        new = [fn(v, self.rng) for v in frame[column].gather(idx).to_list()]
        return self.replace(frame, column, idx, new, family, role)

    def replace(
        self, frame: pl.DataFrame, column: str, idx: np.ndarray, new: list, family: str, role: Role
    ) -> pl.DataFrame:
        """Put ``new`` values in the chosen rows; keep and log only real changes."""
        if not len(idx):
            return frame
        old = frame[column].gather(idx).to_list()
        keep = np.array(
            [v is not None and v != o for v, o in zip(new, old, strict=True)], dtype=bool
        )
        idx = idx[keep]
        if not len(idx):
            return frame
        s = frame[column].clone()
        s.scatter(idx, pl.Series([v for v, k in zip(new, keep, strict=True) if k], dtype=s.dtype))
        self.log.add(
            self.source,
            frame[self.key].gather(idx),
            role.role,
            family,
            column,
            frame[role.pid].gather(idx),
        )
        return frame.with_columns(s)

    def role(self, frame: pl.DataFrame, role: Role) -> pl.DataFrame:
        n, rng = frame.height, self.rng
        pid = frame[role.pid].to_numpy()
        # a base row of nobody (a false entry) has a pid beyond the people: left as it is
        present = (pid >= 0) & (pid < len(self.birth_year))
        year = np.where(present, self.birth_year[np.clip(pid, 0, len(self.birth_year) - 1)], 9999)
        if role.name:
            filled = present & (frame[role.name] != "").to_numpy()
            u, lo = rng.random(n), 0.0
            for family, fn in NAME_FAMILIES.items():
                hi = lo + self.rate(family)
                idx = np.flatnonzero(filled & (u >= lo) & (u < hi))
                frame = self.apply(frame, role.name, idx, fn, family, role)
                lo = hi
            dotted = frame[role.name].str.contains(MIDDLE_DOT, literal=True).to_numpy()
            idx = np.flatnonzero(
                filled & dotted & (rng.random(n) < self.rate("minority_separator"))
            )
            frame = self.apply(
                frame, role.name, idx, minority_separator, "minority_separator", role
            )
        if role.id:
            has = present & (frame[role.id] != "").to_numpy()
            u = rng.random((n, 5))
            missing = has & (u[:, 0] < self.rate("id_missing"))
            fifteen = has & ~missing & (year < 1980) & (u[:, 1] < self.rate("id_15_digit"))
            plain = has & ~missing & ~fifteen
            typo = plain & (u[:, 2] < self.rate("id_typo"))
            swap = plain & ~typo & (u[:, 3] < self.rate("id_transposition"))
            fmt = plain & (u[:, 4] < self.rate("id_format"))
            for mask, id_fn, family in (
                (typo, id_typo, "id_typo"),
                (swap, id_transposition, "id_transposition"),
                (fmt, id_format, "id_format"),
                (fifteen, id_15_digit, "id_15_digit"),
                (missing, lambda v, r: "", "id_missing"),
            ):
                frame = self.apply(frame, role.id, np.flatnonzero(mask), id_fn, family, role)
        if role.id and role.birth and self.rate("sparse"):
            frame = self.sparse(frame, role, present)
        if role.birth:
            u = rng.random((n, 2))
            present = present & frame[role.birth].is_not_null().to_numpy()
            lunar = present & (year < 1970) & (u[:, 0] < self.rate("lunar_birthday"))
            frame = self.apply(
                frame, role.birth, np.flatnonzero(lunar), lunar_birthday, "lunar_birthday", role
            )
            days = frame[role.birth].dt.day().to_numpy()
            months = frame[role.birth].dt.month().to_numpy()
            swap = (
                present
                & ~lunar
                & (days <= 12)
                & (days != months)
                & (u[:, 1] < self.rate("month_day_swap"))
            )
            frame = self.apply(
                frame, role.birth, np.flatnonzero(swap), month_day_swap, "month_day_swap", role
            )
        return frame

    def sparse(self, frame: pl.DataFrame, role: Role, present: np.ndarray) -> pl.DataFrame:
        """A rural record with only the name, the sex and the address (to 组/号): no ID and
        no birth date (a death at home, recorded by the village doctor)."""
        assert role.id and role.birth
        rural = (
            frame["address"].str.contains("组", literal=True).fill_null(False).to_numpy()
            if "address" in frame.columns
            else np.ones(frame.height, dtype=bool)
        )
        pick = present & rural & (self.rng.random(frame.height) < self.rate("sparse"))
        idx = np.flatnonzero(pick)
        if not len(idx):
            return frame
        mask = pl.Series(pick)
        self.log.add(
            self.source,
            frame[self.key].gather(idx),
            role.role,
            "sparse",
            role.id,
            frame[role.pid].gather(idx),
        )
        return frame.with_columns(
            pl.when(mask).then(pl.lit("")).otherwise(pl.col(role.id)).alias(role.id),
            pl.when(mask).then(None).otherwise(pl.col(role.birth)).alias(role.birth),
        )

    def newborn_names(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Certificates issued before the child was named, or under a name later changed."""
        role = Role("child", "child_pid")
        u = self.rng.random(frame.height)
        empty = self.rate("newborn_name_empty")
        changed = self.rate("newborn_name_changed")
        frame = self.apply(
            frame,
            "child_name",
            np.flatnonzero(u < empty),
            lambda v, r: "",
            "newborn_name_empty",
            role,
        )
        idx = np.flatnonzero((u >= empty) & (u < empty + changed))
        sex = frame["sex"].to_numpy()[idx]
        own = self.truth["given"].gather(frame["child_pid"].gather(idx)).to_list()
        names = frame["child_name"].gather(idx).to_list()
        new = []
        for name, given, s in zip(names, own, sex.tolist(), strict=True):
            choices = [g for g in GIVEN_NAMES[(3, s)] if g != given]
            pick = choices[int(self.rng.integers(len(choices)))]
            new.append(
                name[: len(name) - len(given)] + pick
                if MIDDLE_DOT not in name
                else f"{pick}{name[name.index(MIDDLE_DOT) :]}"
            )
        return self.replace(frame, "child_name", idx, new, "newborn_name_changed", role)

    def infant_names(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Immunisation records of children under one (``__infant``), opened before they
        were named."""
        role = Role("child", "child_pid")
        infant = frame["__infant"].to_numpy()
        pick = infant & (self.rng.random(frame.height) < self.rate("infant_name_empty"))
        idx = np.flatnonzero(pick)
        return self.apply(frame, "child_name", idx, lambda v, r: "", "infant_name_empty", role)

    def formats(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Dates in another of the five styles than the file's usual one."""
        kinds = (
            frame["file_kind"].to_list() if "file_kind" in frame.columns else [""] * frame.height
        )
        default = np.array([DATE_STYLE[(self.source, k)] for k in kinds], dtype=np.int8)
        for column in DATE_COLUMNS[self.source]:
            has = frame[column].is_not_null().to_numpy()
            pick = has & (self.rng.random(frame.height) < self.rate("date_format"))
            style = default.copy()
            shift = self.rng.integers(1, len(DATE_FORMATS), size=frame.height)
            style[pick] = (default[pick] + shift[pick]) % len(DATE_FORMATS)
            frame = frame.with_columns(pl.Series(f"__fmt_{column}", style))
            self._log_record(frame, np.flatnonzero(pick), "date_format", column)
        return frame

    def _log_record(self, frame: pl.DataFrame, idx: np.ndarray, family: str, column: str) -> None:
        """Log an error of a column that belongs to one role (a birth date, the only person
        of a death record) under that role; of the whole record (登记日期) with no role."""
        roles = ROLES[self.source]
        role = next(
            (r for r in roles if column == r.birth or column.startswith(r.role)),
            roles[0] if len(roles) == 1 else None,
        )
        pids = frame[role.pid].gather(idx) if role else [None] * len(idx)
        self.log.add(
            self.source,
            frame[self.key].gather(idx),
            role.role if role else "",
            family,
            column,
            pids,
        )

    def redeliver(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Rows of the first delivery sent again in the second (same record id and values)."""
        pick = (frame["delivery"] == 1).to_numpy() & (
            self.rng.random(frame.height) < self.rate("redelivered")
        )
        again = frame.filter(pl.Series(pick)).with_columns(
            pl.lit(2, pl.Int8).alias("delivery"), pl.lit(True).alias("__again")
        )
        self._log_record(again, np.arange(again.height), "redelivered", "")
        return pl.concat([frame.with_columns(pl.lit(False).alias("__again")), again])


def corrupt(
    rng: np.random.Generator,
    source: str,
    frame: pl.DataFrame,
    rates: dict[str, float],
    truth: pl.DataFrame,
    log: ErrorLog,
) -> pl.DataFrame:
    """The records of ``source`` as the department delivers them, errors logged."""
    c = _Corrupter(rng, source, rates, truth, log)
    if source == "birth_certificate":
        frame = c.newborn_names(frame)
    if source == "vaccination":
        frame = c.infant_names(frame)
    for role in ROLES[source]:
        frame = c.role(frame, role)
    frame = c.formats(frame)
    if "delivery" in frame.columns and source not in ("population", "hukou"):
        frame = c.redeliver(frame)
    return frame
