"""URL paths that can be built with or without a request (e.g. while the
search index is rebuilt from the command line)."""
from flask import current_app


def path_for(endpoint: str, **values) -> str:
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return adapter.build(endpoint, values)
