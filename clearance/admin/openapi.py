"""The admin API's OpenAPI 3.1 document, generated from the pydantic models of ``clearance.admin.resources`` (OpenAPI
3.1 schemas are JSON Schema 2020-12, which pydantic writes), so the document cannot drift from what is sent."""

from __future__ import annotations

from typing import Any, Final, get_args

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from clearance.admin.keys import KeyPage, KeyResource, NewKeyBody, NewKeyResource
from clearance.admin.policy_resources import (
    PolicyDiffResource,
    PolicyResource,
    PolicyTestBody,
    PolicyTestResult,
    PolicyVersionPage,
    PolicyVersionResource,
)
from clearance.admin.record_export import EXPORT_FORMATS
from clearance.admin.record_resources import MAX_TOP, RecordPage, RecordResource, RecordStory, StatsResource
from clearance.admin.resources import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ApprovalPage,
    ApprovalResource,
    DecisionBody,
    ErrorResponse,
)
from clearance.admin.reveal import RevealBody, RevealedOriginals, RevealPage
from clearance.approvals.model import FINAL_STATES, ReviewState

_REF: Final = "#/components/schemas/{model}"
_ERRORS: Final = {
    "400": "invalid request: malformed JSON, a bad parameter, a reason too long",
    "401": "no credentials, or credentials the gateway does not accept",
    "403": "no role in the policy, not an approver of this approval, your own request, or it was denied",
    "409_review": "not a break-glass approval awaiting review (or acknowledged already)",
    "404": "no such approval that you may see",
    "404_record": "no such record that you may see",
    "403_records": "listing every record needs the auditor role (mine=true lists your own)",
    "400_export": "invalid request: a bad parameter, or the filter matches more than audit.export_max_rows records",
    "409": "the approval's state does not allow this (already approved, used, …)",
    "410": "the approval expired or was cancelled",
    "408": "the body did not arrive in time",
    "413": "the body is larger than a reason needs (16 KiB)",
    "400_reveal": "invalid request: malformed JSON, a missing or too long reason",
    "403_auditor": "not the auditor role",
    "404_originals": "no such record, no originals kept for it (or erased), or audit.originals is off",
    "500_sealed": "the originals do not open: a key not in the keyring, or an envelope that was changed",
    "429_streams": "you hold as many event streams open as allowed: close one first",
    "400_key": "invalid request: malformed JSON, a missing name, a bad group or expiry",
    "403_admin": "not the admin role",
    "404_keys": "API keys are disabled on this gateway (auth.api_keys.enabled)",
    "404_key": "no API key with this id, or API keys are disabled on this gateway",
    "413_key": "the body is larger than a key's settings need (16 KiB)",
    "400_stats": "invalid request: a bad time, since not before until, a bucket too short for the window, a bad top",
    "403_stats": "neither the auditor nor the admin role",
    "400_policy": "invalid request: a bad parameter (a digest is 64 lower-case hex digits, limit, cursor)",
    "400_policy_test": "invalid request: malformed JSON, a bad field, or an invalid draft (every error listed in "
    "error.errors, each with its key path)",
    "403_policy": "not the approver, auditor or admin role",
    "404_policy_version": "no policy version with this digest was loaded by a gateway on this database",
    "413_policy_test": "the body is larger than a trial takes (512 KiB)",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _errors(*errors: str) -> dict[str, Any]:
    return {
        error.split("_", 1)[0]: {
            "description": _ERRORS[error],
            "content": {"application/json": {"schema": _ref("ErrorResponse")}},
        }
        for error in errors
    }


def _responses(ok: str, schema: str, *errors: str, status: str = "200") -> dict[str, Any]:
    return {
        status: {"description": ok, "content": {"application/json": {"schema": _ref(schema)}}},
        **_errors(*errors),
    }


_PAGE_PARAMETERS: Final = (
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
    },
    {
        "name": "cursor",
        "in": "query",
        "description": "the next_cursor of the previous page",
        "schema": {"type": "string"},
    },
)
"""The parameters of a paged list: how many, and where the previous page ended."""
_ID: Final = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_RECORD_ID: Final = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "the record's number (audit_records.id)",
    "schema": {"type": "string"},
}
_BODY: Final = {"required": False, "content": {"application/json": {"schema": _ref("DecisionBody")}}}


_KEY_AND_STATS_MODELS: Final[list[tuple[type[BaseModel], JsonSchemaMode]]] = [
    (NewKeyBody, "validation"),
    *((m, "serialization") for m in (KeyPage, KeyResource, NewKeyResource, StatsResource)),
]
_POLICY_SCHEMAS: Final[list[tuple[type[BaseModel], JsonSchemaMode]]] = [
    (PolicyTestBody, "validation"),
    (PolicyResource, "serialization"),
    (PolicyVersionPage, "serialization"),
    (PolicyVersionResource, "serialization"),
    (PolicyDiffResource, "serialization"),
    (PolicyTestResult, "serialization"),
]


def openapi_document() -> dict[str, Any]:
    """The document served at ``/admin/v1/openapi.json``."""
    _, schemas = models_json_schema(
        _POLICY_SCHEMAS
        + _KEY_AND_STATS_MODELS
        + [
            (m, "validation" if m is DecisionBody else "serialization")
            for m in (ApprovalPage, ApprovalResource, DecisionBody, ErrorResponse, RecordPage, RecordResource)
        ]
        + [(RevealBody, "validation")]
        + [(m, "serialization") for m in (RecordStory, RevealedOriginals, RevealPage)],
        ref_template=_REF,
    )
    states = sorted({"pending", "approved", *FINAL_STATES})
    reviews = sorted(get_args(ReviewState))
    decide = ("400", "401", "403", "404", "408", "409", "410", "413")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Clearance admin API",
            "version": "1",
            "description": "Approvals of restricted requests: list, show, approve, deny, cancel, acknowledge a "
            "break-glass, follow their changes as Server-Sent Events. Audit records: search, show, export and a "
            "record's story with its integrity (the auditor role; anyone their own); a record's sealed originals "
            "revealed to auditors, and who revealed them. The "
            "policy (the approver, auditor or admin role): the live version summarised, the history of versions and "
            "a diff of two, and a text tried under the live policy and a draft. API keys: list, create, revoke (the "
            "admin role). The trail's figures over a window (the auditor or admin role). Errors are in the OpenAI "
            "error format of the data path.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an OIDC token or a clr_ API key"}
            },
        },
        "paths": {
            "/admin/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "this document",
                    "security": [],
                    "responses": {"200": {"description": "the OpenAPI document", "content": {"application/json": {}}}},
                }
            },
            "/admin/v1/approvals": {
                "get": {
                    "operationId": "listApprovals",
                    "summary": "approvals you may decide, and your own requests (an auditor: every one), newest first",
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {"type": "string", "enum": states}},
                        {
                            "name": "review",
                            "in": "query",
                            "description": "break-glass approvals whose review is so (pending: not acknowledged)",
                            "schema": {"type": "string", "enum": reviews},
                        },
                        *_PAGE_PARAMETERS,
                    ],
                    "responses": _responses("a page of approvals", "ApprovalPage", "400", "401", "403"),
                }
            },
            "/admin/v1/approvals/events": {
                "get": {
                    "operationId": "streamApprovalEvents",
                    "summary": "Server-Sent Events: one per change of an approval you may see, its data the approval "
                    "as JSON (ApprovalResource); a comment every 15 s",
                    "description": "Each event's name says what changed: requested, approved_step (one approval of "
                    "several), approved, denied, cancelled, expired, escalated, used, break_glass, acknowledged. "
                    "The stream starts with retry:, lasts until the gateway stops, and is limited per caller.",
                    "responses": {
                        "200": {
                            "description": "the event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        **_errors("401", "403", "429_streams"),
                    },
                }
            },
            "/admin/v1/approvals/{id}": {
                "parameters": [_ID],
                "get": {
                    "operationId": "getApproval",
                    "summary": "one approval, its whole history included",
                    "responses": _responses("the approval", "ApprovalResource", "401", "403", "404"),
                },
                "delete": {
                    "operationId": "cancelApproval",
                    "summary": "the requester cancels a pending approval",
                    "requestBody": _BODY,
                    "responses": _responses("the cancelled approval", "ApprovalResource", *decide),
                },
            },
            "/admin/v1/approvals/{id}/approve": {
                "parameters": [_ID],
                "post": {
                    "operationId": "approveApproval",
                    "summary": "approve (a member of the approver groups, not the requester, each once)",
                    "requestBody": _BODY,
                    "responses": _responses("the approval after this approval", "ApprovalResource", *decide),
                },
            },
            "/admin/v1/approvals/{id}/deny": {
                "parameters": [_ID],
                "post": {
                    "operationId": "denyApproval",
                    "summary": "deny (one denial denies)",
                    "requestBody": _BODY,
                    "responses": _responses("the denied approval", "ApprovalResource", *decide),
                },
            },
            "/admin/v1/approvals/{id}/acknowledge": {
                "parameters": [_ID],
                "post": {
                    "operationId": "acknowledgeApproval",
                    "summary": "review a break-glass approval, with a reason (an auditor, or an approver of its "
                    "groups; not its requester)",
                    "requestBody": _BODY,
                    "responses": _responses(
                        "the acknowledged approval",
                        "ApprovalResource",
                        *("400", "401", "403", "404", "408", "409_review", "413"),
                    ),
                },
            },
            "/admin/v1/records/{id}/reveal": {
                "parameters": [_RECORD_ID],
                "post": {
                    "operationId": "revealRecordOriginals",
                    "summary": "decrypt a record's originals (the auditor role; the reveal, with its reason, is "
                    "recorded first)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("RevealBody")}},
                    },
                    "responses": _responses(
                        "the request as sent and the answer as returned",
                        "RevealedOriginals",
                        *("400_reveal", "401", "403_auditor", "404_originals", "408", "413", "500_sealed"),
                    ),
                },
            },
            "/admin/v1/records/{id}/reveals": {
                "parameters": [_RECORD_ID],
                "get": {
                    "operationId": "listRecordReveals",
                    "summary": "who revealed a record's originals, when and why (the auditor role), oldest first",
                    "responses": _responses(
                        "the reveals of the record", "RevealPage", *("401", "403_auditor", "404_record")
                    ),
                },
            },
            **_record_paths(),
            **_key_paths(),
            **_stats_paths(),
            **_policy_paths(),
        },
    }


_TEXT_FILTERS: Final = {
    "subject": "the caller's subject",
    "group": "one of the caller's groups",
    "model": "the model asked for",
    "level": "the detected classification level",
    "decision": "allow, mask, require_approval or block",
    "rule": "the id of the rule that decided (default: none matched)",
    "type": "an entity type among the findings",
    "request_id": "the request id (X-Request-Id)",
    "approver": "the subject of someone who approved the record's approval",
}


def _record_paths() -> dict[str, Any]:
    """The audit records (``clearance.admin.records``)."""
    text = [
        {
            "name": name,
            "in": "query",
            "description": about,
            "schema": {"type": "string", "minLength": 1, "maxLength": 320},
        }
        for name, about in _TEXT_FILTERS.items()
    ]
    times = [
        {"name": name, "in": "query", "description": about, "schema": {"type": "string"}}
        for name, about in (
            ("since", "records made at or after (ISO 8601, or seconds since the epoch)"),
            ("until", "records made before (ISO 8601, or seconds since the epoch)"),
        )
    ]
    filters = [
        {
            "name": "mine",
            "in": "query",
            "description": "only your own records (no role needed)",
            "schema": {"type": "boolean", "default": False},
        },
        *text,
        *times,
        {"name": "status", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 999}},
    ]
    exported = {"schema": {"type": "string"}}
    return {
        "/admin/v1/records": {
            "get": {
                "operationId": "listRecords",
                "summary": "audit records, newest first: every one for an auditor; with mine=true, anyone's own",
                "parameters": [*filters, *_PAGE_PARAMETERS],
                "responses": _responses("a page of records", "RecordPage", "400", "401", "403_records"),
            }
        },
        "/admin/v1/records/export": {
            "get": {
                "operationId": "exportRecords",
                "summary": "every record the filters match, oldest first, as an attachment: CSV (a header row; "
                "formula-like cells neutralised) or JSON Lines (one record summary per line)",
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(EXPORT_FORMATS), "default": "csv"},
                    },
                    *filters,
                ],
                "responses": {
                    "200": {
                        "description": "the records, streamed",
                        "content": {"text/csv": exported, "application/x-ndjson": exported},
                    },
                    **_errors("400_export", "401", "403_records"),
                },
            }
        },
        "/admin/v1/records/{id}": {
            "parameters": [_ID],
            "get": {
                "operationId": "getRecord",
                "summary": "one record whole: its text as the record mode kept it (redacted), where its findings sit",
                "responses": _responses("the record", "RecordResource", "401", "404_record"),
            },
        },
        "/admin/v1/records/{id}/story": {
            "parameters": [_ID],
            "get": {
                "operationId": "getRecordStory",
                "summary": "a record's story: its approval and grant, the record, its leaf, the first checkpoint "
                "that covers it, and whether its integrity verifies",
                "responses": _responses("the story", "RecordStory", "401", "404_record"),
            },
        },
    }


def _key_paths() -> dict[str, Any]:
    """The API keys (``clearance.admin.keys``): the admin role."""
    return {
        "/admin/v1/keys": {
            "get": {
                "operationId": "listKeys",
                "summary": "every API key, oldest first: never the key nor its hash (the admin role)",
                "responses": _responses("the keys", "KeyPage", "401", "403_admin", "404_keys"),
            },
            "post": {
                "operationId": "createKey",
                "summary": "make an API key, as `clearance keys create` does: the key itself is in this answer only "
                "(the admin role)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewKeyBody")}}},
                "responses": _responses(
                    "the new key, the key itself included (Cache-Control: no-store)",
                    "NewKeyResource",
                    *("400_key", "401", "403_admin", "404_keys", "408", "413_key"),
                    status="201",
                ),
            },
        },
        "/admin/v1/keys/{id}": {
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "description": "the key's id: the 12 hex digits after clr_",
                    "schema": {"type": "string"},
                }
            ],
            "delete": {
                "operationId": "revokeKey",
                "summary": "revoke an API key: it stops working at once (the admin role); a revoked key is "
                "answered as it is",
                "responses": _responses("the key, revoked", "KeyResource", "401", "403_admin", "404_key"),
            },
        },
    }


def _stats_paths() -> dict[str, Any]:
    """The audit trail's figures (``clearance.admin.stats``): the auditor or admin role."""
    times = [
        {"name": name, "in": "query", "description": about, "schema": {"type": "string"}}
        for name, about in (
            ("since", "the window's start (ISO 8601, or seconds since the epoch); default: a day before until"),
            ("until", "the window's end, exclusive (ISO 8601, or seconds since the epoch); default: now"),
        )
    ]
    return {
        "/admin/v1/stats": {
            "get": {
                "operationId": "getStats",
                "summary": "requests, decisions by action, types found, the busiest models and users, and requests "
                "per bucket by action, over a window (the auditor or admin role)",
                "parameters": [
                    *times,
                    {
                        "name": "bucket",
                        "in": "query",
                        "description": "seconds per bucket (900) or 15m, 1h, 1d; default: chosen from the window "
                        "(at most 100 buckets)",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "top",
                        "in": "query",
                        "description": "how many types, models and users to list",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_TOP, "default": 10},
                    },
                ],
                "responses": _responses("the figures", "StatsResource", "400_stats", "401", "403_stats"),
            }
        }
    }


def _policy_paths() -> dict[str, Any]:
    """The policy (``clearance.admin.policy``)."""
    digest = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    return {
        "/admin/v1/policy": {
            "get": {
                "operationId": "getPolicy",
                "summary": "the policy in force on this instance, summarised, with its digest and when it was loaded",
                "responses": _responses("the live policy", "PolicyResource", "401", "403_policy"),
            }
        },
        "/admin/v1/policy/versions": {
            "get": {
                "operationId": "listPolicyVersions",
                "summary": "every policy version a gateway on this database loaded, the most recently introduced first",
                "parameters": list(_PAGE_PARAMETERS),
                "responses": _responses("a page of versions", "PolicyVersionPage", "400_policy", "401", "403_policy"),
            }
        },
        "/admin/v1/policy/versions/{digest}": {
            "parameters": [{"name": "digest", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "operationId": "getPolicyVersion",
                "summary": "one policy version, with its text",
                "responses": _responses(
                    "the version", "PolicyVersionResource", "400_policy", "401", "403_policy", "404_policy_version"
                ),
            },
        },
        "/admin/v1/policy/diff": {
            "get": {
                "operationId": "diffPolicyVersions",
                "summary": "a unified diff of two policy versions' texts",
                "parameters": [
                    {"name": "from", "in": "query", "required": True, "schema": digest},
                    {"name": "to", "in": "query", "required": True, "schema": digest},
                ],
                "responses": _responses(
                    "the diff", "PolicyDiffResource", "400_policy", "401", "403_policy", "404_policy_version"
                ),
            }
        },
        "/admin/v1/policy/test": {
            "post": {
                "operationId": "testPolicy",
                "summary": "decide a text under the live policy and a draft, as clearance policy test does; with a "
                "draft, how many recent recorded decisions it would change (the text is not recorded nor logged)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("PolicyTestBody")}}},
                "responses": _responses(
                    "the decisions",
                    "PolicyTestResult",
                    *("400_policy_test", "401", "403_policy", "408", "413_policy_test"),
                ),
            }
        },
    }
