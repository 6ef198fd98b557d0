"""Normalising and encoding sessions: masking, alignment, resampling, pseudo-images, session features."""
