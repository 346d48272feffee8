"""Exceptions of renkou. Messages name the file, row and column and say how to fix it.

Messages never carry a name or an ID number: they can reach logs.
"""

from __future__ import annotations


class RenkouError(Exception):
    """Base class of every error renkou raises on purpose."""


class ConfigError(RenkouError):
    """A configuration file is missing, unreadable or inconsistent."""


class FileProblem(RenkouError):
    """A whole inbox file cannot be loaded (encoding, headers, empty, unknown folder)."""

    def __init__(self, file: str, problem: str, fix: str) -> None:
        self.file = file
        self.problem = problem
        self.fix = fix
        super().__init__(f"{file}: {problem}. Fix: {fix}")


class StageError(RenkouError):
    """A pipeline stage failed; names the stage so the operator knows where to look."""
