"""Errors of the data-set registry (kept apart so that every module of the package can raise them)."""

from __future__ import annotations

from ltr.exceptions import CommandLineWorded

__all__ = ["ArchiveError", "ChecksumError", "DatasetLayoutError", "DownloadError", "UnknownDatasetError"]


class UnknownDatasetError(ValueError):
    """A data-set name the registry does not know; the message lists the known ones."""


class DatasetLayoutError(CommandLineWorded, ValueError):
    """A folder does not hold the file the call needs (a split of a fold, a registry file that does not parse).

    ``cli``, when given, is the same message worded for the command line (``ltr data verify NAME DIR`` rather than
    ``ltr.registry.verify(...)``); :meth:`cli_message` returns it.
    """


class ChecksumError(ValueError):
    """A downloaded file does not match its documented size or checksum; it was kept aside as ``*.corrupt``."""

    def __init__(self, message: str, path: str | None = None):
        self.path = path
        super().__init__(message)


class ArchiveError(CommandLineWorded, ValueError):
    """An archive cannot be unpacked here (RAR without an external tool, a member escaping the folder)."""


class DownloadError(CommandLineWorded, ConnectionError):
    """No address of a file could be reached or the transfer failed; the message names the address(es).

    A partial download is kept as ``*.part`` and the next call resumes it.
    """
