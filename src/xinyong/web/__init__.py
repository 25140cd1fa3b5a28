"""The HTTP edge: a FastAPI app over the online use cases (``xinyong serve``)."""

from xinyong.web.app import Settings, create_app

__all__ = ["Settings", "create_app"]
