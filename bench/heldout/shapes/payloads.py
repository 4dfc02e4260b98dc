"""JSON API payloads: requests and responses, nested objects and arrays, webhooks, GraphQL, SCIM."""

from __future__ import annotations

from bench.heldout.template import Template, text

J = "api"

TEMPLATES: tuple[Template, ...] = (
    text(
        J,
        "create-customer",
        """POST /v1/customers
{
  "customer": {
    "id": "«uuid»",
    "name": "«person»",
    "email": "«email»",
    "phone": "«phone»",
    "address": {"city": "«city»", "postal_code": "«zip»"},
    "payment_methods": [
      {"type": "card", "number": "«card»", "exp": "04/29"},
      {"type": "bank", "routing_number": "«aba»", "account_number": "«bank»"}
    ]
  },
  "idempotency_key": "«request_id»"
}
""",
    ),
    text(
        J,
        "webhook-event",
        """{
  "id": "evt_«request_id»",
  "created": «epoch»,
  "type": "charge.refunded",
  "data": {
    "object": {
      "amount": «count»00,
      "currency": "usd",
      "billing_details": {"name": "«person»", "email": "«email»", "phone": "«phone_e164»"},
      "metadata": {"order_id": "«order»", "ip": "«ip»"}
    }
  }
}
""",
    ),
    text(
        J,
        "graphql-response",
        """{"data":{"viewer":{"login":"«user»","name":"«person»","email":"«email»",\
"organizations":{"nodes":[{"name":"«company»","billingEmail":"«role_email»"}]},"lastSignInIp":"«ip»"}},\
"extensions":{"cost":«count»,"requestId":"«request_id»"}}
""",
    ),
    text(
        J,
        "scim-user",
        """{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "«uuid»",
  "userName": "«email»",
  "name": {"givenName": "«given»", "familyName": "«person»"},
  "displayName": "«person»",
  "phoneNumbers": [{"value": "«phone_intl»", "type": "work"}, {"value": "«phone_ext»", "type": "office"}],
  "meta": {"created": "«iso»", "version": "W/\\"«digest»\\""}
}
""",
    ),
    text(
        J,
        "kyc-submission",
        """{
  "applicant": {
    "legal_name": "«person»",
    "ssn": "«ssn_bare»",
    "date_of_birth": "1987-02-11",
    "contact": {"email": "«email»", "mobile": "«phone_us»"}
  },
  "funding": {"aba_routing": "«aba»", "account_no": "«bank»", "account_type": "checking"},
  "submitted_at": «epoch_ms»,
  "client_version": "«version»"
}
""",
    ),
    text(
        J,
        "error-response",
        """HTTP/1.1 401 Unauthorized
content-type: application/json
x-request-id: «request_id»

{"error":{"code":"invalid_api_key","message":"Incorrect API key provided: «vendor_value». \
You can find your API key in your dashboard.","request_id":"«request_id»","timestamp":"«iso»"}}
""",
    ),
    text(
        J,
        "token-response",
        """{
  "access_token": "«jwt»",
  "token_type": "Bearer",
  "expires_in": 3600,
  "refresh_token": "«api_key»",
  "scope": "openid email",
  "id_token_hint": "«placeholder»",
  "issued_at": «epoch»
}
""",
    ),
    text(
        J,
        "orders-page",
        """{
  "orders": [
    {"order_id": "«order»", "customer": "«person»", "total": "«price»", "tracking": "«tracking»", "placed_at": "«iso»"},
    {"order_id": "«order»", "customer": "«person»", "total": "«price»", "tracking": "«tracking»", "placed_at": "«iso»"},
    {"order_id": "«order»", "customer": "«person»", "total": "«price»", "tracking": "«tracking»", "placed_at": "«iso»"}
  ],
  "next_cursor": "«request_id»",
  "card_on_file": "«card»"
}
""",
    ),
    text(
        J,
        "payout-request",
        """PUT /api/payouts/«uuid» HTTP/1.1
Authorization: Bearer «vendor_value»
Content-Type: application/json

{"beneficiary":{"name":"«person»","iban":"«iban»","email":"«email»"},"amount":"«price»","reference":"«order»"}
""",
    ),
    text(
        J,
        "device-registration",
        """{
  "device": {"mac": "«mac»", "firmware": "«version»", "serial": "«order»"},
  "owner": {"name": "«person»", "email": "«email»", "phone": "«phone_national»"},
  "network": {"ipv4": "«ipv4»", "ipv6": "«ipv6»"},
  "registered": «epoch_ms»
}
""",
    ),
)
