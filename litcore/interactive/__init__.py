"""The interactive session API: one episode driven call by call, by a simulated user or a person."""

from litcore.interactive.records import EpisodeRecord, StepRecord, derive_seed, seed_everything
from litcore.interactive.session import InteractiveSession, SessionStateError, attach_adapter
from litcore.interactive.updates import UpdateWorker

__all__ = ["EpisodeRecord", "InteractiveSession", "SessionStateError", "StepRecord", "UpdateWorker",
           "attach_adapter", "derive_seed", "seed_everything"]
