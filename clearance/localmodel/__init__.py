"""The bundled local model: llama.cpp's llama-server and SmolLM2-135M-Instruct, cached once.

When no upstream is configured, the gateway provisions and starts this model so that it has
something real behind it::

    from clearance.localmodel import LocalModelServer, provision

    paths = await asyncio.to_thread(provision)       # minutes the first time, then milliseconds
    async with LocalModelServer.start(paths) as server:
        server.base_url                              # "http://127.0.0.1:PORT/v1"
        server.model                                 # "smollm2-135m-instruct"
"""

from clearance.localmodel.cache_dir import CACHE_DIR_ENV, resolve_cache_root
from clearance.localmodel.provision import LocalModelPaths, installed_paths, provision
from clearance.localmodel.server import LocalModelServer, ServerSettings
from clearance.localmodel.spec import MODEL_ALIAS

__all__ = [
    "CACHE_DIR_ENV",
    "MODEL_ALIAS",
    "LocalModelPaths",
    "LocalModelServer",
    "ServerSettings",
    "installed_paths",
    "provision",
    "resolve_cache_root",
]
