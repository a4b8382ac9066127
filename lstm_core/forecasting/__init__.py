"""Forecasting past one day: the recursive look-ahead, its conformal bands, the backtest."""
