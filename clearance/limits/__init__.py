"""Rate limits shared by every instance through Redis: requests and tokens per minute and concurrent streams, per
identity and per model (docs/limits.md).

``config`` holds the ``limits:`` section and the ``RateSpec`` the policy's clearances use; ``quotas`` resolves which
limits apply to one identity and model; ``scripts`` holds the Lua that counts them atomically; ``limiter`` runs
them against Redis and answers the pipeline."""
