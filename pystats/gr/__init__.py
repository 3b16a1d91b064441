"""pystats.gr."""
