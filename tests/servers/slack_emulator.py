"""Slack emulator fixtures."""
