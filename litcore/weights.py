"""Reading weight files safely: `torch.load(weights_only=True)` with one-line errors.

A checkpoint is data, never code: a pickle can run any Python when it is
loaded, so every checkpoint in litcore and its plugins goes through here and
is read as tensors and plain containers only. torch's own messages for a bad
file are paragraphs that end by suggesting `weights_only=False`, which would
run the file's code; the messages here say what is wrong with the file in one
line and never suggest that.
"""

from __future__ import annotations

import pickle
import pickletools
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

from litcore.errors import DataError

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


class CheckpointError(DataError):
    """A weight file that is missing, unreadable, unsafe, or does not fit the model."""


def _pickled_object(path: Path) -> str | None:
    """The first importable name a plain pickle file would call, read without running it (else None)."""
    strings: list[str] = []
    try:
        with open(path, "rb") as fh:
            for op, arg, _ in pickletools.genops(fh):
                if op.name == "GLOBAL":
                    return str(arg).replace(" ", ".")
                if op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    return ".".join(strings[-2:])
                if isinstance(arg, str):
                    strings.append(arg)
    except Exception:  # noqa: BLE001 - not a pickle at all: nothing to name
        return None
    return None


def load_weights(path: str | Path, what: str = "checkpoint", error: type[Exception] = CheckpointError) -> Any:
    """The tensors and containers stored in `path` (on the CPU).

    `what` names the file in messages; `error` is the exception class raised
    (a plugin's own subclass of a `LitcoreError`).
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {path} not found")
    if path.stat().st_size == 0:
        raise error(f"{what} {path} is an empty file (0 bytes)")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing a file
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _GLOBAL.search(str(exc))
        name = found.group(1) if found else _pickled_object(path)
        if name is None:
            raise error(f"{what} {path} is not a readable torch checkpoint (truncated, corrupt or "
                        "another kind of file)") from exc
        raise error(f"{what} {path} holds Python objects other than tensors ({name}); refused, because "
                    "loading them could run code (litcore reads weights only)") from exc
    except (RuntimeError, EOFError, KeyError, ValueError, OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise error(f"{what} {path} is not a readable torch checkpoint (truncated, corrupt or "
                              "another kind of file)") from exc
