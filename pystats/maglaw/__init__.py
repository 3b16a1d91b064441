"""Magnitude laws beyond Gutenberg–Richter: the generalized-gamma family of seismic moment.

``pystats.MagnitudeLaw(law=..., detection=...)`` (:mod:`pystats.maglaw.model`) fits one of
:data:`pystats.maglaw.laws.LAWS` to a catalogue's magnitudes; ``pystats.compare`` ranks
fits of several laws by PSIS-LOO and AIC/BIC.  See ``models/magnitude_laws.md``.
"""
