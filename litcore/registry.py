"""The registry that the ``litcore_register_*`` hooks fill.

Validation happens at registration time (names, duplicates, kinds) so a bad
plugin fails when it loads, not in the middle of a long run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

# the one list of component kinds; each has a hook `litcore_register_<plural>`
KINDS = ("model", "dataset", "oracle", "adapter", "policy", "method", "demo")
PLURAL = {"model": "models", "dataset": "datasets", "oracle": "oracles", "adapter": "adapters",
          "policy": "policies", "method": "methods", "demo": "demos"}


def hook_name(kind: str) -> str:
    """The registration hook of a component kind (``litcore_register_policies`` for ``policy``)."""
    return f"litcore_register_{PLURAL[kind]}"
_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")


class UnknownComponentError(LookupError, ValueError):
    """Raised for a name nobody registered; the message lists what exists."""


class RegistrationError(ValueError):
    """Raised when a plugin registers something invalid or twice."""


@dataclass(frozen=True)
class Entry:
    kind: str
    name: str
    factory: Callable[..., Any]
    plugin: str
    task: str | None = None
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    # the kind of prediction a model makes or an oracle takes ("binary-mask", "label"); oracles are
    # accepted for any model whose prediction kind they take, whatever its task
    prediction: str | None = None


class Registry:
    """Components by kind and name, each remembering which plugin gave it."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}

    def registrar(self, kind: str, plugin: str) -> Callable[..., None]:
        """A ``register`` callback bound to one kind and one plugin."""

        def register(name: str, factory: Callable[..., Any], *, task: str | None = None,
                     description: str = "", prediction: str | None = None, **options: Any) -> None:
            self.add(Entry(kind, name, factory, plugin, task, description, options, prediction))

        return register

    def add(self, entry: Entry) -> None:
        if entry.kind not in self._entries:
            raise RegistrationError(f"unknown component kind {entry.kind!r} (plugin {entry.plugin!r})")
        if not _NAME.match(entry.name):
            raise RegistrationError(
                f"plugin {entry.plugin!r} registered {entry.kind} name {entry.name!r}: "
                "names are lowercase, start with a letter and use [a-z0-9_.-]"
            )
        if not callable(entry.factory):
            raise RegistrationError(f"plugin {entry.plugin!r}: factory of {entry.kind} {entry.name!r} is not callable")
        existing = self._entries[entry.kind].get(entry.name)
        if existing is not None:
            raise RegistrationError(
                f"{entry.kind} {entry.name!r} registered twice: by {existing.plugin!r} and by {entry.plugin!r}"
            )
        self._entries[entry.kind][entry.name] = entry

    def get(self, kind: str, name: str) -> Entry:
        try:
            return self._entries[kind][name]
        except KeyError:
            import difflib

            names = sorted(self._entries.get(kind, {}))
            close = difflib.get_close_matches(str(name), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownComponentError(
                f"unknown {kind} {name!r}{hint}; available {PLURAL.get(kind, kind + 's')}: "
                f"{', '.join(names) or 'none'} (see `lit plugins`)"
            ) from None

    def names(self, kind: str, task: str | None = None) -> list[str]:
        return sorted(n for n, e in self._entries[kind].items() if task is None or e.task in (None, task))

    def entries(self) -> list[Entry]:
        return [e for kind in KINDS for e in self._entries[kind].values()]

    def create(self, kind: str, name: str, **options: Any) -> Any:
        return self.get(kind, name).factory(**options)
