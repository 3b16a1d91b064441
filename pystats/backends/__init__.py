"""pystats.backends."""
