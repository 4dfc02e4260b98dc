"""The one error tree of Clearance.

Every error the gateway can answer with carries a stable ``code`` (machine-readable, used in the OpenAI-shaped
error body, logs and audit records), an ``http_status`` and an OpenAI error ``type``::

    ClearanceError
    ├── ConfigError                    the configuration file is invalid (never raised while serving)
    ├── RequestError                   400  the caller sent something we cannot take
    │   ├── InvalidJSON                400  invalid_json
    │   ├── InvalidRequest             400  invalid_request (wrong types, missing fields)
    │   ├── UnsupportedInput           400  unsupported_input (content we cannot scan, e.g. token ids)
    │   ├── RequestTimeout             408  request_timeout (the body did not arrive in server.body_timeout)
    │   ├── PayloadTooLarge            413  payload_too_large
    │   └── UnsupportedEncoding        415  unsupported_encoding (a Content-Encoding the gateway does not decode)
    ├── NotFound                       404
    │   ├── UnknownRoute               404  unknown_route (no blind pass-through)
    │   ├── UnknownModel               404  model_not_found
    │   ├── ApprovalNotFound           404  approval_not_found (no such approval id)
    │   ├── RecordNotFound             404  record_not_found (no such audit record you may see)
    │   └── MethodNotAllowed           405  method_not_allowed
    ├── AuthenticationError            401  invalid_token, missing_credentials, …
    ├── PermissionDenied               403  blocked_by_policy, approval_required, not_allowed_from_here
    │   ├── ApprovalMismatch           403  approval_mismatch (a grant used for another body, endpoint, identity…)
    │   ├── NotAnApprover              403  not_an_approver (not in the rule's approver groups)
    │   ├── SelfApproval               403  self_approval (nobody decides their own request)
    │   ├── NotTheRequester            403  not_the_requester (only the requester cancels)
    │   ├── BreakGlassNotAllowed       403  break_glass_not_allowed (the rule has no break-glass for the caller)
    │   └── SelfReview                 403  self_review (nobody acknowledges their own break-glass)
    ├── ApprovalStateError             409  approval_conflict: the approval's state does not allow this
    │   ├── ApprovalPending            409  approval_pending (undecided yet: wait, or send it again later)
    │   ├── AlreadyApproved            409  already_approved (granted already, or this approver approved already)
    │   ├── ApprovalUsed               409  approval_used (its one use is spent, perhaps by a concurrent request)
    │   ├── ApprovalDenied             403  approval_denied (an approver said no: sending it again will not help)
    │   ├── ApprovalExpired            410  approval_expired (it lapsed, undecided or unused: ask again)
    │   ├── ApprovalCancelled          410  approval_cancelled (the requester withdrew it: ask again)
    │   ├── NoReviewPending            409  no_review_pending (not a break-glass, or acknowledged already)
    │   └── EscalationNotDue           409  escalation_not_due (no escalation, not due yet, or escalated already)
    ├── TooManyPending                 429  too_many_pending (the requester's pending approvals are at the limit)
    ├── TooManyWaiting                 429  too_many_waiting (the requester holds max_waiting requests open)
    ├── TooManyStreams                 429  too_many_streams (the caller holds as many event streams open as allowed)
    ├── RateLimited                    429  rate_limit_exceeded (requests per minute, identity or model: retry later)
    │   ├── TokenLimitExceeded         429  token_limit_exceeded (tokens per minute spent: retry once the window frees)
    │   └── StreamLimitExceeded        429  too_many_concurrent_streams (as many answers streaming as allowed)
    ├── UpstreamError                  502  the model server failed us
    │   ├── UpstreamUnreachable        502  upstream_unreachable
    │   ├── UpstreamTimeout            504  upstream_timeout
    │   └── UpstreamProtocolError      502  upstream_protocol_error (an answer we cannot parse: never relayed raw)
    ├── InspectionFailed               500  inspection_failed: detection or masking broke; nothing is forwarded
    ├── InternalError                  500  internal_error: a bug; the caller gets this, never a traceback
    ├── ServiceUnavailable             503  a dependency (IdP, audit store) is down; we fail closed
    │   ├── AuditUnavailable           503  audit_unavailable: the audit store is down and its spool full
    │   ├── GatewayDraining            503  gateway_draining: this instance is stopping (SIGTERM): send it again
    │   └── RateLimiterUnavailable     503  rate_limiter_unavailable: Redis is down or slow (limits fail closed)
    ├── IntegrityError                 500  integrity_error: the audit trail failed a cryptographic check
    │   ├── ProofFailed                500  proof_failed (a Merkle inclusion or consistency proof does not hold)
    │   ├── MalformedNote              500  malformed_note (a signed note or checkpoint breaks its format)
    │   ├── SignatureRejected          500  signature_rejected (a wrong key, changed text, or no known signer)
    │   ├── MalformedKey               500  malformed_key (a signing, verifier or key-encryption key is unusable)
    │   ├── MalformedEnvelope          500  malformed_envelope (an encrypted original is not a valid envelope)
    │   ├── UnknownKeyId               500  unknown_key_id (an envelope's key-encryption key is not in the keyring)
    │   ├── DecryptionFailed           500  decryption_failed (another record's id, or a changed byte)
    │   └── CheckpointExportFailed     500  checkpoint_export_failed (a checkpoint could not be put out of reach)
    └── LocalModelError                     the bundled local model could not be provisioned or started
                                            (raised at start-up, never while serving)
"""

from __future__ import annotations


class ClearanceError(Exception):
    """Base of every Clearance error. ``message`` is safe to show to the caller: it never holds payload text."""

    http_status: int = 500
    code: str = "internal_error"
    type: str = "server_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param
        self.headers: dict[str, str] = dict(headers or {})
        self.details: dict[str, object] = dict(details or {})
        """Extra machine-readable fields for the error body (a decision's rule and reasons, say)."""


class ConfigError(ClearanceError):
    """The configuration is invalid. ``errors`` lists every problem as ``(key path, message)``."""

    code = "invalid_config"

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [])


class RequestError(ClearanceError):
    http_status = 400
    code = "invalid_request"
    type = "invalid_request_error"


class InvalidJSON(RequestError):
    code = "invalid_json"


class InvalidRequest(RequestError):
    code = "invalid_request"


class UnsupportedInput(RequestError):
    code = "unsupported_input"


class RequestTimeout(RequestError):
    http_status = 408
    code = "request_timeout"


class PayloadTooLarge(RequestError):
    http_status = 413
    code = "payload_too_large"


class UnsupportedEncoding(RequestError):
    http_status = 415
    code = "unsupported_encoding"


class NotFound(ClearanceError):
    http_status = 404
    code = "not_found"
    type = "invalid_request_error"


class UnknownRoute(NotFound):
    code = "unknown_route"


class UnknownModel(NotFound):
    code = "model_not_found"


class MethodNotAllowed(NotFound):
    http_status = 405
    code = "method_not_allowed"


class ApprovalNotFound(NotFound):
    """No approval has this id (or it is not one the caller may see)."""

    code = "approval_not_found"


class RecordNotFound(NotFound):
    """No audit record has this id (or it is not one the caller may see)."""

    code = "record_not_found"


class AuthenticationError(ClearanceError):
    http_status = 401
    code = "invalid_token"
    type = "authentication_error"


class PermissionDenied(ClearanceError):
    http_status = 403
    code = "blocked_by_policy"
    type = "permission_error"


class ApprovalMismatch(PermissionDenied):
    """An approval's grant presented for something it was not given for: another body, another identity, another
    rule or policy version. 403: the grant exists but does not cover this request; ``details['mismatch']`` says
    which binding failed (``requester``, ``body``, ``endpoint``, ``rule``, ``policy``)."""

    code = "approval_mismatch"


class NotAnApprover(PermissionDenied):
    """The caller is in none of the approver groups of the approval's rule."""

    code = "not_an_approver"


class SelfApproval(PermissionDenied):
    """The caller asked for this approval: nobody approves (or denies) their own request."""

    code = "self_approval"


class NotTheRequester(PermissionDenied):
    """Only the requester may cancel their approval request."""

    code = "not_the_requester"


class BreakGlassNotAllowed(PermissionDenied):
    """``X-Clearance-Break-Glass`` was sent, but the rule that decided allows no break-glass, or not for a group of
    the caller's."""

    code = "break_glass_not_allowed"


class SelfReview(PermissionDenied):
    """The requester of a break-glass approval may not acknowledge it: someone else reviews it."""

    code = "self_review"


class ApprovalStateError(ClearanceError):
    """The approval is in a state that does not allow what was asked.

    The statuses say what the caller can do about it. 409 Conflict where the request clashes with the approval's
    current state, which another party moves (pending: an approver may still decide; used: the one use went to
    another request, perhaps a concurrent one; already approved: nothing left to add). 403 for a denial: a person
    refused, and sending the same request again will not change that. 410 Gone where the approval ended without
    being decided or used (expired, cancelled): it will never serve again, and the remedy is a new request.
    """

    http_status = 409
    code = "approval_conflict"
    type = "invalid_request_error"


class ApprovalPending(ApprovalStateError):
    code = "approval_pending"


class AlreadyApproved(ApprovalStateError):
    code = "already_approved"


class ApprovalUsed(ApprovalStateError):
    code = "approval_used"


class ApprovalDenied(ApprovalStateError):
    http_status = 403
    code = "approval_denied"
    type = "permission_error"


class ApprovalExpired(ApprovalStateError):
    http_status = 410
    code = "approval_expired"


class ApprovalCancelled(ApprovalStateError):
    http_status = 410
    code = "approval_cancelled"


class NoReviewPending(ApprovalStateError):
    """Only a break-glass approval awaiting review can be acknowledged, and only once."""

    code = "no_review_pending"


class EscalationNotDue(ApprovalStateError):
    """The approval has no escalation, it is not due yet, or it was escalated already (by another instance)."""

    code = "escalation_not_due"


class TooManyPending(ClearanceError):
    """The requester has as many pending approvals as the configuration allows; 429: wait for some to be decided
    (or cancel some) before asking for more."""

    http_status = 429
    code = "too_many_pending"
    type = "rate_limit_error"


class TooManyWaiting(ClearanceError):
    """The requester already holds as many requests open waiting for a decision (``X-Clearance-Wait``) as the
    configuration allows on this instance; 429: let one finish, or send without the header and come back with
    ``X-Clearance-Approval``."""

    http_status = 429
    code = "too_many_waiting"
    type = "rate_limit_error"


class TooManyStreams(ClearanceError):
    """The caller already holds as many approval event streams open on this instance as allowed; 429: close one (a
    console tab) first."""

    http_status = 429
    code = "too_many_streams"
    type = "rate_limit_error"


class RateLimited(ClearanceError):
    """The caller spent a rate limit (``clearance.limits``): requests per minute here, tokens per minute and
    concurrent streams in the subclasses. 429 with ``Retry-After`` (whole seconds) and the ``x-ratelimit-*``
    headers; ``details['limit']`` names the limit and ``details['scope']`` where it was set. The message names the
    limit and when to retry, never anything from the request."""

    http_status = 429
    code = "rate_limit_exceeded"
    type = "rate_limit_error"


class TokenLimitExceeded(RateLimited):
    """The caller's tokens per minute (as the upstream reported them) are spent; refused until the window frees
    enough."""

    code = "token_limit_exceeded"


class StreamLimitExceeded(RateLimited):
    """The caller already has as many answers streaming as allowed (across every instance); one must end first."""

    code = "too_many_concurrent_streams"


class UpstreamError(ClearanceError):
    http_status = 502
    code = "upstream_error"
    type = "upstream_error"


class UpstreamUnreachable(UpstreamError):
    code = "upstream_unreachable"


class UpstreamTimeout(UpstreamError):
    http_status = 504
    code = "upstream_timeout"


class UpstreamProtocolError(UpstreamError):
    code = "upstream_protocol_error"


class InspectionFailed(ClearanceError):
    http_status = 500
    code = "inspection_failed"
    type = "server_error"


class InternalError(ClearanceError):
    """An unexpected failure (a bug). Its message is fixed: an exception's own text could hold payload text."""

    http_status = 500
    code = "internal_error"
    type = "server_error"


class ServiceUnavailable(ClearanceError):
    http_status = 503
    code = "service_unavailable"
    type = "server_error"


class AuditUnavailable(ServiceUnavailable):
    """The audit store is down and the audit spool is full or unwritable: the request is refused rather than served
    without its record. Fix the store (or free the spool's disk); ``/readyz`` says when records can be kept again."""

    code = "audit_unavailable"


class GatewayDraining(ServiceUnavailable):
    """This gateway instance is stopping (a SIGTERM drain, docs/scaling.md): a request it could not finish before
    its drain deadline (a stream cut there, an approval waited for) is answered or recorded with this. Sending it
    again reaches an instance that is not stopping; nothing stored (an approval, a grant) is lost. The code says
    why: ``gateway_draining``, or ``drain_deadline`` for a request cut at the deadline."""

    code = "gateway_draining"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message, code=code, headers={"Retry-After": str(retry_after)})


class RateLimiterUnavailable(ServiceUnavailable):
    """Redis, where the rate limits are counted, did not answer in time and ``limits.on_redis_down`` is ``closed``
    (the default): a caller with limits is refused rather than served uncounted. Retryable (``Retry-After``)."""

    code = "rate_limiter_unavailable"


class IntegrityError(ClearanceError):
    """The audit trail's cryptography refused something: a proof, a signed checkpoint, a key or an encrypted
    original. Raised by the offline verifier and the audit writer, never on a caller's request; messages name
    sizes, indexes, key names and ids, never record contents or key material."""

    http_status = 500
    code = "integrity_error"
    type = "server_error"


class ProofFailed(IntegrityError):
    code = "proof_failed"


class MalformedNote(IntegrityError):
    code = "malformed_note"


class SignatureRejected(IntegrityError):
    code = "signature_rejected"


class MalformedKey(IntegrityError):
    code = "malformed_key"


class MalformedEnvelope(IntegrityError):
    code = "malformed_envelope"


class UnknownKeyId(IntegrityError):
    code = "unknown_key_id"


class DecryptionFailed(IntegrityError):
    code = "decryption_failed"


class CheckpointExportFailed(IntegrityError):
    code = "checkpoint_export_failed"


class LocalModelError(ClearanceError):
    """Provisioning or starting the bundled local model failed. The message says what to do next."""

    code = "local_model_error"
