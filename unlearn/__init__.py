"""unlearn: train models that are easy to unlearn, unlearn them, and measure it."""
