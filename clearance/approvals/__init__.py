"""Just-in-time approvals: a request a rule holds for approval waits, as an ``ApprovalRequest``, until members of
the rule's approver groups grant it; the grant is good for exactly that request (its body's hash, its requester,
the policy version), once, until it expires. ``model`` holds the values, the lifecycle the transitions; the store
keeps them in the gateway's database; notifiers tell people."""
