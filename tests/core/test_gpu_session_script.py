"""The prepared GPU script names only settings the benchmark knows: a typo there would waste a lent machine."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _settings():
    spec = importlib.util.spec_from_file_location("bench_update", ROOT / "benchmarks" / "bench_update.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SETTINGS


def test_every_setting_in_the_gpu_script_exists():
    script = (ROOT / "benchmarks" / "gpu_session.sh").read_text()
    named = [s for group in re.findall(r"--settings\s+(\S+)", script) for s in group.split(",")]
    assert named, "the GPU script runs no bench_update settings"
    unknown = sorted(set(named) - set(_settings()))
    assert not unknown, f"benchmarks/gpu_session.sh names unknown settings: {unknown}"


def test_probe_settings_say_what_they_change():
    settings = _settings()
    assert settings["fast-native-compiled"]["compile"] == "reduce-overhead"
    assert settings["fast-native-bf16"]["bf16"] is True
    assert settings["faithful"]["lora"] == {"impl": "peft"}  # "today's faithful" stays peft's layers


def test_the_before_settings_pin_the_layers_as_they_were():
    settings = _settings()
    before = {"impl": "native", "dropout_draw": "torch", "reuse_base": False}
    for name in ("faithful-native", "fast-native", "fast-native-2threads"):
        assert settings[name]["lora"] == before, name  # the comparison columns must not drift with the defaults
    assert settings["fast-fastdraw"]["lora"] == {**before, "dropout_draw": "fast"}
    assert settings["fast-defaults"]["lora"] == {} and settings["faithful-defaults"]["lora"] == {}
