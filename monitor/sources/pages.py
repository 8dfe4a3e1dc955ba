"""A fetched document parsed as its source's kind: feed, sitemap or listing page. Pure, so it
runs in the polling process or in an enrichment worker (`monitor.enrich.Enricher.parse`)."""

from __future__ import annotations

from monitor.config import SourceConfig
from monitor.models import FetchResult, ParsedPage
from monitor.sources.feeds import parse_feed
from monitor.sources.listing import parse_listing
from monitor.sources.sitemaps import parse_sitemap


def parse_page(source: SourceConfig, result: FetchResult) -> ParsedPage:
    """Parse a fetched document as the source's kind."""
    if source.is_feed:
        return parse_feed(
            result.content, url=result.url, source=source.name, encoding=result.encoding
        )
    if source.kind == "sitemap":
        return parse_sitemap(result.content, url=result.url, source=source.name)
    assert source.listing is not None  # checked when the config was loaded
    return parse_listing(
        result.content,
        url=result.url,
        source=source.name,
        selectors=source.listing,
        language=source.language,
        encoding=result.encoding,
    )
