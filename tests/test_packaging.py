"""A county installs a wheel, not a checkout: build it, check what it holds, install it into a
bare virtual environment and run a night from another folder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("linkage", "flows", "data_contracts", "synth")


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # offline: the venv's own setuptools (pinned in requirements.lock), no build isolation
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            out,
            REPO,
        ],
        cwd=out,
    )
    (path,) = out.glob("renkou-*.whl")
    return path


def test_the_wheel_holds_every_package_and_the_default_settings(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for top in PACKAGES:
        for init in (REPO / top).rglob("__init__.py"):
            assert str(init.relative_to(REPO)) in names, f"{init} is not in the wheel"
    shipped = {
        n.removeprefix("linkage/configs/") for n in names if n.startswith("linkage/configs/")
    }
    expected = {str(p.relative_to(REPO / "configs")) for p in (REPO / "configs").rglob("*.toml")}
    assert expected and expected <= shipped
    assert "linkage/report/template.html" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "configs/")) for n in names)


@pytest.fixture(scope="module")
def bare_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", venv], cwd=venv)
    pip = [venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "-q"]
    # as the Makefile does: pip 23 asks a hash of an extra's requirement (sqlalchemy[asyncio])
    _run([*pip, "install", "--upgrade", "pip>=24"], cwd=venv)
    _run([*pip, "install", "--require-hashes", "-r", REPO / "requirements.lock"], cwd=venv)
    _run([*pip, "install", "--no-deps", wheel], cwd=venv)
    yield venv


@pytest.mark.slow
def test_an_installed_wheel_runs_a_night_from_another_folder(
    bare_venv: Path, tmp_path: Path
) -> None:
    work = tmp_path / "elsewhere"  # not the checkout: nothing may be read from it
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RENKOU_", "PREFECT_"))}
    env["PYTHONPATH"] = ""
    renkou = bare_venv / "bin" / "renkou"
    where = _run(
        [bare_venv / "bin" / "python", "-c", "import linkage, synth; print(linkage.__file__)"],
        cwd=work,
        env=env,
    )
    assert str(bare_venv) in where and str(REPO) not in where

    home = work / "home"
    _run([renkou, "init", home, "--county", "433127", "--name", "永顺县"], cwd=work, env=env)
    # the county's settings layer: a smaller u sample, for speed, by one key
    config = home / "config" / "renkou.toml"
    config.write_text(config.read_text("utf-8") + "\n[linkage]\nu_max_pairs = 100_000\n", "utf-8")
    _run(
        [
            renkou,
            "--home",
            home,
            "generate",
            "--persons",
            "1500",
            "--seed",
            "3",
            "--out",
            work / "county",
        ],
        cwd=work,
        env=env,
    )
    _run(
        [renkou, "--home", home, "run", "--inbox", work / "county" / "inbox", "--no-outputs"],
        cwd=work,
        env=env,
    )
    _run(
        [renkou, "--home", home, "export", "findings", "--out", work / "findings.csv"],
        cwd=work,
        env=env,
    )
    _run(
        [renkou, "--home", home, "export", "links", "--out", work / "links.csv"], cwd=work, env=env
    )
    links = pl.read_csv(work / "links.csv", infer_schema=False)
    assert links.height > 1000 and links["person_id"].null_count() < links.height
    assert (work / "findings.csv").read_bytes().startswith(b"\xef\xbb\xbf")
