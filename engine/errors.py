"""The engine's error hierarchy: every error a service raises is a JienanError with a user-facing message."""

from __future__ import annotations


class JienanError(Exception):
    """Root of every error the engine raises on purpose. `message` is safe to show to the user."""

    http_status = 400

    def __init__(self, message: str, **context):
        super().__init__(message)
        self.message = message
        self.context = context


class NotFound(JienanError):
    """The thing asked for does not exist (or the user may not know it exists)."""

    http_status = 404


class PermissionDenied(JienanError):
    """The user is known but may not see or do this."""

    http_status = 403


class Conflict(JienanError):
    """Someone else acted first: the task is no longer ready or the instance changed under us."""

    http_status = 409


class RateLimited(JienanError):
    """Too many attempts from one client in a while (public forms, wrong passwords). `retry_after`: seconds."""

    http_status = 429

    def __init__(self, message: str, retry_after: int | None = None, **context):
        super().__init__(message, **context)
        self.retry_after = retry_after


class ValidationFailed(JienanError):
    """Input did not pass validation. `errors` maps a field name (or "" for the whole form) to a message."""

    http_status = 422

    def __init__(self, message: str, errors: dict[str, str] | None = None, **context):
        super().__init__(message, **context)
        self.errors = dict(errors or {})


class SpecError(JienanError):
    """A BPMN diagram, DMN table or form definition is invalid. `problems` pins messages to element ids."""

    http_status = 422

    def __init__(self, message: str, problems: list[dict] | None = None, **context):
        super().__init__(message, **context)
        self.problems = list(problems or [])


class RuleError(SpecError):
    """A DMN decision table does not parse or cannot decide (names the rule and column)."""


class ScriptError(JienanError):
    """A script, condition or expression was refused by the restricted environment or failed."""

    http_status = 422
