"""Options of registered components, checked against their factories before anything runs.

A misspelt key or a value of the wrong type would otherwise surface deep in
a model build (a Hydra error, a `TypeError` traceback) or, worse, be ignored.
Every factory's options come from its signature; a factory that forwards
`**options` elsewhere declares the real set with :func:`declare_options`
(``__litcore_options__``), and without a declaration its extra keys pass
through unchecked (the factory then owns the check).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import inspect
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from litcore.errors import LitcoreError

_EMPTY = inspect.Parameter.empty


class OptionError(LitcoreError, ValueError):
    """An unknown, missing or ill-typed option of a component; the message names all three."""


@dataclass(frozen=True)
class Param:
    name: str
    hint: Any = Any
    required: bool = False


def params_of(source: Any, skip: tuple[str, ...] = ()) -> tuple[dict[str, Param], bool]:
    """The named options of a callable or dataclass, and whether it also takes `**kwargs`."""
    if dataclasses.is_dataclass(source) and isinstance(source, type):
        hints = _hints(source)
        return {f.name: Param(f.name, hints.get(f.name, Any), False)
                for f in dataclasses.fields(source) if f.name not in skip}, False
    target = source.__init__ if isinstance(source, type) else source
    try:
        sig = inspect.signature(source)
    except (TypeError, ValueError):
        return {}, True
    hints = _hints(target)
    out: dict[str, Param] = {}
    open_ = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            open_ = True
        elif p.kind is not p.VAR_POSITIONAL and p.name not in skip and p.name != "self":
            out[p.name] = Param(p.name, hints.get(p.name, Any), p.default is _EMPTY)
    return out, open_


def merged_params(*sources: Any, skip: tuple[str, ...] = ()) -> dict[str, Param]:
    """The union of the named options of `sources` (later ones win), without `skip`."""
    params: dict[str, Param] = {}
    for source in sources:
        found, _ = params_of(source, skip)
        params.update(found)
    return params


def declare_options(factory: Callable[..., Any], *sources: Any, skip: tuple[str, ...] = (),
                    lazy: Callable[[], dict[str, Param]] | None = None) -> Callable[..., Any]:
    """Say that `factory(**options)` takes exactly the options of `sources` (callables, dataclasses).

    `lazy` instead gives a function computing them when first checked, for
    sources whose import is heavy (a model class). Returns the factory.
    """
    factory.__litcore_options__ = lazy or merged_params(*sources, skip=skip)  # type: ignore[attr-defined]
    return factory


def factory_params(factory: Callable[..., Any]) -> tuple[dict[str, Param], bool]:
    declared = getattr(factory, "__litcore_options__", None)
    if callable(declared):
        declared = declared()
    if declared is not None:
        return dict(declared), False
    return params_of(factory)


def check_options(entry: Any, options: dict[str, Any]) -> None:
    """Raise :class:`OptionError` unless `options` fit `entry`'s factory (names, required keys, types)."""
    params, open_ = factory_params(entry.factory)
    what = f"{entry.kind} {entry.name!r}"
    valid = ", ".join(sorted(params)) or "none"
    for key, value in options.items():
        if key not in params:
            if open_:
                continue
            near = difflib.get_close_matches(key, list(params), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise OptionError(f"{what}: unknown option {key!r}{hint}; valid options: {valid}")
        if not fits(value, params[key].hint):
            raise OptionError(f"{what}: option {key!r} must be {_type_name(params[key].hint)}, "
                              f"got {value!r} ({type(value).__name__})")
    for p in params.values():
        if p.required and p.name not in options:
            flag = " (--root)" if p.name == "root" else ""
            raise OptionError(f"{what}: missing option {p.name!r}{flag}; valid options: {valid}")


def check_oracle(oracle_entry: Any, model_entry: Any, model: Any = None) -> None:
    """An oracle fits a model when it takes the model's kind of prediction (or, undeclared, its task)."""
    from litcore.experiment import IncompatibleComponentsError

    kind = getattr(model, "prediction_kind", None) or model_entry.prediction
    if oracle_entry.prediction is not None and kind is not None:
        if oracle_entry.prediction != kind:
            raise IncompatibleComponentsError(
                f"oracle {oracle_entry.name!r} takes {oracle_entry.prediction} predictions, "
                f"but model {model_entry.name!r} makes {kind} predictions")
        return
    if oracle_entry.task and model_entry.task and oracle_entry.task != model_entry.task:
        raise IncompatibleComponentsError(
            f"oracle {oracle_entry.name!r} is for {oracle_entry.task}, not {model_entry.task}")


def fits(value: Any, hint: Any) -> bool:
    """Whether a parsed option value (JSON: number, string, bool, list, dict, null) fits a type hint."""
    if hint is Any or hint is _EMPTY or hint is None and value is None:
        return True
    if hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    base = origin or hint
    if base is bool:
        return isinstance(value, bool) or value in (0, 1)
    if base is int:
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if base is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base is str:
        return isinstance(value, str)
    if base is Path:
        return isinstance(value, (str, Path))
    if base in (list, tuple, set, collections.abc.Sequence, collections.abc.Iterable):
        return isinstance(value, (list, tuple))
    if base is dict:
        return isinstance(value, dict)
    return True  # classes, callables, protocols: the factory knows


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    return getattr(hint, "__name__", str(hint))


def _hints(target: Any) -> dict[str, Any]:
    """Evaluated annotations; a name that cannot be evaluated (a TYPE_CHECKING import) is `Any`."""
    try:
        return typing.get_type_hints(target)
    except Exception:  # fall back one annotation at a time
        pass
    out: dict[str, Any] = {}
    module_globals = getattr(target, "__globals__", {}) or {}
    for name, ann in getattr(target, "__annotations__", {}).items():
        if isinstance(ann, str):
            try:
                ann = eval(ann, dict(module_globals), {})  # noqa: S307 - annotations of our own factories
            except Exception:
                ann = Any
        out[name] = ann
    return out
