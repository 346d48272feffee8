"""Benchmark of the standardisers on a county-sized frame.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_standardise [--rows 1000000] [--distinct 50000]

Prints rows/s for names alone, dates alone and the whole :func:`person_frame`, and the
process's peak resident memory after each stage (``ru_maxrss``, cumulative: the peak so far).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import time

import polars as pl

from linkage.standardise import person_frame, standardise_dates, standardise_names

_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单解仇区查朴"
) + ["欧阳", "司马", "诸葛", "上官"]
_GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华玉兰萍红建国志文斌辉鹏飞海燕晓蕾小云"
    "春梅林波宇浩然子轩欣怡梓涵雨萱俊熙博文思远佳琪嘉豪家乐诗雅"
)
_MINORITY = ["阿依古丽", "买买提", "古丽米拉", "艾尔肯", "热依拉", "努尔", "阿不都"]
_SEPARATORS = ["·", "•", ".", "．", ""]
_ADDRESSES = ["湖北省来凤县翔凤镇老寨村三组", "来凤县百福司镇舍米湖村5组", "翔凤镇城关社区居委会"]
_TRAD = str.maketrans(
    "张刘陈杨黄赵吴马郭罗郑谢韩冯邓伟丽强军艳杰涛刚华兰红国辉鹏飞晓云梅",
    "張劉陳楊黃趙吳馬郭羅鄭謝韓馮鄧偉麗強軍豔傑濤剛華蘭紅國輝鵬飛曉雲梅",
)


def _distinct_names(n: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        roll = rng.random()
        if roll < 0.03:
            name = rng.choice(_MINORITY) + rng.choice(_SEPARATORS) + rng.choice(_MINORITY)
        else:
            name = rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice((1, 2, 2))))
            if roll < 0.08:
                name = name.translate(_TRAD)
            elif roll < 0.11:
                name = name[0] + rng.choice((" ", "\u3000")) + name[1:]
        names.add(name)
    return list(names)


def _frame(rows: int, distinct: int, seed: int = 7) -> pl.DataFrame:
    rng = random.Random(seed)
    names = _distinct_names(distinct, rng)
    start = dt.date(1925, 1, 1)
    days = [start + dt.timedelta(days=rng.randrange(36_000)) for _ in range(40_000)]
    formats = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日")
    birth = [d.strftime(rng.choice(formats)) for d in days]
    return pl.DataFrame(
        {
            "source": "population",
            "record_id": [str(i) for i in range(rows)],
            "role": "person",
            "name": rng.choices(names, k=rows),
            "sex": rng.choices(["男", "女", "1", "2", "M", ""], k=rows),
            "birth_date": rng.choices(birth, k=rows),
            "address": rng.choices(_ADDRESSES, k=rows),
        }
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _timed(label: str, rows: int, run: object) -> None:
    t0 = time.perf_counter()
    run()  # type: ignore[operator]
    seconds = time.perf_counter() - t0
    print(
        f"{label:<14} {rows:>9,} rows  {seconds:6.2f} s  {rows / seconds:>11,.0f} rows/s  "
        f"peak {_peak_mb():,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=50_000)
    args = parser.parse_args()
    frame = _frame(args.rows, args.distinct)
    print(
        f"polars {pl.__version__}, threads {pl.thread_pool_size()}, "
        f"input ready, peak {_peak_mb():,.0f} MB"
    )
    _timed("names", args.rows, lambda: standardise_names(frame, "name"))
    _timed("dates", args.rows, lambda: standardise_dates(frame, "birth_date"))
    _timed("person_frame", args.rows, lambda: person_frame(frame))


if __name__ == "__main__":
    main()
