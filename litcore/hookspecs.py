"""Hook specifications: how plugins tell litcore what they provide.

Every hook is registration-only (the simonw/llm pattern): it receives a
`register` callback and calls it once per component. The hot loop never goes
through pluggy; it calls the registered objects directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:
    import argparse

hookspec = pluggy.HookspecMarker("litcore")
hookimpl = pluggy.HookimplMarker("litcore")

Register = Callable[..., None]


# --- components -------------------------------------------------------------


@hookspec
def litcore_register_models(register: Register) -> None:
    """Register task models (a backbone wrapped as a task, e.g. SAM2 for VOS).

    :param register: call ``register(name, factory, task=..., description=...)``;
        ``factory(**options)`` returns a :class:`litcore.task.TaskModel`.
    """


@hookspec
def litcore_register_datasets(register: Register) -> None:
    """Register datasets (sources of episodes).

    :param register: call ``register(name, factory, task=..., description=...)``;
        ``factory(root, **options)`` returns a :class:`litcore.task.Dataset`.
    """


@hookspec
def litcore_register_oracles(register: Register) -> None:
    """Register feedback oracles (simulated users).

    :param register: call ``register(name, factory, task=..., description=...)``;
        ``factory(**options)`` returns a :class:`litcore.oracle.FeedbackOracle`.
    """


@hookspec
def litcore_register_adapters(register: Register) -> None:
    """Register adapters (what becomes trainable: LoRA, full fine-tuning, none).

    :param register: call ``register(name, factory, description=...)``;
        ``factory(**options)`` returns a :class:`litcore.adapters.Adapter`.
    """


@hookspec
def litcore_register_policies(register: Register) -> None:
    """Register update policies (when and how the adapter trains).

    :param register: call ``register(name, factory, description=...)``;
        ``factory(**options)`` returns a :class:`litcore.policy.UpdatePolicy`.
    """


@hookspec
def litcore_register_methods(register: Register) -> None:
    """Register named methods: an adapter, an update policy and a loop mode under one name.

    :param register: call ``register(name, Method(adapter=..., policy=..., mode="propose",
        adapter_options={...}, policy_options={...}), description=...)``
        (:class:`litcore.methods.Method`); ``lit run --method NAME`` selects it.
        The built-in methods (``baseline``, ``lit-lora``, ...) register here too.
    """


@hookspec
def litcore_register_demos(register: Register) -> None:
    """Register the `lit demo` of a task (the embedded model and data, no downloads).

    :param register: call ``register(task_name, runner, task=..., description=...)``;
        ``runner(out_dir, *, videos, seed, quiet, jobs, model_options=None,
        policy_options=None) -> dict`` runs the demo and returns its summary; ``jobs`` is
        the number of worker processes (see :mod:`litcore.parallel`).
    """


# --- command line -----------------------------------------------------------


@hookspec
def litcore_register_commands(subparsers: "argparse._SubParsersAction") -> None:
    """Add sub-commands to the ``lit`` command line.

    :param subparsers: the argparse sub-parser collection of ``lit``; set
        ``func=callable(args) -> int`` on each parser you add.
    """
