"""Plugin discovery, the registry the hooks fill, and the hook contract itself."""

from __future__ import annotations

import importlib.metadata as md
import re
import sys
import types
from pathlib import Path

import pluggy
import pytest

from litcore import hookspecs, plugins
from litcore.hookspecs import hookimpl
from litcore.plugins import PluginLoadError, build_registry, get_plugin_manager, plugin_infos
from litcore.registry import KINDS, Entry, RegistrationError, Registry, UnknownComponentError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HOOKS = sorted(n for n in dir(hookspecs) if n.startswith("litcore_"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("LITCORE_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("LITCORE_DISABLE_PLUGINS", raising=False)


def _module(name: str, monkeypatch, **hooks) -> types.ModuleType:
    """A plugin module importable by `name` (for BUILTIN_PLUGINS) holding the given hookimpls."""
    mod = types.ModuleType(name)
    for hook, fn in hooks.items():
        fn.__name__ = hook
        setattr(mod, hook, hookimpl(fn))
    monkeypatch.setitem(sys.modules, name, mod)
    return mod


# --- built-ins and entry points -------------------------------------------------


def test_builtins_register_through_the_hooks():
    pm = get_plugin_manager(load_entrypoints=False)
    reg = build_registry(pm)
    assert reg.names("adapter") == ["full", "lora", "lora-pool", "none"]
    assert reg.names("policy") == ["calibrated", "every", "first", "replay"]
    assert reg.names("oracle") == ["mask-clicks", "vos-clicks"]
    assert reg.get("oracle", "vos-clicks").prediction == reg.get("oracle", "mask-clicks").prediction == "binary-mask"
    assert reg.names("method") == ["baseline", "lit-3lora", "lit-auto", "lit-ft", "lit-lora", "no-cl", "replace-decoder"]
    assert reg.names("dataset") == ["davis", "lvos", "mose", "sav", "synth", "vost"]
    assert reg.names("model") == []  # models only come from plugins
    # they went through pluggy: each hook has the built-in module as an implementation
    impl_plugins = {i.plugin_name for i in pm.hook.litcore_register_adapters.get_hookimpls()}
    assert impl_plugins == {"litcore.builtins"}


def test_builtin_factories_build_working_components():
    reg = build_registry(get_plugin_manager(load_entrypoints=False))
    assert reg.create("adapter", "lora", rank=2).rank == 2
    assert reg.create("policy", "first").config.trigger == "first"
    assert reg.create("policy", "replay").config.replay == 4
    assert reg.create("policy", "replay", replay=2).config.replay == 2
    oracle = reg.create("oracle", "vos-clicks", tau=0.7)
    assert oracle.tau == pytest.approx(0.7)


def test_installed_sam2_entry_point_is_discovered():
    eps = {ep.name: ep for ep in md.entry_points(group=plugins.GROUP)}
    assert "sam2" in eps
    pm = get_plugin_manager()
    assert pm.has_plugin("sam2")
    entry = build_registry(pm).get("model", "sam2")
    assert entry.plugin == "sam2" and entry.task == "vos"
    assert entry.factory is eps["sam2"].load().sam2_model


def test_empty_load_list_loads_no_entry_point(monkeypatch):
    monkeypatch.setenv("LITCORE_LOAD_PLUGINS", "")
    pm = get_plugin_manager()
    assert not pm.has_plugin("sam2")
    reg = build_registry(pm)
    with pytest.raises(UnknownComponentError, match="sam2"):
        reg.get("model", "sam2")
    assert reg.names("adapter") == ["full", "lora", "lora-pool", "none"]  # built-ins still load


def test_load_list_selects_plugins(monkeypatch):
    monkeypatch.setenv("LITCORE_LOAD_PLUGINS", " sam2 ,")
    assert build_registry(get_plugin_manager()).get("model", "sam2").plugin == "sam2"


def test_load_list_with_unknown_name_raises(monkeypatch):
    monkeypatch.setenv("LITCORE_LOAD_PLUGINS", "nope")
    with pytest.raises(PluginLoadError, match="'nope'") as info:
        get_plugin_manager()
    assert "sam2" in str(info.value)  # the message lists what is installed


@pytest.mark.parametrize("load", [None, "sam2"])
def test_disable_blocks_a_plugin(monkeypatch, load):
    if load is not None:
        monkeypatch.setenv("LITCORE_LOAD_PLUGINS", load)
    monkeypatch.setenv("LITCORE_DISABLE_PLUGINS", "sam2")
    pm = get_plugin_manager()
    assert pm.is_blocked("sam2") and not pm.has_plugin("sam2")
    assert "sam2" not in build_registry(pm).names("model")


def test_broken_entry_point_names_the_plugin(monkeypatch):
    broken = md.EntryPoint(name="broken", value="litcore_no_such_module_xyz:plugin", group=plugins.GROUP)
    monkeypatch.setattr(plugins, "_entry_points", lambda: [broken])
    with pytest.raises(PluginLoadError, match="'broken'") as info:
        get_plugin_manager()
    assert isinstance(info.value.__cause__, ImportError)


# --- hook validation --------------------------------------------------------------


class _WidgetPlugin:
    @hookimpl
    def litcore_register_widgets(self, register):  # no such hookspec
        register("w", object)


def test_unknown_hook_fails_check_pending():
    pm = get_plugin_manager(load_entrypoints=False)
    pm.check_pending()  # the built-ins alone are valid
    pm.register(_WidgetPlugin(), name="widgets")
    with pytest.raises(pluggy.PluginValidationError, match="litcore_register_widgets"):
        pm.check_pending()


def test_get_plugin_manager_rejects_unknown_hooks(monkeypatch):
    _module("litcore_test_widgets", monkeypatch, litcore_register_widgets=lambda register: None)
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", (*plugins.BUILTIN_PLUGINS, "litcore_test_widgets"))
    with pytest.raises(pluggy.PluginValidationError):
        get_plugin_manager(load_entrypoints=False)


def test_hookimpl_with_wrong_argument_is_rejected_at_register():
    pm = get_plugin_manager(load_entrypoints=False)

    class Bad:
        @hookimpl
        def litcore_register_models(self, register, extra):
            pass

    with pytest.raises(pluggy.PluginValidationError):
        pm.register(Bad(), name="bad")


# --- the registry -----------------------------------------------------------------


def test_unknown_component_lists_available_names():
    reg = build_registry(get_plugin_manager(load_entrypoints=False))
    with pytest.raises(UnknownComponentError) as info:
        reg.create("adapter", "lorax")
    msg = str(info.value)
    assert "'lorax'" in msg
    assert all(n in msg for n in ("full", "lora", "none"))
    with pytest.raises(UnknownComponentError, match="available policies: calibrated, every, first, replay"):
        reg.get("policy", "sometimes")


def test_duplicate_registration_names_both_plugins(monkeypatch):
    _module("litcore_test_dup", monkeypatch,
            litcore_register_adapters=lambda register: register("lora", lambda **kw: None))
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", (*plugins.BUILTIN_PLUGINS, "litcore_test_dup"))
    pm = get_plugin_manager(load_entrypoints=False)
    with pytest.raises(RegistrationError) as info:
        build_registry(pm)
    msg = str(info.value)
    assert "'lora'" in msg
    # pluggy's call order (the later-registered plugin first): the first caller keeps the name
    assert msg.index("'litcore_test_dup'") < msg.index("'litcore.builtins'")


def test_registration_goes_through_pluggys_hook_call_order(monkeypatch):
    seen: list[str] = []
    _module("litcore_test_a", monkeypatch, litcore_register_datasets=lambda register: seen.append("a"))
    _module("litcore_test_b", monkeypatch, litcore_register_datasets=lambda register: seen.append("b"))
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", ("litcore_test_a", "litcore_test_b"))
    build_registry(get_plugin_manager(load_entrypoints=False))
    assert seen == ["b", "a"]  # pluggy calls the most recently registered plugin first


def test_tryfirst_and_hook_wrappers_apply_to_registration(monkeypatch):
    seen: list[str] = []

    def early(register):
        seen.append("a")
        register("early-data", dict, task="t")

    def wrapper(register):
        seen.append("wrap-before")
        result = yield
        seen.append("wrap-after")
        return result

    _module("litcore_test_a", monkeypatch, litcore_register_datasets=early)
    _module("litcore_test_b", monkeypatch, litcore_register_datasets=lambda register: seen.append("b"))
    _module("litcore_test_w", monkeypatch, litcore_register_datasets=wrapper)
    # the markers `_module` applies carry no options: set pluggy's tryfirst / wrapper ones
    hookimpl(tryfirst=True)(sys.modules["litcore_test_a"].litcore_register_datasets)
    hookimpl(wrapper=True)(sys.modules["litcore_test_w"].litcore_register_datasets)
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", ("litcore_test_a", "litcore_test_b", "litcore_test_w"))
    reg = build_registry(get_plugin_manager(load_entrypoints=False))
    assert seen == ["wrap-before", "a", "b", "wrap-after"]
    assert reg.get("dataset", "early-data").plugin == "litcore_test_a"


@pytest.mark.parametrize("name", ["LoRA", "1lora", "lo ra", "", "lora/x", "-x", "_x"])
def test_invalid_names_are_rejected(name):
    register = Registry().registrar("adapter", "someplugin")
    with pytest.raises(RegistrationError, match="someplugin"):
        register(name, dict)


@pytest.mark.parametrize("name", ["a", "lora", "sam2.1-tiny", "x_y", "v0.2"])
def test_valid_names_are_accepted(name):
    reg = Registry()
    reg.registrar("adapter", "p")(name, dict, description="d")
    assert reg.get("adapter", name) == Entry("adapter", name, dict, "p", None, "d", {})


def test_non_callable_factory_and_unknown_kind_are_rejected():
    reg = Registry()
    with pytest.raises(RegistrationError, match="not callable"):
        reg.registrar("model", "p")("m", 42)
    with pytest.raises(RegistrationError, match="widget"):
        reg.registrar("widget", "p")("w", dict)
    assert reg.entries() == []


def test_names_filter_by_task():
    reg = Registry()
    reg.registrar("oracle", "p")("generic", dict)
    reg.registrar("oracle", "p")("clicks", dict, task="vos")
    reg.registrar("oracle", "p")("labels", dict, task="cls")
    assert reg.names("oracle") == ["clicks", "generic", "labels"]
    assert reg.names("oracle", task="vos") == ["clicks", "generic"]
    assert reg.names("oracle", task="cls") == ["generic", "labels"]


def test_plugin_infos_attribute_components_to_plugins():
    pm = get_plugin_manager()
    reg = build_registry(pm)
    infos = {i.name: i for i in plugin_infos(pm, reg)}
    assert {"litcore.builtins", "litcore.vos.plugin", "sam2"} <= set(infos)  # other plugins may be installed
    builtins, vos, sam2 = (infos[n].registered for n in ("litcore.builtins", "litcore.vos.plugin", "sam2"))
    assert sorted(builtins["adapter"]) == ["full", "lora", "lora-pool", "none"]
    assert sorted(builtins["policy"]) == ["calibrated", "every", "first", "replay"]
    assert sorted(vos["dataset"]) == ["davis", "lvos", "mose", "sav", "synth", "vost"]
    assert vos["oracle"] == ["vos-clicks"] and builtins["oracle"] == ["mask-clicks"]
    assert sam2["model"] == ["sam2"]
    assert not {"model", "dataset"} & set(builtins) and "model" not in vos
    assert "litcore_register_models" in infos["sam2"].hooks
    assert "litcore_register_adapters" not in infos["sam2"].hooks
    assert "litcore_register_commands" in infos["litcore.vos.plugin"].hooks
    sam2_dist = next(ep for ep in md.entry_points(group=plugins.GROUP) if ep.name == "sam2").dist
    assert infos["sam2"].version == sam2_dist.version
    # every registered component is attributed to exactly one listed plugin
    listed = sorted((k, n) for i in infos.values() for k, ns in i.registered.items() for n in ns)
    assert listed == sorted((e.kind, e.name) for e in reg.entries())


# --- the hook contract: implemented somewhere, documented -------------------------


def test_every_hookspec_is_known_to_the_manager():
    pm = get_plugin_manager()
    names = sorted(n for n in dir(pm.hook) if n.startswith("litcore_"))
    assert names == HOOKS
    assert {f"litcore_register_{k}s" if k != "policy" else "litcore_register_policies" for k in KINDS} < set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_an_implementation(hook):
    pm = get_plugin_manager()
    impls = getattr(pm.hook, hook).get_hookimpls()
    assert impls, f"no built-in or installed plugin implements {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook):
    if not DOCS.is_file():
        pytest.skip("docs/plugins.md not written yet")
    pm = get_plugin_manager(load_entrypoints=False)
    argnames = getattr(pm.hook, hook).spec.argnames
    signature = f"{hook}({', '.join(argnames)})"
    text = DOCS.read_text()
    assert re.search(re.escape(signature), text), f"docs/plugins.md lacks {signature}"
