"""HTML to PDF with nothing fetched from outside `templates/`.

Every string a provider sent is escaped by Jinja2's autoescape, and WeasyPrint gets a URL fetcher that serves only
regular files under `templates/`: a `file:///etc/passwd`, `http://...` or `data:` reference is refused and
recorded, so a report can never read the disk or reach the network while it renders.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from markupsafe import Markup

from bot.reports.templating import REPORTS, TEMPLATES, environment, render_text

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

__all__ = ["REPORTS", "TEMPLATES", "Drawings", "RefusedURL", "TemplatesOnlyFetcher", "environment", "html_to_pdf", "render_text"]

log = logging.getLogger(__name__)


class RefusedURL(ValueError):
    """A report asked for a resource outside `templates/`."""


class Drawings:
    """SVG drawings (trend charts) a report shows as `<img>`, served from memory by the fetcher.

    WeasyPrint lays out an image's SVG on its own instead of passing every element of an inline `<svg>` through
    the page's CSS cascade: about 15% less time for a report full of charts. `url(svg)` names a drawing under
    templates/reports/_drawings/, which holds no files: only the fetcher that was given this object serves it.
    """

    FOLDER = "_drawings"

    def __init__(self, base: Path = REPORTS) -> None:
        self.base_uri = base.resolve().as_uri() + "/"
        self.served: dict[str, bytes] = {}  # absolute URL -> SVG bytes

    def url(self, svg: str) -> Markup:
        """A URL (relative to the report's base) for `svg`; the same drawing gets the same URL."""
        data = str(svg).encode("utf-8")
        name = f"{self.FOLDER}/{hashlib.sha256(data).hexdigest()[:20]}.svg"
        self.served[self.base_uri + name] = data
        return Markup(name)  # a URL the template prints as it is


class TemplatesOnlyFetcher:
    """Serve regular files under `root` and the report's own drawings; refuse every other URL and remember it
    in `refused`. WeasyPrint is handed it inside its own fetcher class (`for_weasyprint`) when a PDF is drawn, so
    importing this module does not import WeasyPrint: about half a second of every `kpibot` command's start."""

    def __init__(self, root: Path = TEMPLATES, drawings: Drawings | None = None) -> None:
        self.root = root.resolve()
        self.drawings = drawings
        self.refused: list[str] = []

    def allowed_path(self, url: str) -> Path | None:
        """The file `url` names if it lies under the root, else None."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(url2pathname(parts.path)).resolve()  # resolve: no `..` or symlink escapes
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def for_weasyprint(self) -> URLFetcher:
        """This fetcher as WeasyPrint's `url_fetcher`."""
        return _weasyprint_fetcher()(self)

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        from weasyprint.urls import URLFetcherResponse  # drawing a PDF: WeasyPrint is loaded by now

        drawing = self.drawings.served.get(url) if self.drawings is not None else None
        if drawing is not None:
            return URLFetcherResponse(url, drawing, {"Content-Type": "image/svg+xml"})
        path = self.allowed_path(url)
        if path is None:
            self.refused.append(url)
            log.warning("report refused to fetch %s (only files under %s are allowed)", url[:200], self.root)
            raise RefusedURL(f"refused {url[:200]!r}: reports may only use files under {self.root}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})


def html_to_pdf(html: str, *, fetcher: TemplatesOnlyFetcher | None = None, base: Path = REPORTS) -> bytes:
    """Lay out `html` as a PDF; relative references resolve against `base` and go through the fetcher."""
    from weasyprint import HTML  # when the first PDF is drawn, not at start

    url_fetcher = (fetcher or TemplatesOnlyFetcher()).for_weasyprint()
    return HTML(string=html, base_url=base.resolve().as_uri() + "/", url_fetcher=url_fetcher).write_pdf()


@cache
def _weasyprint_fetcher() -> type[URLFetcher]:
    """WeasyPrint's fetcher class, answering every URL from a TemplatesOnlyFetcher (defined on first use)."""
    from weasyprint.urls import URLFetcher

    class Fetcher(URLFetcher):
        def __init__(self, rules: TemplatesOnlyFetcher) -> None:
            super().__init__(allowed_protocols=("file",), allow_redirects=False)
            self.rules = rules

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            return self.rules.fetch(url, headers)

    return Fetcher
