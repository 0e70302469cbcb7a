"""The fake task for core tests, importable as `fakeplugin` (it lives in :mod:`litcore.testing.fake`)."""

from litcore.testing.fake import *  # noqa: F401,F403  (the hookimpls too, so this module is a plugin)
from litcore.testing.fake import DEFAULT_EPISODES, TASK  # noqa: F401
