"""What happens in the county during the period: deaths, marriages, divorces, moves out,
births (twins included), renames, and the outsiders these bring (brides and grooms from
other counties, mothers from elsewhere who deliver in the county's hospitals, non-residents
who die here).

Each event family draws its participants in one weighted sample over the eligible natives;
the per-event work (a few thousand outsiders per million persons) is small enough for plain
Python. A person takes part in at most one of death, marriage/divorce, move out and birth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .config import CountyConfig
from .geography import Geography, divisions, outside_address
from .households import DIVORCED, FIRST, NEVER, REMARRIED, WIDOWED
from .identity import day, draw_given, draw_uyghur, years
from .names_table import CHILDHOOD_NAMES, MIDDLE_DOT, UYGHUR
from .population import People

_OUTSIDE_ETHNICITY = (("汉族", 0.6), ("土家族", 0.25), ("苗族", 0.15))


@dataclass
class Events:
    """Multi-person events; single-person ones live in ``People`` columns (death, move_out,
    move_in, rename)."""

    births: pl.DataFrame  # one row per child: birth_event, child, mother, father, day, babies,
    #                          elsewhere (no county certificate), insured, outside (mother)
    marriages: pl.DataFrame  # kind 结婚/离婚, day, husband, wife


def weighted_pick(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """``k`` indices without replacement, chance proportional to ``weights`` (Efraimidis-
    Spirakis keys: one vectorised pass instead of ``choice(replace=False, p=...)``)."""
    pos = np.flatnonzero(weights > 0)
    k = min(k, len(pos))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.log(rng.random(len(pos))) / weights[pos]
    top = np.argpartition(-keys, k - 1)[:k]
    return np.sort(pos[top])


def written_destination(place: tuple[int, str], pid: int) -> str:
    """迁往地址 as 户籍 clerks write it: mostly the full address, else without the province,
    the province and city only (广东深圳), or the division code. Chosen by the person's id,
    not the random stream, so the rest of the county stays as it was."""
    code, address = str(place[0]), place[1]
    kind = (pid * 2654435761) % 100
    table = divisions()
    province = table[code[:2] + "0000"][2]
    if kind < 70:
        return address
    if kind < 85:
        return address.removeprefix(province)
    if kind < 95:
        prefecture = table.get(code[:4] + "00", (0, "", ""))[2]
        return short_name(province) + short_name(prefecture)
    return code


def short_name(name: str) -> str:
    """广东省 → 广东, 深圳市 → 深圳, 广西壮族自治区 → 广西 (as people write them)."""
    for suffix in ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市", "地区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _days(rng: np.random.Generator, cfg: CountyConfig, k: int) -> np.ndarray:
    return day(cfg.period_start) + rng.integers(0, cfg.period_days, size=k)


def _outsiders(
    rng: np.random.Generator,
    people: People,
    geo: Geography,
    surnames: tuple[list[str], np.ndarray],
    sex: np.ndarray,
    birth: np.ndarray,
    origin: str,
    marital: int,
) -> np.ndarray:
    """Append humans from other counties; returns their pids."""
    k = len(sex)
    names = [name for name, _ in _OUTSIDE_ETHNICITY]
    p = [weight for _, weight in _OUTSIDE_ETHNICITY]
    eth = np.asarray(names, dtype=object)[rng.choice(len(names), size=k, p=p)]
    region = rng.choice(geo.outside_codes, size=k, p=geo.outside_weights)
    table_names, table_p = surnames
    surname = np.asarray(table_names, dtype=object)[rng.choice(len(table_names), size=k, p=table_p)]
    given = draw_given(rng, years(birth), sex).to_list()
    return people.append(
        origin=[origin] * k,
        surname=surname.tolist(),
        given=given,
        name=[s + g for s, g in zip(surname.tolist(), given, strict=True)],
        sex=sex,
        birth=birth,
        ethnicity=eth.tolist(),
        region=region,
        marital0=np.full(k, marital),
        marital=np.full(k, marital),
        address=[outside_address(int(r), rng) for r in region.tolist()],
    )


def simulate(
    rng: np.random.Generator,
    cfg: CountyConfig,
    geo: Geography,
    people: People,
    homes: pl.DataFrame,
    pool: list[tuple[int, str]],
    surnames: tuple[list[str], np.ndarray],
) -> Events:
    """Run the period's events on ``people`` (mutated) and return the multi-person ones."""
    ev, n = cfg.events, len(people)
    start = day(cfg.period_start)
    age = (start - people.np("birth")) / 365.2425
    sex = people.np("sex")
    busy = np.zeros(n, dtype=bool)

    # deaths: Gompertz hazard scaled to the crude rate
    hazard = np.exp(0.085 * age)
    q = np.minimum(0.6, ev["death_rate"] * n * hazard / hazard.sum())
    dead = np.flatnonzero(rng.random(n) < q)
    death = people.np("death")
    death[dead] = _days(rng, cfg, len(dead))
    people.set("death", death)
    busy[dead] = True
    # their husbands and wives are widowed
    spouse, marital = people.np("spouse"), people.np("marital")
    left = spouse[dead][spouse[dead] >= 0]
    left = left[~busy[left]]
    marital[left], spouse[left] = WIDOWED, -1
    people.set("marital", marital)
    people.set("spouse", spouse)

    marriages = _marriages(rng, cfg, geo, people, surnames, age, sex, busy, homes)

    # moves out of the county: students and young workers most
    w = np.select([(age >= 17) & (age < 23), (age >= 23) & (age < 41)], [6.0, 2.0], 0.5)
    w[busy] = 0
    movers = weighted_pick(rng, w, round(ev["move_out_rate"] * n))
    move = people.np("move_out")
    move[movers] = _days(rng, cfg, len(movers))
    people.set("move_out", move)
    picked = rng.integers(len(pool), size=len(movers)).tolist()
    people.scatter(
        "moved_to",
        movers,
        [written_destination(pool[i], int(p)) for i, p in zip(picked, movers, strict=True)],
    )
    people.scatter("moved_to_code", movers, [str(pool[i][0]) for i in picked])
    busy[movers] = True

    births = _births(rng, cfg, geo, people, surnames, age, sex, busy, n)
    _renames(rng, cfg, people, age, busy, n)
    # non-residents who die in the county (hospital or funeral home here)
    k = round(cfg.coverage["nonresident_deaths"] * len(dead))
    if k:
        birth = start - (rng.uniform(55, 95, k) * 365.2425).astype(np.int64)
        pids = _outsiders(
            rng,
            people,
            geo,
            surnames,
            np.where(rng.random(k) < 0.55, 1, 2),
            birth,
            "nonresident_deceased",
            WIDOWED,
        )
        death = people.np("death")
        death[pids] = _days(rng, cfg, k)
        people.set("death", death)
    return Events(births=births, marriages=marriages)


def _partner_birth(
    rng: np.random.Generator, start: int, age: np.ndarray, gap: float, minimum: float
) -> np.ndarray:
    """Birth days of partners about ``gap`` years older than ``age``, at least ``minimum``
    years old (plus a random part of a year, so nobody piles up on one birthday)."""
    partner = np.maximum(age + rng.normal(gap, 2.5, len(age)).clip(-6, 10), minimum)
    return start - ((partner + rng.random(len(age))) * 365.2425).astype(np.int64)


def _marriages(
    rng: np.random.Generator,
    cfg: CountyConfig,
    geo: Geography,
    people: People,
    surnames: tuple[list[str], np.ndarray],
    age: np.ndarray,
    sex: np.ndarray,
    busy: np.ndarray,
    homes: pl.DataFrame,
) -> pl.DataFrame:
    ev, n = cfg.events, len(age)
    marital = people.np("marital")
    single = np.isin(marital, (NEVER, DIVORCED, WIDOWED)) & ~busy
    k = round(ev["marriage_rate"] * n)
    k_bride = round(k * ev["outside_bride_share"])
    k_groom = round(k * ev["outside_groom_share"])
    k_local = k - k_bride - k_groom
    w_men = np.where(
        single & (sex == 1) & (age >= 22) & (age < 50), np.exp(-(((age - 28) / 6) ** 2) / 2), 0.0
    )
    w_women = np.where(
        single & (sex == 2) & (age >= 20) & (age < 45), np.exp(-(((age - 26) / 5) ** 2) / 2), 0.0
    )
    men = weighted_pick(rng, w_men, k_local + k_bride)
    women = weighted_pick(rng, w_women, k_local + k_groom)
    men = men[rng.permutation(len(men))]
    women = women[rng.permutation(len(women))]
    local_m, bride_m = men[:k_local], men[k_local:]
    local_w, groom_w = women[:k_local], women[k_local:]
    # pair the local couples by age rank: grooms a little older, as in life
    local_m = local_m[np.argsort(age[local_m], kind="stable")]
    local_w = local_w[np.argsort(age[local_w], kind="stable")]
    hh = people.np("hh")
    ok = hh[local_m] != hh[local_w]
    local_m, local_w = local_m[ok], local_w[ok]

    start = day(cfg.period_start)
    brides = _outsiders(
        rng,
        people,
        geo,
        surnames,
        np.full(len(bride_m), 2),
        _partner_birth(rng, start, age[bride_m], -2.0, 20.0),
        "outside_spouse",
        NEVER,
    )
    grooms = _outsiders(
        rng,
        people,
        geo,
        surnames,
        np.full(len(groom_w), 1),
        _partner_birth(rng, start, age[groom_w], 2.0, 22.0),
        "outside_spouse",
        NEVER,
    )
    husbands = np.concatenate([local_m, bride_m, grooms])
    wives = np.concatenate([local_w, brides, groom_w])
    days = _days(rng, cfg, len(husbands))

    marital = people.np("marital")
    spouse = people.np("spouse")
    for side, other in ((husbands, wives), (wives, husbands)):
        marital[side] = np.where(marital[side] == NEVER, FIRST, REMARRIED)
        spouse[side] = other
    busy[np.concatenate([local_m, local_w, bride_m, groom_w])] = True

    # divorces of county couples
    k_div = round(ev["divorce_rate"] * n)
    husband_of = spouse[:n]
    couples = np.flatnonzero(
        (sex == 1) & (husband_of >= 0) & ~busy & np.isin(marital[:n], (FIRST, REMARRIED))
    )
    couples = couples[(husband_of[couples] < n) & ~busy[husband_of[couples].clip(0, n - 1)]]
    w = np.exp(-(((age[couples] - 38) / 10) ** 2) / 2)
    picked = couples[weighted_pick(rng, w, k_div)]
    div_wives = spouse[picked]
    for side in (picked, div_wives):
        marital[side] = DIVORCED
        spouse[side] = -1
    busy[picked] = True
    busy[div_wives] = True
    people.set("marital", marital)
    people.set("spouse", spouse)

    _move_in(
        rng, cfg, people, homes, brides, bride_m, days[len(local_m) : len(local_m) + len(bride_m)]
    )
    _move_in(rng, cfg, people, homes, grooms, groom_w, days[len(local_m) + len(bride_m) :])
    _marry_out(
        rng,
        cfg,
        people,
        np.concatenate([brides, grooms]),
        np.concatenate([bride_m, groom_w]),
        days[len(local_m) :],
    )
    return pl.DataFrame(
        {
            "kind": ["结婚"] * len(husbands) + ["离婚"] * len(picked),
            "day": np.concatenate([days, _days(rng, cfg, len(picked))]),
            "husband": np.concatenate([husbands, picked]),
            "wife": np.concatenate([wives, div_wives]),
        }
    ).sort("day", "husband")


def _marry_out(
    rng: np.random.Generator,
    cfg: CountyConfig,
    people: People,
    newcomers: np.ndarray,
    partners: np.ndarray,
    wed: np.ndarray,
) -> None:
    """Some county partners of a spouse whose 户口 stayed away leave with that spouse: they
    live at the spouse's home (婚嫁外省 when it is another province) while their own 户口 and
    base row stay in the county."""
    stayed_away = people.np("move_in")[newcomers] < 0
    leaving = stayed_away & (rng.random(len(newcomers)) < cfg.events["married_out_share"])
    married_out = people.np("married_out")
    married_out[partners[leaving]] = wed[leaving]
    people.set("married_out", married_out)


def _move_in(
    rng: np.random.Generator,
    cfg: CountyConfig,
    people: People,
    homes: pl.DataFrame,
    newcomers: np.ndarray,
    partners: np.ndarray,
    wed: np.ndarray,
) -> None:
    """Some outside spouses move their hukou into the partner's household."""
    lag = rng.integers(10, 150, size=len(newcomers))
    moving = (rng.random(len(newcomers)) < cfg.events["spouse_moves_in"]) & (
        wed + lag <= day(cfg.reference_date)
    )
    who, partner = newcomers[moving], partners[moving]
    if not len(who):
        return
    move_in = people.np("move_in")
    move_in[who] = (wed + lag)[moving]
    people.set("move_in", move_in)
    hh = people.np("hh")
    hh[who] = hh[partner]
    people.set("hh", hh)
    rel = people.take("relation", partner)
    male = people.np("sex")[who] == 1
    people.scatter(
        "relation",
        who,
        [
            "配偶" if r == "户主" else ("女婿" if m else "儿媳") if r in ("子", "女") else "其他"
            for r, m in zip(rel, male.tolist(), strict=True)
        ],
    )
    people.scatter("address", who, homes["hukou_address"].gather(hh[who]).to_list())


def _births(
    rng: np.random.Generator,
    cfg: CountyConfig,
    geo: Geography,
    people: People,
    surnames: tuple[list[str], np.ndarray],
    age: np.ndarray,
    sex: np.ndarray,
    busy: np.ndarray,
    n: int,
) -> pl.DataFrame:
    ev, cov = cfg.events, cfg.coverage
    marital0 = people.np("marital0")[:n]
    spouse = people.np("spouse")[:n]
    ok = (
        (sex == 2)
        & np.isin(marital0, (FIRST, REMARRIED))
        & (spouse >= 0)
        & ~busy
        & (age >= 20)
        & (age < 45)
    )
    w = np.where(ok, np.exp(-(((age - 28) / 5.5) ** 2) / 2), 0.0)
    mothers = weighted_pick(rng, w, round(ev["birth_rate"] * n))
    fathers = spouse[mothers]
    k = len(mothers)
    # mothers from other counties delivering in the county's hospitals
    k_out = round(cov["outside_mothers"] * k)
    start = day(cfg.period_start)
    out_m = _outsiders(
        rng,
        people,
        geo,
        surnames,
        np.full(k_out, 2),
        start - (rng.uniform(21, 39, k_out) * 365.2425).astype(np.int64),
        "outside_mother",
        FIRST,
    )
    out_f = _outsiders(
        rng,
        people,
        geo,
        surnames,
        np.full(k_out, 1),
        people.np("birth")[out_m] - (rng.normal(2, 2, k_out) * 365).astype(int),
        "outside_father",
        FIRST,
    )
    spouse_all = people.np("spouse")
    spouse_all[out_m], spouse_all[out_f] = out_f, out_m
    people.set("spouse", spouse_all)
    mothers = np.concatenate([mothers, out_m])
    fathers = np.concatenate([fathers, out_f])
    outside = np.r_[np.zeros(k, dtype=bool), np.ones(k_out, dtype=bool)]
    days = _days(rng, cfg, len(mothers))
    babies = np.where(rng.random(len(mothers)) < ev["twin_share"], 2, 1)

    # children: one row per baby
    deliv = np.repeat(np.arange(len(mothers)), babies)
    m, f, d = mothers[deliv], fathers[deliv], days[deliv]
    first_sex = np.where(rng.random(len(mothers)) < 0.53, 1, 2)
    c_sex = first_sex[deliv].copy()
    second = np.r_[False, deliv[1:] == deliv[:-1]]
    mixed = rng.random(len(deliv)) < 0.4
    c_sex[second & mixed] = 3 - c_sex[second & mixed]
    given = draw_given(rng, years(d), c_sex)
    f_surname = people.take("surname", f)
    f_given = people.take("given", f)
    f_eth = people.take("ethnicity", f)
    uy = [e == UYGHUR for e in f_eth]
    uy_given = draw_uyghur(rng, c_sex)
    given_l = [u if is_uy else g for u, g, is_uy in zip(uy_given, given.to_list(), uy, strict=True)]
    names = [
        f"{g}{MIDDLE_DOT}{fg}" if is_uy else s + g
        for s, g, fg, is_uy in zip(f_surname, given_l, f_given, uy, strict=True)
    ]
    m_rel = people.take("relation", m)
    c_rel = [
        ("孙子" if s == 1 else "孙女") if r in ("儿媳", "女") else ("子" if s == 1 else "女")
        for r, s in zip(m_rel, c_sex.tolist(), strict=True)
    ]
    is_out = outside[deliv]
    m_hh = people.np("hh")[m]
    children = people.append(
        origin=np.where(is_out, "outside_child", "newborn").tolist(),
        surname=["" if u else s for s, u in zip(f_surname, uy, strict=True)],
        given=given_l,
        name=names,
        sex=c_sex,
        birth=d,
        ethnicity=f_eth,
        region=np.where(is_out, people.np("region")[m], int(geo.code)),
        hh=np.where(is_out, -1, m_hh),
        relation=np.where(is_out, "", c_rel).tolist(),
        marital0=np.full(len(deliv), NEVER),
        marital=np.full(len(deliv), NEVER),
        father=f,
        mother=m,
        in_county0=np.zeros(len(deliv), dtype=bool),
        address=people.take("address", m),
    )
    elsewhere = ~outside & (rng.random(len(mothers)) < cov["delivered_elsewhere"])
    insured = ~outside & (rng.random(len(mothers)) < cov["insured_mothers"])
    return pl.DataFrame(
        {
            "birth_event": deliv,
            "child": children,
            "mother": m,
            "father": f,
            "day": d,
            "babies": babies[deliv],
            "elsewhere": elsewhere[deliv],
            "insured": insured[deliv],
            "outside": is_out,
        }
    )


def _renames(
    rng: np.random.Generator,
    cfg: CountyConfig,
    people: People,
    age: np.ndarray,
    busy: np.ndarray,
    n: int,
) -> None:
    """Renames in the period (old name → 曾用名) and old 曾用名 of elderly people."""
    ev = cfg.events
    w = np.where(~busy & (age >= 3) & (age < 35), 1.0, 0.0)
    eth = people.cols["ethnicity"][:n].to_numpy()
    w[eth == UYGHUR] = 0
    who = weighted_pick(rng, w, round(ev["name_change_rate"] * n))
    birth, sex = people.np("birth"), people.np("sex")
    new_given = draw_given(rng, years(birth[who]), sex[who]).to_list()
    old_given = people.take("given", who)
    surname = people.take("surname", who)
    new_given = [g if g != o else g + "宇" for g, o in zip(new_given, old_given, strict=True)]
    people.scatter("former_name", who, people.take("name", who))
    people.scatter("given", who, new_given)
    people.scatter("name", who, [s + g for s, g in zip(surname, new_given, strict=True)])
    rename = people.np("rename")
    rename[who] = _days(rng, cfg, len(who))
    people.set("rename", rename)
    # 曾用名 from long ago: the hukou remembers it, the current name is the same everywhere
    old = np.flatnonzero(
        (years(birth[:n]) < 1970) & (eth != UYGHUR) & (rng.random(n) < ev["former_name_rate"])
    )
    old = old[people.np("rename")[old] < 0]
    former = [
        CHILDHOOD_NAMES[s][int(rng.integers(len(CHILDHOOD_NAMES[s])))] for s in sex[old].tolist()
    ]
    people.scatter(
        "former_name",
        old,
        [s + g for s, g in zip(people.take("surname", old), former, strict=True)],
    )
