"""Settings: package defaults, then HOME/config, then $RENKOU_CONFIG, key by key; typed; a
misspelt key or a secret in a file refused; every command reads the same layers."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from linkage.errors import ConfigError
from linkage.settings import init_home, load_settings, package_defaults
from linkage.store import Store


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RENKOU_CONFIG", raising=False)
    monkeypatch.delenv("RENKOU_SHEET_PASSWORD", raising=False)


def test_layers_merge_key_by_key_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tomllib.loads(package_defaults().joinpath("renkou.toml").read_text("utf-8"))
    home, env = tmp_path / "home", tmp_path / "env"
    _write(home / "config", "renkou.toml", "[linkage]\nseed = 7\nu_max_pairs = 5000\n")
    _write(env, "renkou.toml", "[linkage]\nseed = 9\n")

    assert load_settings(home).seed == 7  # the home over the package
    monkeypatch.setenv("RENKOU_CONFIG", str(env))
    s = load_settings(home)
    assert s.seed == 9  # the environment's folder over the home
    assert s.u_max_pairs == 5000  # the home's other key still holds
    assert s.cron == shipped["schedule"]["cron"]  # untouched keys keep the package default
    assert "config/renkou.toml" in s.origin and str(env) in s.origin


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _write(home / "config", "renkou.toml", "[linkage]\nseed = 7\n")
    assert load_settings(home).seed == 7
    _write(home / "config", "renkou.toml", "[linkage]\nseed = 8\n# changed\n")
    assert load_settings(home).seed == 8


def test_source_settings_are_typed_and_arrays_replace(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _write(
        home / "config",
        "sources/death.toml",
        '[decision]\nmatch_probability = 0.999\n\n[[comparisons]]\ntype = "name"\n',
    )
    death = load_settings(home).source("death")
    shipped = load_settings().source("death")
    assert death.decision.match_probability == 0.999
    assert death.decision.min_weight_margin == shipped.decision.min_weight_margin
    assert [c["type"] for c in death.raw["comparisons"]] == ["name"]  # replaced whole
    assert death.training == shipped.training
    assert isinstance(death.training.em_blocks, tuple)


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("renkou.toml", "[privacy]\nmask_keep_hed = 3\n", "privacy.mask_keep_hed"),
        ("renkou.toml", '[county]\ncode = "4331"\n', "6-digit"),
        ("renkou.toml", '[linkage]\nbackend = "oracle"\n', "backend"),
        ("tasks.toml", '[workbook]\npassword = "123"\n', "secret"),
        ("renkou.toml", '[storage]\nencryption_key = "abc"\n', "secret"),
        ("sources/death.toml", "[decision]\nmatch_probabilty = 0.9\n", "match_probabilty"),
        ("sources/death.toml", "[decision]\nmatch_probability = 1.5\n", "match_probability"),
        ("renkou.toml", "[linkage\nseed = 1\n", "not valid TOML"),
    ],
)
def test_mistakes_in_a_file_are_refused_with_the_file_and_the_fix(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    home = tmp_path / "home"
    _write(home / "config", name, text)
    with pytest.raises(ConfigError, match="Fix") as raised:
        load_settings(home).source("death")
    assert says in str(raised.value) and name.split("/")[-1] in str(raised.value)


def test_the_sheet_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().tasks.password == ""
    monkeypatch.setenv("RENKOU_SHEET_PASSWORD", "s3cret")
    assert load_settings().tasks.password == "s3cret"


def test_init_writes_the_county_and_every_other_key_commented(tmp_path: Path) -> None:
    home = tmp_path / "home"
    written = init_home(home, county_code="430521", county_name="邵东市")
    assert {p.name for p in written} >= {"renkou.toml", "tasks.toml", "death.toml"}
    for path in written:  # only [county] is live: every other key stays the package's
        live = tomllib.loads(path.read_text("utf-8"))
        assert live == (
            {"county": {"code": "430521", "name": "邵东市"}} if path.name == "renkou.toml" else {}
        )
    s = load_settings(home)
    assert (s.county_code, s.county_name) == ("430521", "邵东市")
    mine, shipped = s.source("death"), load_settings().source("death")
    assert (mine.raw, mine.decision, mine.training) == (
        shipped.raw,
        shipped.decision,
        shipped.training,
    )
    with pytest.raises(ConfigError, match="exists already"):
        init_home(home, county_code="430521", county_name="邵东市")


def test_the_generator_reads_the_same_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synth.config import CountyConfig, ErrorModel

    default = ErrorModel.load().rate("death", "homophone")
    env = tmp_path / "env"
    _write(env, "error_model.toml", "[death]\nhomophone = 0.5\n")
    monkeypatch.setenv("RENKOU_CONFIG", str(env))
    assert ErrorModel.load().rate("death", "homophone") == 0.5 != default
    home = tmp_path / "home"
    _write(home / "config", "county.toml", '[county]\ncode = "433101"\n')
    assert CountyConfig.load(home=home).code == "433101"


def test_duckdb_out_of_core_settings_reach_the_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    spill = tmp_path / "spill"
    _write(
        home / "config",
        "renkou.toml",
        f'[duckdb]\nmemory_limit = "1GB"\ntemp_directory = "{spill}"\n',
    )
    with Store(home) as store:
        limit = store.scalar("SELECT current_setting('memory_limit')")
        folder = store.scalar("SELECT current_setting('temp_directory')")
    assert str(limit).replace(" ", "") in ("953.6MiB", "1.0GB", "1GB", "953.6MB")
    assert folder == str(spill) and spill.is_dir()


def test_a_memory_limit_that_is_no_size_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _write(home / "config", "renkou.toml", '[duckdb]\nmemory_limit = "lots"\n')
    with pytest.raises(ConfigError, match=r"\[duckdb\] memory_limit = 'lots'.*16GB"):
        load_settings(home)
