"""Stan programs shipped with pystats (read with importlib.resources)."""
