"""Page sizes shared by lists in the UI and the API."""

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def clamp_page_size(value: int | str | None) -> int:
    """Return a page size within 1..MAX_PAGE_SIZE (DEFAULT_PAGE_SIZE when unparsable)."""
    try:
        size = int(value) if value is not None else DEFAULT_PAGE_SIZE
    except (TypeError, ValueError):
        return DEFAULT_PAGE_SIZE
    return max(1, min(size, MAX_PAGE_SIZE))
