"""Error types shared by the core and plugins, so the CLI can report them without a traceback."""


class LitcoreError(Exception):
    """Base of every error whose message is the whole story for the user."""


class DataError(LitcoreError):
    """Bad input data: a missing frame, an unreadable file, a mask of the wrong size or kind.

    Messages always name the offending file, folder or item.
    """
