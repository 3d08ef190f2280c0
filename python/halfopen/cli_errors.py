"""The error the command line reports as one line, without a traceback."""


class UserError(Exception):
    """A mistake of the operator's (or a refusal of a tool), reported as one line."""
