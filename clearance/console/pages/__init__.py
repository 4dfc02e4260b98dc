"""The console's pages, one module per area; each registers its routes with ``register(router)``."""
