"""Helpers shared by the tests: test doubles, real servers, fault writers, waiting and skipping.

Nothing in here is a test; test modules import from here, never from one another.
"""
