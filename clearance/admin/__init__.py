"""The admin API under ``/admin/v1/``: approvals, as JSON resources for approvers and requesters
(``clearance.admin.approvals``), their pydantic models (``clearance.admin.resources``) and the OpenAPI document
generated from them (``clearance.admin.openapi``)."""
