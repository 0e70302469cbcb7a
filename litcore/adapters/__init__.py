"""Adapters: which parameters of a task's adaptable module become trainable.

One module per method (the peft layout): :mod:`.lora` (LoRA; its layers in :mod:`.lora_layers`, peft for Embeddings),
:mod:`.full` (full fine-tuning of the targeted modules), :mod:`.base`
(the interface and the no-op adapter used by baselines).
"""

from litcore.adapters.base import Adapter, AdapterError, NoAdapter
from litcore.adapters.full import FullFineTune
from litcore.adapters.lora import LoraAdapter
from litcore.adapters.pool import AdapterPool

__all__ = ["Adapter", "AdapterError", "NoAdapter", "FullFineTune", "LoraAdapter", "AdapterPool"]
