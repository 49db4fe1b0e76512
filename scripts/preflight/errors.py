"""How a failed AWS call becomes one report line: never a traceback, always what to check by hand."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from scripts.preflight.model import Check, CheckResult, Status

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "Forbidden",
        "403",
    }
)
# What an endpoint says when it does not offer the call at all (an emulator, a region without it).
UNAVAILABLE_CODES = frozenset(
    {"404", "500", "501", "NotImplemented", "UnknownOperationException", "InvalidAction"}
)


def error_code(error: BaseException) -> str:
    """The AWS error code of a ClientError (``AccessDenied``), else the exception's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "")) or "ClientError"
    return type(error).__name__


def is_access_denied(error: BaseException) -> bool:
    return isinstance(error, ClientError) and error_code(error) in ACCESS_DENIED_CODES


def is_unavailable(error: BaseException) -> bool:
    """The call cannot be answered here (not implemented, no endpoint), as opposed to a refusal."""
    if isinstance(error, ClientError):
        return error_code(error) in UNAVAILABLE_CODES
    return isinstance(error, BotoCoreError | NotImplementedError)


def unexpected(check: Check, error: BaseException) -> CheckResult:
    """A check that could not run is a WARN naming the error and how to check the item by hand."""
    code = error_code(error)
    if is_access_denied(error):
        detail = f"not checked: the caller may not make this call ({code})"
        action = f"grant read access to the preflight role, or check by hand: {check.manual}"
    elif is_unavailable(error):
        detail = f"not checked: the endpoint does not answer this call ({code})"
        action = f"check by hand: {check.manual}"
    else:
        detail = f"not checked: unexpected error {code}"
        action = f"check by hand: {check.manual}"
    return CheckResult(check.item, Status.WARN, detail, action, check.hipaa)
