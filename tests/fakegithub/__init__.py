"""The shared fake GitHub for end-to-end tests and benchmarks (see README.md)."""

from .server import FakeGitHub

__all__ = ["FakeGitHub"]
