"""Inputs: billing files (CUR 2.0, legacy CUR, FOCUS), snapshots and the demo account → the store."""
