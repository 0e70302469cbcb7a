"""Registries and plugin managers for tests: the built-ins plus the plugins you name, no entry points.

A plugin's own tests should not depend on what else happens to be installed
(another plugin registering the same name would fail the run), so these load
only the built-ins and the given plugin modules or objects, through the same
pluggy hook calls `lit` uses.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

import pluggy

from litcore.plugins import build_registry, get_plugin_manager
from litcore.registry import Registry


def _plugin_name(plugin: Any) -> str:
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    return f"{type(plugin).__module__}.{type(plugin).__qualname__}"


def plugin_manager_with(*plugins: Any, entry_points: bool = False) -> pluggy.PluginManager:
    """A fresh manager: the built-ins, then each plugin (a module, a module name or an object with hookimpls).

    `entry_points=True` also loads the installed `litcore` entry points (a
    plugin given here that is also installed is registered once).
    """
    pm = get_plugin_manager(load_entrypoints=entry_points)
    for plugin in plugins:
        obj = importlib.import_module(plugin) if isinstance(plugin, str) else plugin
        if isinstance(obj, type):
            raise TypeError(f"plugin_manager_with: pass an instance of {obj.__name__}, not the class")
        if not pm.is_registered(obj):
            pm.register(obj, name=_plugin_name(obj))
    pm.check_pending()  # a misspelt hook fails here, as it would under `lit`
    return pm


def registry_with(*plugins: Any, entry_points: bool = False) -> Registry:
    """The registry `lit` would build with only the built-ins and `plugins` installed."""
    return build_registry(plugin_manager_with(*plugins, entry_points=entry_points))
