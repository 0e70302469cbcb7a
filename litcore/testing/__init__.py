"""Helpers for testing litcore plugins: registries without entry points, a fake task, a contract suite.

- :func:`registry_with` / :func:`plugin_manager_with` (:mod:`.registry`): the
  built-ins plus the plugins you name, through pluggy's hook calls.
- :mod:`litcore.testing.fake`: a complete fake task (integer predictions).
- :class:`PluginContract` (:mod:`.contract`, needs pytest): subclass it to run
  the contract tests on your plugin; the checks are in :mod:`.checks`.
"""

from litcore.testing.registry import plugin_manager_with, registry_with

__all__ = ["PluginContract", "plugin_manager_with", "registry_with"]


def __getattr__(name: str):
    if name == "PluginContract":  # imports pytest, so only when asked for
        from litcore.testing.contract import PluginContract

        return PluginContract
    raise AttributeError(name)
