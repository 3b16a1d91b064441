"""Time-varying b-value: ``TimeVaryingB`` (Hilbert-space GP or change point) and the
b-positive estimator in moving windows (``b_positive_windows``).  See
``models/magnitude_laws.md`` §8."""
