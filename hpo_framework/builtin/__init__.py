"""Plugins the core ships, registered through the entry-point group like any other."""
