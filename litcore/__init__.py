"""litcore: live interactive training, models that learn from their user's corrections.

The core defines the interfaces (episodes, oracles, adapters, update policies,
the loop) and discovers task plugins through pluggy entry points.
"""

from litcore.hookspecs import hookimpl
from litcore.types import Action, Click, Item, LabelAction, MaskAction, Review, UpdateReport

__version__ = "0.1.0"

__all__ = ["hookimpl", "Action", "Click", "Item", "LabelAction", "MaskAction", "Review", "UpdateReport", "__version__"]
