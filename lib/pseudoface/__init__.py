"""pseudoface: depression screening from 3-D facial landmark pseudo-images with a CNN-LSTM."""
__version__ = "0.1.0"
