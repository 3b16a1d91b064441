"""pystats.etas."""
