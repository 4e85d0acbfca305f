"""Rendering: pure functions from pixels and settings to RGB, and encoders."""
