"""Splink comparisons and blocking rules for standardised person records, CJK-aware.

Each builder returns a Splink comparison whose levels are custom SQL on the person-record
columns of docs/architecture.md (``<col>_l`` / ``<col>_r``). ``build_settings`` assembles a
``SettingsCreator`` from one source's config (``configs/sources/<source>.toml``)::

    cfg = {
        "comparisons": [{"type": "name"}, {"type": "id"}, {"type": "birth_date"}],
        "blocking": [["id_number"], ["name_py", "birth_date"]],
    }
    settings = build_settings(cfg, "link_only")

Why custom SQL: DuckDB's string distances have counted UTF-8 bytes in one release and
characters in the next, so hanzi are compared on character arrays (``linkage.sql``);
byte-based functions are used only on ASCII (pinyin, ID digits, ``yyyymmdd`` dates).
Every level has a short key (``"one_edit"``) that config uses to fix a level's m or u by
hand (``fixed_u = {one_edit = 1e-7}``) and ``level_gammas`` maps to the ``gamma_<comparison>``
value Splink assigns.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from splink import SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule
from splink.comparison_level_library import CustomLevel
from splink.comparison_library import CustomComparison

from linkage import sql
from linkage.errors import ConfigError

if TYPE_CHECKING:
    from splink.internals.blocking_rule_creator import BlockingRuleCreator

LINK_TYPES = ("link_only", "dedupe_only", "link_and_dedupe")
USABLE_ID_STATUSES = ("valid", "upgraded_15")

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class _Level:
    key: str
    sql: str
    label: str
    is_null: bool = False
    tf_column: str | None = None


class DescribedComparison(CustomComparison):
    """A ``CustomComparison`` that keeps its description and knows its level keys.

    Splink 5.0.0's ``CustomComparison`` stores ``comparison_description`` but never uses it
    (charts and saved models say "CustomComparison"); this subclass returns it.
    """

    def __init__(
        self,
        comparison_levels: Sequence[Any],
        output_column_name: str | None = None,
        comparison_description: str | None = None,
        level_keys: Sequence[str] = (),
    ) -> None:
        super().__init__(list(comparison_levels), output_column_name, comparison_description)
        self.level_keys = tuple(level_keys)

    def create_description(self) -> str:
        return self._description or super().create_description()


def level_gammas(comparison: DescribedComparison) -> dict[str, int]:
    """Level key → the ``gamma_`` value Splink gives it (null level -1, else counts down to 0).

    Example: ``level_gammas(sex_comparison())`` is ``{"null": -1, "exact": 1, "else": 0}``.
    """
    non_null = [k for k in comparison.level_keys if k != "null"]
    gammas = {k: len(non_null) - 1 - i for i, k in enumerate(non_null)}
    return {"null": -1, **gammas} if "null" in comparison.level_keys else gammas


def _check_identifier(name: str, what: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ConfigError(
            f"{what} {name!r} is not a plain column name. Fix: use lower-case letters, digits "
            "and underscores, as in docs/architecture.md."
        )
    return name


def _check_probabilities(fixed: Mapping[str, float] | None, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (fixed or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise ConfigError(f"{what}.{key} = {value!r} is not a probability in (0, 1].")
        out[key] = float(value)
    return out


def _comparison(
    output_column_name: str,
    description: str,
    levels: Sequence[_Level],
    *,
    fixed_m: Mapping[str, float] | None,
    fixed_u: Mapping[str, float] | None,
    tf_min_u: float | None = None,
) -> DescribedComparison:
    """Turn level specs into a Splink comparison, fixing m/u where config asks for it."""
    m = _check_probabilities(fixed_m, "fixed_m")
    u = _check_probabilities(fixed_u, "fixed_u")
    settable = [lv.key for lv in levels if not lv.is_null]
    unknown = sorted((set(m) | set(u)) - set(settable))
    if unknown:
        raise ConfigError(
            f"comparison {output_column_name!r}: no level called {', '.join(unknown)}. "
            f"Fix: use one of {', '.join(settable)}."
        )
    creators = []
    for lv in levels:
        level = CustomLevel(lv.sql, label_for_charts=lv.label)
        if lv.is_null:
            level.configure(is_null_level=True)
        if lv.tf_column is not None:
            level.configure(tf_adjustment_column=lv.tf_column, tf_adjustment_weight=1.0)
            if tf_min_u is not None:
                level.configure(tf_minimum_u_value=tf_min_u)
        if lv.key in m:
            level.configure(m_probability=m[lv.key], fix_m_probability=True)
        if lv.key in u:
            level.configure(u_probability=u[lv.key], fix_u_probability=True)
        creators.append(level)
    return DescribedComparison(
        creators,
        output_column_name=output_column_name,
        comparison_description=description,
        level_keys=[lv.key for lv in levels],
    )


def _null(col_l: str, col_r: str, label: str) -> _Level:
    return _Level("null", f"{col_l} IS NULL OR {col_r} IS NULL", label, is_null=True)


def _else(label: str) -> _Level:
    return _Level("else", "ELSE", label)


def name_comparison(
    col: str = "name",
    *,
    tf: bool = True,
    tf_min_u: float | None = None,
    given_py_jw: float = 0.9,
    one_char_min_length: int = 3,
    former_names: bool = True,
    transliteration: bool = True,
    part_jw: float = 0.8,
    fixed_m: Mapping[str, float] | None = None,
    fixed_u: Mapping[str, float] | None = None,
) -> DescribedComparison:
    """Names: hanzi exact > folded key > former name > pinyin > transliteration > near pinyin /
    one char off.

    Columns: ``col`` (hanzi), ``{col}_key``, ``{col}_py``, ``surname_py``, ``given_py``,
    ``former_name_key``, ``{col}_snd`` and ``{col}_snd_parts`` (``linkage.standardise.names``).
    The transliteration level catches a minority name written with other characters of the
    same sound: the readings names use (阿卜杜拉 / 阿布都拉 / 阿不都拉, where pypinyin reads 卜
    ``bo`` and 都 ``dou``), or a ``·`` name one of whose parts is the same and the other
    sounds alike (佐日古丽·喀迪尔 / 佐日古丽·卡德尔: ``kadier`` / ``kadeer``).

    The one-character level works on ``{col}_key`` as character arrays
    (張三丰 / 张叁丰 is one character off after folding) and only for names of at least
    ``one_char_min_length`` characters: on two-character names "one character different" is
    just "same surname" (张伟 / 张强).

    Args:
        col: The hanzi name column; also the comparison's output name.
        tf: Term-frequency adjust the hanzi-exact (on ``col``) and pinyin-exact (on
            ``{col}_py``) levels: 王伟 agreeing says less than 欧阳翠花 agreeing.
        tf_min_u: Floor for the TF-adjusted u (caps the weight of very rare names).
        given_py_jw: Jaro-Winkler threshold on given-name pinyin (ASCII, so byte-based JW
            is right) when the surname pinyin agrees.
        one_char_min_length: Shortest name for the one-character-different test.
        former_names: Include the 曾用名 level (``former_name_key`` either side).
        transliteration: Include the transliteration level (``{col}_snd`` columns).
        part_jw: Jaro-Winkler threshold on the reading of the other part of a ``·`` name
            when one part agrees.
        fixed_m: Level key → m probability fixed by hand (not trained).
        fixed_u: Level key → u probability fixed by hand (not trained).
    """
    _check_identifier(col, "name column")
    key, py = f"{col}_key", f"{col}_py"
    similar = (
        f"(surname_py_l = surname_py_r "
        f"AND jaro_winkler_similarity(given_py_l, given_py_r) >= {float(given_py_jw)}) "
        f"OR {sql.one_char_different(f'{key}_l', f'{key}_r', min_length=one_char_min_length)}"
    )
    levels = [
        _null(f"{col}_l", f"{col}_r", "Name missing on either side (姓名缺失)"),
        _Level(
            "exact",
            f"{col}_l = {col}_r",
            "Same name (姓名相同)",
            tf_column=col if tf else None,
        ),
        _Level(
            "key",
            f"{key}_l = {key}_r",
            "Same after traditional/variant folding (简繁/异体)",
        ),
    ]
    if former_names:
        levels.append(
            _Level(
                "former_name",
                f"former_name_key_l = {key}_r OR {key}_l = former_name_key_r",
                "Matches a former name (曾用名)",
            )
        )
    levels.append(
        _Level(
            "pinyin",
            f"{py}_l = {py}_r",
            "Same pinyin, different characters (同音字)",
            tf_column=py if tf else None,
        )
    )
    if transliteration:
        parts_l, parts_r = f"{col}_snd_parts_l", f"{col}_snd_parts_r"
        jw = float(part_jw)
        one_part = sql.one_name_part_alike(parts_l, parts_r, jw)
        levels.append(
            _Level(
                "transliteration",
                f"{col}_snd_l = {col}_snd_r OR "
                f"({parts_l} IS NOT NULL AND {parts_r} IS NOT NULL AND ({one_part}))",
                "Same sound as a transcribed name, or one part of a · name the same and the "
                f"other alike (JW >= {jw}) (音译用字不同)",
            )
        )
    levels += [
        _Level(
            "similar",
            similar,
            f"Surname pinyin equal and given-name pinyin JW >= {given_py_jw}, "
            "or one character different (近音/形近)",
        ),
        _else("All other names"),
    ]
    return _comparison(
        col,
        "Name: hanzi, folded key, former name, pinyin, near misses (姓名)",
        levels,
        fixed_m=fixed_m,
        fixed_u=fixed_u,
        tf_min_u=tf_min_u,
    )


def id_comparison(
    *,
    fixed_m: Mapping[str, float] | None = None,
    fixed_u: Mapping[str, float] | None = None,
) -> DescribedComparison:
    """公民身份号码: exact > exact via 15→18 upgrade > one edit > valid but different.

    Uses ``id_number`` (already upgraded to 18 where possible) and ``id_status``. The check
    character catches every single-digit error and adjacent swap, so two *valid* numbers are
    never one edit apart: "one edit" means a typo on one side. "Valid but different" (someone
    else's number, often a relative's) comes after it and should train strongly negative.
    Random pairs almost never land on ``one_edit``; fix its u by hand (``fixed_u``).
    """
    usable = ", ".join(f"'{s}'" for s in USABLE_ID_STATUSES)
    not_upgraded = (
        "coalesce(id_status_l, '') <> 'upgraded_15' AND coalesce(id_status_r, '') <> 'upgraded_15'"
    )
    levels = [
        _null("id_number_l", "id_number_r", "ID missing on either side (身份证号缺失)"),
        _Level(
            "exact",
            f"id_number_l = id_number_r AND {not_upgraded}",
            "Same ID number (身份证号相同)",
        ),
        _Level(
            "exact_upgraded",
            "id_number_l = id_number_r",
            "Same ID via 15→18 upgrade (15位升级后相同)",
        ),
        _Level(
            "one_edit",
            "length(id_number_l) = 18 AND "
            + sql.one_substitution_or_swap("id_number_l", "id_number_r"),
            "One digit wrong or two adjacent digits swapped (一位错/相邻颠倒)",
        ),
        _Level(
            "valid_but_different",
            f"id_status_l IN ({usable}) AND id_status_r IN ({usable})",
            "Both IDs valid but different, e.g. a relative's (均有效但不同)",
        ),
        _else("All other ID pairs (invalid and different)"),
    ]
    return _comparison(
        "id_number",
        "ID number: exact, 15→18 upgrade, one edit, valid but different (身份证号)",
        levels,
        fixed_m=fixed_m,
        fixed_u=fixed_u,
    )


def birth_date_comparison(
    *,
    fallback_to_id_date: bool = False,
    year_window: int = 0,
    fixed_m: Mapping[str, float] | None = None,
    fixed_u: Mapping[str, float] | None = None,
) -> DescribedComparison:
    """Birth dates: exact > lunar/solar > month/day swapped > one digit > same year.

    Args:
        fallback_to_id_date: Compare ``coalesce(birth_date, id_birth_date)``, for sources
            whose birth date column is often empty but whose IDs parse.
        year_window: The year level accepts ``|year_l - year_r| <= year_window``.
        fixed_m: Level key → m probability fixed by hand (not trained).
        fixed_u: Level key → u probability fixed by hand (not trained).
    """
    if not isinstance(year_window, int) or year_window < 0:
        raise ConfigError(f"year_window = {year_window!r} must be a whole number >= 0.")
    if fallback_to_id_date:
        left, right = (
            "coalesce(birth_date_l, id_birth_date_l)",
            "coalesce(birth_date_r, id_birth_date_r)",
        )
    else:
        left, right = "birth_date_l", "birth_date_r"
    year_label = "Same birth year" if year_window == 0 else f"Birth year within ±{year_window}"
    levels = [
        _null(left, right, "Birth date missing on either side (出生日期缺失)"),
        _Level("exact", f"{left} = {right}", "Same birth date (出生日期相同)"),
        _Level(
            "lunar",
            f"{left} = birth_date_lunar_alt_r OR birth_date_lunar_alt_l = {right} "
            f"OR {left} = birth_date_lunar_leap_alt_r OR birth_date_lunar_leap_alt_l = {right}",
            "Same once one side is read as a lunar date (农历/公历)",
        ),
        _Level(
            "month_day_swapped",
            f"year({left}) = year({right}) AND month({left}) = day({right}) "
            f"AND day({left}) = month({right})",
            "Month and day swapped (月日颠倒)",
        ),
        _Level(
            "one_digit",
            f"{sql.hamming_if_same_length(sql.yyyymmdd(left), sql.yyyymmdd(right))} = 1",
            "One digit different in yyyymmdd (一位数字不同)",
        ),
        _Level(
            "same_year",
            f"abs(year({left}) - year({right})) <= {year_window}",
            f"{year_label} (同年)",
        ),
        _else("All other birth dates"),
    ]
    return _comparison(
        "birth_date",
        "Birth date: exact, lunar, swapped, one digit, year (出生日期)",
        levels,
        fixed_m=fixed_m,
        fixed_u=fixed_u,
    )


def _exact_comparison(
    col: str, what: str, description: str, fixed_m: Any, fixed_u: Any
) -> DescribedComparison:
    levels = [
        _null(f"{col}_l", f"{col}_r", f"{what} missing on either side"),
        _Level("exact", f"{col}_l = {col}_r", f"Same {what.lower()}"),
        _else(f"Different {what.lower()}"),
    ]
    return _comparison(col, description, levels, fixed_m=fixed_m, fixed_u=fixed_u)


def sex_comparison(
    *,
    fixed_m: Mapping[str, float] | None = None,
    fixed_u: Mapping[str, float] | None = None,
) -> DescribedComparison:
    """Sex (男/女): null > exact > else."""
    return _exact_comparison("sex", "Sex", "Sex (性别)", fixed_m, fixed_u)


def ethnicity_comparison(
    *,
    fixed_m: Mapping[str, float] | None = None,
    fixed_u: Mapping[str, float] | None = None,
) -> DescribedComparison:
    """Ethnicity (民族): null > exact > else."""
    return _exact_comparison("ethnicity", "Ethnicity", "Ethnicity (民族)", fixed_m, fixed_u)


def address_comparison(
    *,
    fixed_m: Mapping[str, float] | None = None,
    fixed_u: Mapping[str, float] | None = None,
) -> DescribedComparison:
    """Place: null township > same township and village > same township > else."""
    levels = [
        _null("township_l", "township_r", "Township missing on either side (乡镇缺失)"),
        _Level(
            "township_village",
            "township_l = township_r AND village_l = village_r",
            "Same township and village (同乡镇同村)",
        ),
        _Level("township", "township_l = township_r", "Same township (同乡镇)"),
        _else("Different township"),
    ]
    return _comparison(
        "address",
        "Address: township and village (乡镇/村)",
        levels,
        fixed_m=fixed_m,
        fixed_u=fixed_u,
    )


def household_comparison(
    *,
    fixed_m: Mapping[str, float] | None = None,
    fixed_u: Mapping[str, float] | None = None,
) -> DescribedComparison:
    """户号: null > same household > else.

    For the sources that carry the household number (the base, 户籍). Two people of one name
    in one household are almost always one person entered twice: a Chinese family does not
    give a child a parent's or a sibling's name; twins share the household and the birth date
    but not the name, and the name level keeps them apart.
    """
    levels = [
        _null("household_id_l", "household_id_r", "Household missing on either side (户号缺失)"),
        _Level("exact", "household_id_l = household_id_r", "Same household (同户)"),
        _else("Different household"),
    ]
    return _comparison(
        "household_id", "Household number (户号)", levels, fixed_m=fixed_m, fixed_u=fixed_u
    )


def age_at_event_comparison(
    *,
    min_age: int = 15,
    max_age: int = 50,
    fixed_m: Mapping[str, float] | None = None,
    fixed_u: Mapping[str, float] | None = None,
) -> DescribedComparison:
    """Plausible age of the base person at the record's event: null > plausible > else.

    For records that carry no birth date of the person but an event only some ages take part
    in: a mother on a birth certificate or a maternity claim (15-50), a spouse at a marriage
    registration. The base side (``_l``) gives the birth date (falling back to the one inside
    the ID), the record side (``_r``) the event date. It separates a young mother from an
    older woman of the same common name.
    """
    born = "coalesce(birth_date_l, id_birth_date_l)"
    age = f"date_diff('year', {born}, event_date_r)"
    levels = [
        _null(born, "event_date_r", "Birth date or event date missing"),
        _Level(
            "plausible",
            f"{age} BETWEEN {int(min_age)} AND {int(max_age)}",
            f"Age at the event within {int(min_age)}-{int(max_age)} (年龄合理)",
        ),
        _else("Age at the event implausible (年龄不符)"),
    ]
    return _comparison(
        "age_at_event",
        "Age at the event (事件发生时年龄)",
        levels,
        fixed_m=fixed_m,
        fixed_u=fixed_u,
    )


COMPARISON_BUILDERS: dict[str, Callable[..., DescribedComparison]] = {
    "name": name_comparison,
    "id": id_comparison,
    "birth_date": birth_date_comparison,
    "sex": sex_comparison,
    "address": address_comparison,
    "ethnicity": ethnicity_comparison,
    "household": household_comparison,
    "age_at_event": age_at_event_comparison,
}

# Blocking keys a config may name: plain person-record columns and derived expressions.
BLOCKING_KEYS: dict[str, str] = {
    **{
        c: c
        for c in (
            "id_number name name_key name_py surname surname_py given_name given_py "
            "former_name_key former_name_py birth_date birth_date_lunar_alt "
            "birth_date_lunar_leap_alt id_birth_date sex ethnicity township village "
            "name_snd household_id village_group"
        ).split()
    },
    "birth_year": "year(birth_date)",
    "birth_month_day": "strftime(birth_date, '%m%d')",
    # region + birth date: finds pairs whose order or check digits differ
    "id_prefix14": "substr(id_number, 1, 14)",
    # order + check: finds pairs whose region or date digits differ (combine with more keys)
    "id_suffix4": "substr(id_number, 15, 4)",
}

# Rules that compare different columns on the two sides (not expressible with block_on).
NAMED_BLOCKING_RULES: dict[str, str] = {
    "lunar_alt_l": "l.birth_date_lunar_alt = r.birth_date AND l.surname_py = r.surname_py",
    "lunar_alt_r": "l.birth_date = r.birth_date_lunar_alt AND l.surname_py = r.surname_py",
    # the same for a birthday in a leap month (闰月)
    "lunar_leap_alt_l": (
        "l.birth_date_lunar_leap_alt = r.birth_date AND l.surname_py = r.surname_py"
    ),
    "lunar_leap_alt_r": (
        "l.birth_date = r.birth_date_lunar_leap_alt AND l.surname_py = r.surname_py"
    ),
    "former_name_l": "l.former_name_py = r.name_py AND year(l.birth_date) = year(r.birth_date)",
    "former_name_r": "l.name_py = r.former_name_py AND year(l.birth_date) = year(r.birth_date)",
}


def blocking_rules(cfg: Sequence[Sequence[str] | str]) -> list[BlockingRuleCreator]:
    """Blocking rules from config: a list of key lists (AND-ed equality) or rule names.

    Example: ``blocking_rules([["id_number"], ["surname_py", "birth_year", "sex"],
    "lunar_alt_l"])``. Keys are those of ``BLOCKING_KEYS``; names those of
    ``NAMED_BLOCKING_RULES``.
    """
    if not cfg or isinstance(cfg, str):
        raise ConfigError("blocking must be a non-empty list of key lists or rule names.")
    rules: list[BlockingRuleCreator] = []
    for i, entry in enumerate(cfg):
        if isinstance(entry, str):
            if entry not in NAMED_BLOCKING_RULES:
                raise ConfigError(
                    f"blocking[{i}]: no rule named {entry!r}. "
                    f"Fix: use one of {', '.join(NAMED_BLOCKING_RULES)} or a list of keys."
                )
            rules.append(CustomRule(NAMED_BLOCKING_RULES[entry]))
            continue
        keys = list(entry)
        unknown = [k for k in keys if k not in BLOCKING_KEYS]
        if not keys or unknown:
            raise ConfigError(
                f"blocking[{i}]: unknown key(s) {unknown or '(empty list)'}. "
                f"Fix: use keys from {', '.join(BLOCKING_KEYS)}."
            )
        rules.append(block_on(*(BLOCKING_KEYS[k] for k in keys)))
    return rules


def comparison_from_config(
    entry: Mapping[str, Any], *, where: str = "comparison"
) -> DescribedComparison:
    """One comparison from a config table such as ``{"type": "name", "tf": True}``."""
    entry = dict(entry)
    kind = entry.pop("type", None)
    builder = COMPARISON_BUILDERS.get(kind)
    if builder is None:
        raise ConfigError(
            f"{where}: type {kind!r} is unknown. Fix: use one of {', '.join(COMPARISON_BUILDERS)}."
        )
    allowed = list(inspect.signature(builder).parameters)
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{where} (type {kind!r}): unknown parameter(s) {', '.join(unknown)}. "
            f"Fix: use {', '.join(allowed)}."
        )
    return builder(**entry)


def build_settings(
    source_cfg: Mapping[str, Any], link_type: str, *, origin: str = "source config"
) -> SettingsCreator:
    """A Splink ``SettingsCreator`` from one source's linkage config.

    Keys: ``comparisons`` (tables with ``type`` and builder parameters), ``blocking`` (see
    ``blocking_rules``), ``unique_id_column`` (default ``rec_key``),
    ``additional_columns_to_retain``, ``probability_two_random_records_match``,
    ``retain_intermediate_calculation_columns`` (default true: the waterfall chart and the
    comparison viewer need it). Other keys are left for other readers of the file.

    Args:
        source_cfg: The parsed config, e.g. ``tomllib.load(f)``.
        link_type: ``link_only``, ``dedupe_only`` or ``link_and_dedupe``.
        origin: Where the config came from (a file path), named in error messages.
    """
    if link_type not in LINK_TYPES:
        raise ConfigError(f"link_type {link_type!r} is unknown. Fix: use one of {LINK_TYPES}.")
    entries = source_cfg.get("comparisons")
    if not entries or not isinstance(entries, list):
        raise ConfigError(f"{origin}: no [[comparisons]]. Fix: add at least one comparison.")
    comparisons = [
        comparison_from_config(e, where=f"{origin}: comparisons[{i}]")
        for i, e in enumerate(entries)
    ]
    names = [c.create_output_column_name() for c in comparisons]
    if len(set(names)) != len(names):
        raise ConfigError(f"{origin}: a comparison appears twice ({names}). Fix: keep one.")
    try:
        rules = blocking_rules(source_cfg.get("blocking") or [])
    except ConfigError as e:
        raise ConfigError(f"{origin}: {e}") from None
    kwargs: dict[str, Any] = {
        "link_type": link_type,
        "unique_id_column_name": _check_identifier(
            source_cfg.get("unique_id_column", "rec_key"), f"{origin}: unique_id_column"
        ),
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": rules,
        "retain_intermediate_calculation_columns": bool(
            source_cfg.get("retain_intermediate_calculation_columns", True)
        ),
        "additional_columns_to_retain": [
            _check_identifier(c, f"{origin}: additional_columns_to_retain")
            for c in source_cfg.get("additional_columns_to_retain", [])
        ],
    }
    if "probability_two_random_records_match" in source_cfg:
        (p,) = _check_probabilities(
            {"p": source_cfg["probability_two_random_records_match"]},
            f"{origin}: probability_two_random_records_match",
        ).values()
        kwargs["probability_two_random_records_match"] = p
    return SettingsCreator(**kwargs)


def settings_from_model(model: Mapping[str, Any] | str | Path) -> SettingsCreator:
    """Load a saved model (``linker.misc.save_model_to_json``) keeping comparison descriptions.

    ``Linker(df, "model.json")`` works too, but Splink 5.0.0 then renames every comparison
    "CustomComparison" in charts; this keeps the saved descriptions.
    """
    if isinstance(model, Mapping):
        data = json.loads(json.dumps(model))
    else:
        data = json.loads(Path(model).read_text(encoding="utf-8"))
    data["comparisons"] = [
        c
        if not isinstance(c, Mapping)
        else DescribedComparison(
            c["comparison_levels"],
            output_column_name=c.get("output_column_name"),
            comparison_description=c.get("comparison_description"),
        )
        for c in data.get("comparisons", [])
    ]
    return SettingsCreator.from_path_or_dict(data)
