"""HTML to PDF with WeasyPrint, which may read this site's static files and nothing else.

WeasyPrint (and Pango under it) is imported on the first PDF, not when the app starts. Its fetcher is
replaced: a report must not make the server fetch URLs, so a stylesheet or image outside ``/static`` is
left out, never requested.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from xinyong.web.pages.core import STATIC_DIR

_MIME = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".woff2": "font/woff2"}


def html_to_pdf(html: str, base_url: str) -> bytes:
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            path = urlparse(url).path
            if path.startswith("/static/"):
                local = (STATIC_DIR / path.removeprefix("/static/")).resolve()
                if local.is_relative_to(STATIC_DIR) and local.is_file():
                    return URLFetcherResponse(url, local.read_bytes(), {
                        "Content-Type": _MIME.get(local.suffix, "application/octet-stream")})
            raise ValueError(f"{url} is not a static file of this site")

    pdf: bytes = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=StaticOnly()).write_pdf()
    return pdf
