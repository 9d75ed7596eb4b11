"""The pipeline's own exceptions. The CLI maps them to messages and exit codes."""


class NovaError(Exception):
    """Base class: an expected failure with a message meant for the operator."""

    exit_code = 1


class ConfigError(NovaError):
    """The config file is missing, unreadable, or has a wrong key or type."""


class DropRejected(NovaError):
    """A drop cannot be read at all; it is quarantined with this reason."""

    def __init__(self, reason: str, rows_rejected: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.rows_rejected = rows_rejected  # rows read and refused before the file was given up


class ChecksFailed(NovaError):
    """A blocking (error) check failed: nothing was published, the previous version keeps serving."""

    exit_code = 2


class BuildLocked(NovaError):
    """Another build holds the warehouse lock."""

    exit_code = 75  # EX_TEMPFAIL: the daemon waits for the other build instead of counting a failure


class WarehouseError(NovaError):
    """A warehouse file is missing, incomplete or not ours."""
