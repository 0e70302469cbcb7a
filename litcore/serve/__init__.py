"""`lit serve`: the browser tool of live interactive training (API in API.md, page in static/)."""
