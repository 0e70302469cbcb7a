"""Plugin discovery: the pluggy manager and the registry it fills.

Built-in components register through the same hooks as third-party plugins
(pytest's ``default_plugins`` idea). Third-party plugins are found through the
``litcore`` entry-point group. ``LITCORE_LOAD_PLUGINS`` (comma-separated
entry-point names; empty = none) restricts which installed plugins load;
``LITCORE_DISABLE_PLUGINS`` blocks names.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import sys
from dataclasses import dataclass, field

import pluggy

from litcore import hookspecs
from litcore.registry import KINDS, Registry, hook_name

GROUP = "litcore"
BUILTIN_PLUGINS = ("litcore.builtins", "litcore.vos.plugin")


class PluginLoadError(RuntimeError):
    """An entry point could not be imported or named an unknown plugin."""


@dataclass
class PluginInfo:
    name: str
    version: str | None
    hooks: list[str]
    registered: dict[str, list[str]] = field(default_factory=dict)


def _entry_points() -> list[md.EntryPoint]:
    return sorted(md.entry_points(group=GROUP), key=lambda ep: ep.name)


def get_plugin_manager(load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A fresh manager with built-ins and (optionally) installed plugins loaded.

    A factory rather than a module global, so every test and every run gets a
    clean manager.
    """
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    for name in filter(None, os.environ.get("LITCORE_DISABLE_PLUGINS", "").split(",")):
        pm.set_blocked(name.strip())
    for modname in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(modname), name=modname)
    if load_entrypoints:
        allow = os.environ.get("LITCORE_LOAD_PLUGINS")
        if allow is None:
            _load_all(pm)
        else:
            _load_selected(pm, [n.strip() for n in allow.split(",") if n.strip()])
    pm.check_pending()  # implementations of unknown hooks fail loudly
    return pm


def _load_all(pm: pluggy.PluginManager) -> None:
    for ep in _entry_points():
        _load_one(pm, ep)


def _load_selected(pm: pluggy.PluginManager, names: list[str]) -> None:
    eps = {ep.name: ep for ep in _entry_points()}
    for name in names:
        if name not in eps:
            known = ", ".join(sorted(eps)) or "none installed"
            raise PluginLoadError(f"LITCORE_LOAD_PLUGINS names unknown plugin {name!r}; installed: {known}")
        _load_one(pm, eps[name])


def _load_one(pm: pluggy.PluginManager, ep: md.EntryPoint) -> None:
    if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
        return
    try:
        plugin = ep.load()
    except Exception as exc:  # report which plugin broke, keep the cause
        raise PluginLoadError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
    pm.register(plugin, name=ep.name)
    pm._litcore_dists = getattr(pm, "_litcore_dists", {})  # type: ignore[attr-defined]
    pm._litcore_dists[ep.name] = ep.dist  # type: ignore[attr-defined]


def build_registry(pm: pluggy.PluginManager | None = None) -> Registry:
    """Call every registration hook through pluggy, attributing each component to its plugin.

    The hooks go through pluggy's own hook call, so ``tryfirst``/``trylast`` and
    hook wrappers apply as in any pluggy project. Which plugin called
    ``register`` is read off the call stack: the frame of one of that hook's
    implementations.
    """
    pm = pm or get_plugin_manager()
    reg = Registry()
    for kind in KINDS:
        caller = getattr(pm.hook, hook_name(kind))
        owners = {_code(impl.function): impl.plugin_name for impl in caller.get_hookimpls()}

        def register(name: str, factory, *, _kind: str = kind, _owners: dict = owners, **kw) -> None:
            reg.registrar(_kind, _calling_plugin(_owners))(name, factory, **kw)

        caller(register=register)
    return reg


def _code(function):
    return getattr(function, "__code__", None) or getattr(getattr(function, "__func__", None), "__code__", None)


def _calling_plugin(owners: dict) -> str:
    frame = sys._getframe(2)
    while frame is not None:
        owner = owners.get(frame.f_code)
        if owner is not None:
            return owner
        frame = frame.f_back
    return "<unknown>"


def plugin_infos(pm: pluggy.PluginManager, reg: Registry) -> list[PluginInfo]:
    """What `lit plugins` prints: each plugin, its version and what it registered."""
    dists = getattr(pm, "_litcore_dists", {})
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = dists.get(name)
        if dist is not None:
            version = dist.version
        elif name.startswith("litcore."):
            version = md.version("litcore") if _installed("litcore") else None
        else:
            version = None
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        registered: dict[str, list[str]] = {}
        for e in reg.entries():
            if e.plugin == name:
                registered.setdefault(e.kind, []).append(e.name)
        infos.append(PluginInfo(name, version, hooks, registered))
    return infos


def _installed(dist: str) -> bool:
    try:
        md.version(dist)
        return True
    except md.PackageNotFoundError:
        return False
