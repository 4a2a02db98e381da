"""Capacity planning: utilization collected from CloudWatch, growth forecasts, the measured
saturation point, and recommendations with the figures behind them."""
