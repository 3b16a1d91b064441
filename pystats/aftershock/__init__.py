"""Aftershock detection: Omori–Utsu × Gutenberg–Richter with a time-varying detection
probability (Omi et al. 2013) and a Gaussian-process or random-walk ``μ(t)``."""

from .model import AftershockDetection
from .simulate import simulate_detected, simulate_detected_etas

__all__ = ["AftershockDetection", "simulate_detected", "simulate_detected_etas"]
