"""Households (户) and their members, drawn vectorised: who lives with whom, ages, sexes, kin.

A household has a type (single elder, couple, nuclear, stem family, ...); its members are
drawn kind by kind (户主, 配偶, the head's 父亲/母亲, children, a married son's 儿媳,
grandchildren) as whole arrays, so a million persons cost a few numpy calls, not a loop.
Ages are consistent: spouses close in age, mothers 20-37 years older than their children.
Ages are in years at the start of the period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HH_TYPES = (
    "single_elder",
    "single_young",
    "couple",
    "nuclear",
    "stem",
    "nuclear_parents",
    "single_parent",
)
SINGLE_ELDER, SINGLE_YOUNG, COUPLE, NUCLEAR, STEM, NUCLEAR_PARENTS, SINGLE_PARENT = range(7)
HEAD, SPOUSE, FATHER, MOTHER, CHILD, DIL, GRANDCHILD = range(7)
MARITAL = ("未婚", "初婚", "再婚", "离婚", "丧偶")
NEVER, FIRST, REMARRIED, DIVORCED, WIDOWED = range(5)

_HEAD_AGE = np.array(
    [(60, 92), (20, 48), (45, 85), (25, 58), (48, 78), (28, 50), (28, 55)], dtype=float
)
_HEAD_FEMALE = np.array([0.6, 0.3, 0.1, 0.1, 0.1, 0.1, 0.6])
_HAS_SPOUSE = np.array([False, False, True, True, True, True, False])


@dataclass
class Members:
    """One row per person, sorted by household then kind; ``-1`` means nobody."""

    hh: np.ndarray  # household index
    kind: np.ndarray  # HEAD, SPOUSE, ...
    sex: np.ndarray  # 1 male, 2 female
    age: np.ndarray  # years at the period start (float)
    marital: np.ndarray  # index into MARITAL
    father: np.ndarray
    mother: np.ndarray
    spouse: np.ndarray
    hh_type: np.ndarray  # per household

    def __len__(self) -> int:
        return len(self.hh)


def _choice(rng: np.random.Generator, probs: list[float], n: int) -> np.ndarray:
    return rng.choice(len(probs), size=n, p=np.asarray(probs) / sum(probs))


def _at_least(rng: np.random.Generator, age: np.ndarray, low: float) -> np.ndarray:
    """Raise ages below ``low`` to ``low`` plus up to three years (a hard clip would pile
    thousands of people on one birthday)."""
    return np.where(age < low, low + 3 * rng.random(len(age)), age)


def _draw(rng: np.random.Generator, types: np.ndarray) -> dict[str, np.ndarray]:
    """Members of households of the given types; household index local to ``types``."""
    n = len(types)
    idx = np.arange(n)
    lo, hi = _HEAD_AGE[types, 0], _HEAD_AGE[types, 1]
    head_age = lo + (hi - lo) * rng.random(n)
    young = (types == COUPLE) & (rng.random(n) < 0.25)
    head_age[young] = 22 + 13 * rng.random(int(young.sum()))
    head_sex = np.where(rng.random(n) < _HEAD_FEMALE[types], 2, 1)
    has_spouse = _HAS_SPOUSE[types]
    gap = rng.normal(2.0, 2.5, n).clip(-5, 10)  # husband older by ~2 years
    spouse_age = _at_least(rng, np.where(head_sex == 1, head_age - gap, head_age + gap), 20.0)
    wife_age = np.where(head_sex == 2, head_age, np.where(has_spouse, spouse_age, head_age - 2))

    # head and spouse marital status
    head_mar = np.where(rng.random(n) < 0.93, FIRST, REMARRIED)
    spouse_mar = np.where(rng.random(n) < 0.93, FIRST, REMARRIED)
    elder = types == SINGLE_ELDER
    head_mar[elder] = np.where(
        head_sex[elder] == 2,
        _choice(rng, [0.05, 0, 0, 0.07, 0.88], int(elder.sum())),
        _choice(rng, [0.30, 0, 0, 0.10, 0.60], int(elder.sum())),
    )
    single = types == SINGLE_YOUNG
    head_mar[single] = np.where(rng.random(int(single.sum())) < 0.82, NEVER, DIVORCED)
    parent = types == SINGLE_PARENT
    head_mar[parent] = np.where(rng.random(int(parent.sum())) < 0.55, DIVORCED, WIDOWED)

    parts: list[dict[str, np.ndarray]] = []

    def add(
        hh: np.ndarray,
        kind: int,
        order: np.ndarray,
        age: np.ndarray,
        sex: np.ndarray,
        marital: np.ndarray,
    ) -> None:
        parts.append(
            {
                "hh": hh,
                "kind": np.full(len(hh), kind),
                "order": order,
                "age": age,
                "sex": sex,
                "marital": marital,
            }
        )

    add(idx, HEAD, np.zeros(n, int), head_age, head_sex, head_mar)
    s = idx[has_spouse]
    add(s, SPOUSE, np.zeros(len(s), int), spouse_age[s], 3 - head_sex[s], spouse_mar[s])

    # children of the head (the first child of a stem family is the married son)
    older_mother = wife_age > 45
    n_child = np.zeros(n, int)
    nuclear = (types == NUCLEAR) | (types == NUCLEAR_PARENTS)
    n_child[nuclear] = (
        np.where(
            older_mother[nuclear],
            _choice(rng, [0.25, 0.45, 0.30], int(nuclear.sum())),
            _choice(rng, [0.45, 0.45, 0.10], int(nuclear.sum())),
        )
        + 1
    )
    n_child[parent] = 1 + (rng.random(int(parent.sum())) < 0.4)
    stem = types == STEM
    n_child[stem] = 1 + (rng.random(int(stem.sum())) < 0.3)
    c_hh = np.repeat(idx, n_child)
    c_order = np.arange(len(c_hh)) - np.repeat(np.cumsum(n_child) - n_child, n_child)
    c_age = wife_age[c_hh] - rng.uniform(20, 37, len(c_hh))
    c_sex = np.where(rng.random(len(c_hh)) < 0.53, 1, 2)
    son = stem[c_hh] & (c_order == 0)
    son_age = _at_least(rng, wife_age[c_hh] - rng.uniform(21, 30, len(c_hh)), 21.0)
    son_age = np.where(
        son_age > wife_age[c_hh] - 18, wife_age[c_hh] - 18 - 2 * rng.random(len(c_hh)), son_age
    )
    c_age = np.where(son, son_age, c_age)
    c_sex[son] = 1
    c_mar = np.where((c_age > 28) & (rng.random(len(c_hh)) < 0.1), DIVORCED, NEVER)
    c_mar[son] = FIRST
    keep = c_age >= 0  # not yet born at the period start: the household simply has fewer
    add(c_hh[keep], CHILD, c_order[keep], c_age[keep], c_sex[keep], c_mar[keep])

    # 儿媳 and grandchildren in stem families
    st = idx[stem]
    son_age_hh = np.zeros(n)
    son_age_hh[c_hh[son]] = c_age[son]
    dil_age = _at_least(rng, son_age_hh[st] + rng.normal(-2, 2, len(st)).clip(-8, 6), 20.0)
    add(st, DIL, np.zeros(len(st), int), dil_age, np.full(len(st), 2), np.full(len(st), FIRST))
    n_gc = _choice(rng, [0.15, 0.40, 0.35, 0.10], len(st))
    g_hh = np.repeat(st, n_gc)
    g_order = np.arange(len(g_hh)) - np.repeat(np.cumsum(n_gc) - n_gc, n_gc)
    dil_of = np.zeros(n)
    dil_of[st] = dil_age
    g_age = dil_of[g_hh] - rng.uniform(20, 33, len(g_hh))
    keep = g_age >= 0
    add(
        g_hh[keep],
        GRANDCHILD,
        g_order[keep],
        g_age[keep],
        np.where(rng.random(int(keep.sum())) < 0.53, 1, 2),
        np.full(int(keep.sum()), NEVER),
    )

    # the head's elderly parents
    npar = idx[types == NUCLEAR_PARENTS]
    has_father = rng.random(len(npar)) < 0.6
    has_mother = (rng.random(len(npar)) < 0.85) | ~has_father
    f_age = head_age[npar] + rng.uniform(22, 36, len(npar))
    m_age = np.maximum(f_age - rng.normal(2, 2, len(npar)).clip(-4, 8), head_age[npar] + 20)
    has_father &= f_age < 97
    has_mother &= m_age < 97
    both = has_father & has_mother
    mar = np.where(both, FIRST, WIDOWED)
    add(
        npar[has_father],
        FATHER,
        np.zeros(int(has_father.sum()), int),
        f_age[has_father],
        np.ones(int(has_father.sum()), int),
        mar[has_father],
    )
    add(
        npar[has_mother],
        MOTHER,
        np.zeros(int(has_mother.sum()), int),
        m_age[has_mother],
        np.full(int(has_mother.sum()), 2),
        mar[has_mother],
    )
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def build_households(rng: np.random.Generator, persons: int, shares: dict[str, float]) -> Members:
    """Exactly ``persons`` persons in households whose types follow ``shares``."""
    p = np.array([shares.get(t, 0.0) for t in HH_TYPES])
    n_h = int(persons / 3.0) + 16
    types = rng.choice(len(HH_TYPES), size=n_h, p=p / p.sum())
    drawn = _draw(rng, types)
    sizes = np.bincount(drawn["hh"], minlength=n_h)
    while sizes.sum() < persons:  # rare: too few drawn; add more households
        more = rng.choice(len(HH_TYPES), size=n_h, p=p / p.sum())
        extra = _draw(rng, more)
        extra["hh"] = extra["hh"] + len(types)
        types = np.concatenate([types, more])
        drawn = {k: np.concatenate([drawn[k], extra[k]]) for k in drawn}
        sizes = np.bincount(drawn["hh"], minlength=len(types))
    cum = np.cumsum(sizes)
    k = int(np.searchsorted(cum, persons, side="right"))
    rest = persons - (int(cum[k - 1]) if k else 0)
    keep = drawn["hh"] < k
    drawn = {key: v[keep] for key, v in drawn.items()}
    types = types[:k]
    if rest:  # fill up with one-person households
        fill = np.where(rng.random(rest) < 0.5, SINGLE_ELDER, SINGLE_YOUNG)
        extra = _draw(rng, fill)
        extra["hh"] = extra["hh"] + k
        drawn = {key: np.concatenate([drawn[key], extra[key]]) for key in drawn}
        types = np.concatenate([types, fill])
    order = np.lexsort((drawn["order"], drawn["kind"], drawn["hh"]))
    d = {key: v[order] for key, v in drawn.items()}
    return _link(d, types)


def _link(d: dict[str, np.ndarray], types: np.ndarray) -> Members:
    """Father, mother and spouse pointers (row numbers) from the household structure."""
    n_h, rows = len(types), np.arange(len(d["hh"]))
    hh, kind = d["hh"], d["kind"]

    def row_of(mask: np.ndarray) -> np.ndarray:
        out = np.full(n_h, -1)
        out[hh[mask]] = rows[mask]
        return out

    head, spouse = row_of(kind == HEAD), row_of(kind == SPOUSE)
    father, mother = row_of(kind == FATHER), row_of(kind == MOTHER)
    son = row_of((kind == CHILD) & (d["order"] == 0) & (types[hh] == STEM))
    dil = row_of(kind == DIL)
    head_male = d["sex"][head] == 1
    husband = np.where(head_male, head, spouse)
    wife = np.where(head_male, spouse, head)

    f = np.full(len(hh), -1)
    m = np.full(len(hh), -1)
    sp = np.full(len(hh), -1)
    sel = kind == HEAD
    sp[sel], f[sel], m[sel] = spouse[hh[sel]], father[hh[sel]], mother[hh[sel]]
    sel = kind == SPOUSE
    sp[sel] = head[hh[sel]]
    sel = kind == CHILD
    f[sel], m[sel] = husband[hh[sel]], wife[hh[sel]]
    sel = kind == DIL
    sp[sel] = son[hh[sel]]
    is_son = rows == son[hh]
    sp[is_son] = dil[hh[is_son]]
    sel = kind == GRANDCHILD
    f[sel], m[sel] = son[hh[sel]], dil[hh[sel]]
    sel = kind == FATHER
    sp[sel] = mother[hh[sel]]
    sel = kind == MOTHER
    sp[sel] = father[hh[sel]]
    return Members(
        hh=hh,
        kind=kind,
        sex=d["sex"].astype(np.int8),
        age=d["age"],
        marital=d["marital"].astype(np.int8),
        father=f,
        mother=m,
        spouse=sp,
        hh_type=types,
    )
