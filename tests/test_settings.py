"""Settings are one table, each documented in the README and read from the environment."""

from __future__ import annotations

from pathlib import Path

from augment_core import settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme_with_its_default():
    for setting in settings.SETTINGS:
        row = next((line for line in README.splitlines() if line.startswith(f"| `{setting.name}`")), None)
        assert row is not None, f"{setting.name} is not in the README's settings table"
        assert f"`{setting.default}`" in row


def test_environment_overrides_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("AUGLAB_PREVIEW_SIZE", "256")
    assert settings.get_int("AUGLAB_PREVIEW_SIZE") == 256
    monkeypatch.setenv("AUGLAB_DATA_DIR", str(tmp_path / "x"))
    assert settings.data_dir() == tmp_path / "x" and (tmp_path / "x").is_dir()
