"""Page sizes shared by lists in the UI and the API."""

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
