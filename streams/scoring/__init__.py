"""Scoring: the stage after intake, the re-scorer, the sweep, weight messages, explain,
snapshot and the in-process backfill."""
