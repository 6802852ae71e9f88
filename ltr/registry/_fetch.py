"""Download, check and unpack a registered set so that a folder either holds a complete copy or nothing.

The steps, and what an interruption leaves behind:

1. each archive is downloaded to ``DIR/.ltrkit-downloads/FILE.part``, resumed with an HTTP ``Range`` request when
   that file exists (an interrupted transfer costs nothing but the call); addresses are tried in order;
2. its size and checksum, where the registry documents them, are compared; where the registry records no checksum
   for an archive (``ltr data info NAME`` shows it), a warning says so and only what can be told without one is
   checked: that the file begins as the unpacker reads its format (a RAR archive with ``Rar!\\x1a\\x07``, a tar
   archive compressed with gzip, bzip2 or xz or not at all, ...). A mismatch moves it aside to ``FILE.corrupt``
   (never used again) and raises :class:`~ltr.registry.ChecksumError`, saying also when the file is not of its
   format at all (a web page saved in its place); a good file is renamed to ``FILE``;
3. archives are unpacked into a temporary folder next to the destination, the layout and the unpacked files'
   documented sizes and checksums are checked (a difference installs nothing; for an archive without a checksum,
   the counts that :func:`~ltr.registry.verify` checks are compared too, and differences said), a completion marker
   (``.ltrkit-complete.json``) is written inside, and only then is the folder renamed to ``DIR/NAME``.

So ``DIR/NAME`` exists only when complete, and a later call that finds the marker returns at once. Archives this
toolkit downloaded carry a ``FILE.ltrkit-fetched`` mark, so that whichever call installs the set removes them (unless
archives are kept: a kept archive loses its mark, and stays as one the user put there), where an archive the user put
there is never removed; calls into one folder take turns (a lock on the ``.ltrkit-downloads`` folder), or both would
append to one ``.part`` file.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import http.client
import json
import logging
import lzma
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from ltr.exceptions import OutputPathError
from ltr.io import atomic_write, open_binary
from ltr.registry._catalog import Entry
from ltr.registry._errors import ArchiveError, ChecksumError, DatasetLayoutError, DownloadError
from ltr.registry._verify import verify_copy

__all__ = ["MARKER", "DOWNLOADS", "RAR_TOOLS", "fetch_entry"]

logger = logging.getLogger(__name__)

MARKER = ".ltrkit-complete.json"
DOWNLOADS = ".ltrkit-downloads"
_CHUNK = 1 << 16
_FETCHED = ".ltrkit-fetched"  # beside an archive this toolkit downloaded (never on one the user put there)
# How each archive format begins, as _unpack reads it (what it is called, the accepted starts as (offset, bytes,
# kind)): PKWARE's APPNOTE 4.3.7 and 4.3.16 (local file header, or the end record of an empty archive), RFC 1952
# 2.3.1 (gzip ID1 ID2), bzip2's 'BZh' stream header, the xz format's header magic (xz-file-format 2.1.1.1),
# POSIX.1-1988 ustar's magic at byte 257 (GNU tar writes 'ustar  \0', POSIX 'ustar\0'), RARLAB's technote (RAR 1.5-4
# 'Rar!\x1a\x07\x00', RAR 5 'Rar!\x1a\x07\x01\x00'). 'file' is any file: nothing to check.
# Every tar format accepts every tar start: _unpack opens them all with tarfile's 'r:*', which reads gzip, bzip2, xz
# and uncompressed tar whatever the name says (a browser or proxy that honours 'Content-Encoding: gzip' saves a
# plain tar under the .tar.gz name, and the members' checksums are then the real check). A pre-POSIX (V7) tar,
# which tarfile also reads, has no magic and is refused here: telling it from other bytes needs its header
# checksum, and no registered set ships one.
_TAR = ((0, b"\x1f\x8b", "gzip"), (0, b"BZh", "bzip2"), (0, b"\xfd7zXZ\x00", "xz"), (257, b"ustar", "uncompressed"))
_MAGIC = {"zip": ("a ZIP archive", ((0, b"PK\x03\x04", ""), (0, b"PK\x05\x06", ""))),
          "tar.gz": ("a tar archive", _TAR),
          "tar.bz2": ("a tar archive", _TAR),
          "tar": ("a tar archive", _TAR),
          "gz": ("a gzip file", ((0, b"\x1f\x8b", ""),)),
          "rar": ("a RAR archive", ((0, b"Rar!\x1a\x07", ""),))}
RAR_TOOLS = (("unrar", ["x", "-o+", "-idq", "{archive}", "{dest}/"]),
              ("7z", ["x", "-y", "-o{dest}", "{archive}"]),
              ("bsdtar", ["-x", "-f", "{archive}", "-C", "{dest}"]))


class _Interrupted(Exception):
    """The connection ended before the announced length: resumable."""


class _NotWritten(Exception):
    """The downloaded bytes could not be written here (a full disk, a quota): not the address's fault, so no other
    address is tried. ``args[0]`` is the OSError."""


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    """OSErrors of writing the local file (not of the connection, also OSErrors) as :class:`_NotWritten`."""
    try:
        yield
    except OSError as e:
        raise _NotWritten(e) from None


def _user_agent() -> str:
    from ltr import __version__

    return f"ltrkit/{__version__} (+python urllib)"


def _progress_bar(enabled: bool, total: int | None, initial: int, desc: str):
    # A bar only on a terminal: logs and CI output stay clean.
    if not (enabled and sys.stderr.isatty()):
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False)


def _download(url: str, part: Path, size: int | None, timeout: float, progress: bool) -> None:
    """Fetch ``url`` into ``part``, resuming from its current length; raise :class:`_Interrupted` if cut short."""
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:  # longer than the real file: it cannot be a prefix of it
        part.unlink()
        have = 0
    if size is not None and have == size:
        return
    headers = {"User-Agent": _user_agent()}
    if have:
        headers["Range"] = f"bytes={have}-"
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # nothing left to send: the part is whole (the checksum decides)
            return
        raise
    with resp:
        status = getattr(resp, "status", None) or 200
        mode = "ab"
        if status == 206:
            start = (resp.headers.get("Content-Range") or "").removeprefix("bytes ").split("-")[0]
            if start.strip() != str(have):  # not the continuation asked for: start the file over next time
                part.unlink()
                raise _Interrupted(f"the server resumed at byte {start!r} instead of {have}")
        else:  # 200: the server ignored the range (or there was none): start over
            mode, have = "wb", 0
        length = resp.headers.get("Content-Length")
        remaining = int(length) if length and length.isdigit() else None
        total = have + remaining if remaining is not None else size
        got = 0
        with _writing():
            out = open(part, mode)
        with _progress_bar(progress, total, have, part.name[:-5]) as bar:
            try:
                while chunk := resp.read(_CHUNK):
                    with _writing():
                        out.write(chunk)
                    got += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            except (http.client.IncompleteRead, ConnectionError, TimeoutError) as e:
                raise _Interrupted(f"connection lost after {have + got} bytes ({e.__class__.__name__})") from None
            finally:
                with _writing():
                    out.close()  # flushes: a full disk may first show here
        if remaining is not None and got < remaining:
            raise _Interrupted(f"connection closed after {have + got} of {have + remaining} bytes")


def _reason(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        r = e.reason
        if isinstance(r, TimeoutError):
            return "timed out"
        return str(getattr(r, "strerror", None) or r)
    if isinstance(e, TimeoutError):
        return "timed out"
    return str(e) or e.__class__.__name__


def _checksums(archive: dict) -> list[str]:
    """The checksum algorithms the registry documents for an archive (none for most sets published without)."""
    return [a for a in ("sha256", "md5") if archive.get(a)]


def _check_format(archive: dict, path: Path) -> str | None:
    """None when the file begins as its documented format does (see ``_MAGIC``), else a sentence saying how not."""
    spec = _MAGIC.get(archive["format"])
    if spec is None:
        return None
    what, starts = spec
    with open(path, "rb") as f:
        head = f.read(max(8, *(offset + len(magic) for offset, magic, _ in starts)))
    if any(head[offset:offset + len(magic)] == magic for offset, magic, _ in starts):
        return None
    # "a tar archive begins with b'\x1f\x8b' (gzip), b'BZh' (bzip2) or ... (xz), or has b'ustar' at byte 257 (...)"
    said = [f"{magic!r}" + (f" ({kind})" if kind else "") for offset, magic, kind in starts if offset == 0]
    ways = [f"begins with {_either(said)}"] if said else []
    ways += [f"has {magic!r} at byte {offset}" + (f" ({kind})" if kind else "")
             for offset, magic, kind in starts if offset]
    got = f"its first bytes are {head[:8]!r}" if head else "it is empty"
    html = "; it looks like a web page saved in its place" if head.lstrip()[:1] == b"<" else ""
    return f"not {what} ({what} {', or '.join(ways)}; {got}{html})"


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" or {items[-1]}"


def _check_archive(archive: dict, path: Path) -> str | None:
    """None when size and checksums agree with the registry, else a sentence saying what differs.

    Without a documented checksum, the file's first bytes are compared with its format's instead (``_MAGIC``); a
    size or checksum that differs also says so when the file is not of its format at all (a web page saved in its
    place is the usual failure of a share link), as the cause to look at.
    """
    if archive.get("size") is not None and path.stat().st_size != archive["size"]:
        return _with_format(f"{path.stat().st_size} bytes, the registry documents {archive['size']}", archive, path)
    algos = _checksums(archive)
    if not algos:
        return _check_format(archive, path)
    hashes = {a: hashlib.new(a) for a in algos}
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            for h in hashes.values():
                h.update(chunk)
    for a in algos:
        got = hashes[a].hexdigest()
        if got != archive[a]:
            src = archive.get("checksum_source")
            return _with_format(f"{a} {got}, the registry documents {archive[a]}" + (f" ({src})" if src else ""),
                                archive, path)
    return None


def _with_format(problem: str, archive: dict, path: Path) -> str:
    """``problem``, followed by what :func:`_check_format` says when the file is not of its format at all."""
    wrong = _check_format(archive, path)
    return f"{problem}; {wrong}" if wrong else problem


def _fetched_mark(path: Path) -> Path:
    return path.with_name(path.name + _FETCHED)


def _set_aside(path: Path) -> Path:
    """Rename a bad file to ``NAME.corrupt`` (``NAME.corrupt.1`` ... if taken) so that it is never used again."""
    _fetched_mark(path).unlink(missing_ok=True)
    dest = path.with_name(path.name.removesuffix(".part") + ".corrupt")
    k = 0
    while dest.exists():
        k += 1
        dest = dest.with_name(f"{path.name.removesuffix('.part')}.corrupt.{k}")
    os.replace(path, dest)
    return dest


def _obtain(entry: Entry, archive: dict, downloads: Path, *, base_url: str | None, timeout: float, retries: int,
            progress: bool, shown: str) -> tuple[Path, bool]:
    """A checked local copy of one archive, and whether this call downloaded it (``shown``: the folder given, which
    an error writing here names)."""
    target = downloads / archive["file"]
    if target.exists() and not target.is_file():  # a FIFO there was read for ever (trial t72), a device without end
        raise DownloadError(f"{target}: is not a regular file (a folder, a pipe or a device); remove it, or put the "
                            "archive itself there")
    if target.exists():  # a previous call, or the user (manual downloads)
        problem = _check_archive(archive, target)
        if problem is None:  # downloaded by an earlier call that failed later (a damaged sibling, Ctrl-C), or not
            return target, _fetched_mark(target).exists()
        aside = _set_aside(target)
        logger.warning("%s: %s; kept aside as %s, downloading again", target, problem, aside)
    urls = [f"{base_url.rstrip('/')}/{archive['file']}"] if base_url else list(archive.get("urls", []))
    if not urls:
        howto = next((q for q in entry.data.get("quirks", []) if "download" in q.lower()), "")
        raise DownloadError(f"{archive['file']} of {entry.name} cannot be downloaded automatically "
                            f"({entry.data.get('license', 'see its home page')}); get it from "
                            f"{entry.data.get('homepage', 'its home page')}, put it at {target} and call fetch "
                            f"again. {howto}".strip())
    part = target.with_name(target.name + ".part")
    failures: list[str] = []
    done_url = None
    for url in urls:
        for attempt in range(retries + 1):
            try:
                _download(url, part, archive.get("size"), timeout, progress)
                done_url = url
                break
            except _NotWritten as e:
                size = part.stat().st_size if part.exists() else 0
                if not size:  # nothing to resume from
                    part.unlink(missing_ok=True)
                kept = f"; the partial file {part} ({size} bytes) is kept and the next call resumes it" if size \
                    else ""
                raise OutputPathError(shown, f"cannot write: {_os_reason(e.args[0])} (downloading "
                                             f"{archive['file']}){kept}") from None
            except _Interrupted as e:
                failures.append(f"{url}: {e}")
                logger.info("%s: %s; resuming (attempt %d of %d)", archive["file"], e, attempt + 1, retries + 1)
                time.sleep(min(0.2 * (attempt + 1), 1.0))
            except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
                failures.append(f"{url}: {_reason(e)}")
                break
        if done_url:
            break
    if done_url is None:
        kept = f"; the partial file {part} ({part.stat().st_size} bytes) is kept and the next call resumes it" \
            if part.exists() and part.stat().st_size else ""
        head = f"could not download {archive['file']} for {entry.name}: {'; '.join(failures)}{kept}"
        where = downloads / archive["file"]
        raise DownloadError(f"{head}; without the network, put the archive at {where}, or pass "
                            "base_url='file:///FOLDER' (a folder holding it)",
                            cli=f"{head}; without the network, put the archive at {where}, or pass "
                                "--base-url file:///FOLDER (a folder holding it)")
    problem = _check_archive(archive, part)
    if problem is not None:
        aside = _set_aside(part)
        raise ChecksumError(f"{archive['file']} downloaded from {done_url}: {problem}; the file is kept aside as "
                            f"{aside} and not used", str(aside))
    _fetched_mark(target).touch()  # first: an interruption between the two leaves a mark, never an unmarked download
    os.replace(part, target)
    return target, True


class _EscapingMember(ArchiveError):
    """A member that would be written outside the folder unpacked into (zip-slip, an absolute or escaping link)."""


def _safe_member(dest: Path, name: str, *, link: str | None = None) -> Path:
    """``dest / name``, refused when it lies outside ``dest``; ``link``: the member whose link target ``name`` is
    (named as ``tar tf`` lists it: the message named the target as the member, trial t63)."""
    out = (dest / name).resolve()
    if name.startswith(("/", "\\")) or (dest.resolve() not in out.parents and out != dest.resolve()):
        # (the folder unpacked into is a temporary one, gone by the time the message is read: not named)
        what = (f"archive member {name!r} would be written" if link is None else
                f"archive member {link!r} is a link to {name!r}, which lies")
        raise _EscapingMember(f"{what} outside the folder it unpacks into; refusing to unpack it")
    return out


def _run_rar_tool(path: Path, dest: Path, name: str, final: Path) -> None:
    failed = []
    for tool, args in RAR_TOOLS:  # each installed tool in turn: one may fail for its own reasons (an old unrar)
        exe = shutil.which(tool)
        if exe is None:
            continue
        for p in list(dest.iterdir()):  # what a failed tool left
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        cmd = [exe] + [a.format(archive=path, dest=dest) for a in args]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            failed.append(f"{tool}: {(proc.stderr or proc.stdout).strip()[:200]}")
            continue
        for p in dest.rglob("*"):  # the tools refuse '..' members, but check what they wrote anyway
            _safe_member(dest, p.relative_to(dest).as_posix())
        return
    if failed:
        said = "; ".join(failed)
        if _fetched_mark(path).exists():  # as a zip the zipfile module cannot read: set aside, or every call reused it
            aside = _set_aside(path)
            raise ChecksumError(f"{path.name} could not be unpacked ({said}); it is kept aside as {aside} and not "
                                "used, and the next fetch downloads it again", str(aside))
        raise ArchiveError(f"{path.name} could not be unpacked ({said}); it was put there, not downloaded by fetch: "
                           f"it is left as it is; remove {path} to download it again")
    head = (f"{path.name} is a RAR archive, which the Python standard library cannot read; install unrar, 7-Zip "
            f"(7z) or bsdtar (libarchive) and fetch again (the archive is kept at {path}), or unpack it yourself "
            f"into {final} and check that folder with")
    raise ArchiveError(f"{head} ltr.registry.verify({name!r}, {str(final)!r})",
                       cli=f"{head} ltr data verify {name} {final}")


def _decompressed(path: Path):
    """``path`` opened as its gzip, bzip2 or xz stream, else as it is (a plain tar); tarfile reads it from there. The
    readers' own opener: every stream of a multi-stream file, the xz format's stream padding (NUL bytes after a
    stream, which ``xz -t`` accepts), and any other data after a stream refused (trial t61)."""
    return open_binary(path, "archive")


def _read_to_the_end(stream) -> None:
    """Read what tarfile left of a compressed stream, so that its trailer is checked: tarfile stops at the tar's
    end-of-archive blocks and never reads the gzip CRC, so a tar.gz damaged inside a document's text was unpacked,
    marked fetched and then verified (trial t57)."""
    while stream.read(1 << 20):
        pass


#: Compression methods of zip members that Python's zipfile does not read (PKWARE's APPNOTE 4.4.5), by number.
_ZIP_METHODS = {1: "shrink", 6: "implode", 9: "Deflate64", 93: "Zstandard", 95: "xz", 98: "PPMd"}


def _refuse_zip_member(path: Path, info: zipfile.ZipInfo, e: Exception, name: str, final: Path) -> NoReturn:
    """Raise :class:`ArchiveError` for a member of a sound zip archive that Python's zipfile cannot read: one
    compressed with a method it lacks (``NotImplementedError``: Deflate64, which Windows' own zipper writes for large
    files), or encrypted (``RuntimeError``). The archive is not damaged, so it is kept where it is."""
    if isinstance(e, NotImplementedError):
        method = info.compress_type
        why = f"is compressed with method {method}" + (f" ({_ZIP_METHODS[method]})" if method in _ZIP_METHODS else "")
        why += ", which Python's zipfile cannot read"
    elif info.flag_bits & 0x1:  # the general purpose flag's bit 0: encrypted (APPNOTE 4.4.4)
        why = "is encrypted (a password is needed to extract it)"
    else:
        raise e
    head = (f"{path.name}: member {info.filename!r} {why}; unpack the archive with unzip, 7z x or bsdtar -xf into "
            f"{final} (the archive is kept at {path}) and check that folder with")
    raise ArchiveError(f"{head} ltr.registry.verify({name!r}, {str(final)!r})",
                       cli=f"{head} ltr data verify {name} {final}") from None


def _unpack(archive: dict, path: Path, dest: Path, name: str, final: Path) -> None:
    """Unpack ``path`` into ``dest``; ``name`` and ``final`` (the set and ``DIR/NAME``) word the RAR hint."""
    fmt = archive["format"]
    try:
        if fmt == "zip":
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    _safe_member(dest, member)
                for info in z.infolist():  # one at a time, to name a member zipfile cannot read
                    try:
                        z.extract(info, dest)
                    except (NotImplementedError, RuntimeError) as e:
                        _refuse_zip_member(path, info, e, name, final)
        elif fmt in ("tar.gz", "tar.bz2", "tar"):
            # Read as a stream, each member checked, then extracted, as it comes: one decompression (a member
            # list first, then the extraction, decompressed the archive twice); an escaping member stops the
            # unpacking into the staging folder, which the caller removes.
            with _decompressed(path) as stream, tarfile.open(fileobj=stream, mode="r|") as t:
                def checked(members):
                    for m in members:
                        _safe_member(dest, m.name)
                        if m.issym() or m.islnk():
                            # (a hard link names a member from the archive's root, a symlink a path from its own
                            # folder)
                            target = m.linkname if m.islnk() else os.path.join(os.path.dirname(m.name), m.linkname)
                            _safe_member(dest, target, link=m.name)
                        if not m.isdev():
                            yield m

                if hasattr(tarfile, "data_filter"):  # 3.11.4+: the safe filter (default from 3.14) also guards links
                    t.extractall(dest, members=checked(t), filter="data")
                else:
                    t.extractall(dest, members=checked(t))
                _read_to_the_end(stream)
        elif fmt == "gz":
            out = dest / archive.get("dest", archive["file"].removesuffix(".gz"))
            out.parent.mkdir(parents=True, exist_ok=True)
            with gzip.open(path, "rb") as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif fmt == "file":
            out = _safe_member(dest, archive.get("dest", archive["file"]))
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)
        elif fmt == "rar":
            _run_rar_tool(path, dest, name, final)
    except _EscapingMember as e:  # an archive fetch downloaded is set aside, or every later fetch reused it
        if _fetched_mark(path).exists():
            aside = _set_aside(path)
            raise ArchiveError(f"{path.name}: {e}; it is kept aside as {aside} and not used") from None
        raise ArchiveError(f"{path.name}: {e}; it was put there, not downloaded by fetch: it is left as it is; "
                           f"remove {path} to download it again") from None
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as e:
        if isinstance(e, OSError) and e.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST):  # one name as a folder
            # and as a file: it named the staging folder's path, removed by then (trial t72)
            member = os.path.relpath(os.fsdecode(e.filename), dest) if e.filename else "a member"
            raise ArchiveError(f"{path.name}: {member} cannot be unpacked ({e.strerror.lower()}): the archive holds "
                               "that name both as a folder and as a file; nothing was installed") from None
        if isinstance(e, OSError) and e.errno is not None:  # the disk's error (bzip2 and gzip say damage without one)
            raise
        aside = _set_aside(path)
        raise ChecksumError(f"{path.name} is not a readable {fmt} archive ({e}); it is kept aside as {aside} and "
                            f"not used", str(aside)) from None


def _make_folders(to: Path, downloads: Path, shown: str) -> list[Path]:
    """Create ``to`` (and its missing parents) and ``to/.ltrkit-downloads``; the folders created, deepest first. A
    failure is one line naming the folder the user gave (``shown``) and what failed, never the downloads folder
    alone in the OS's words."""
    missing = [p for p in (downloads, to, *to.parents) if not p.exists()]
    try:
        to.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        said = "is a file; give a folder" if to.is_file() else \
            "cannot create the folder: a part of this path is a file, not a folder"
        raise OutputPathError(shown, said) from None
    except OSError as e:
        raise OutputPathError(shown, f"cannot create the folder: {_os_reason(e)}") from None
    if not os.access(to, os.W_OK | os.X_OK):  # a read-only file system (root passes permissions otherwise)
        _remove_empty(missing)
        raise OutputPathError(shown, f"cannot write: the folder {shown} is not writable")
    try:
        downloads.mkdir(exist_ok=True)
    except OSError as e:
        _remove_empty(missing)
        raise OutputPathError(shown, f"cannot create its folder {DOWNLOADS}: {_os_reason(e)}") from None
    return missing


def _os_reason(e: OSError) -> str:
    return e.strerror[:1].lower() + e.strerror[1:] if e.strerror else type(e).__name__


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed call created, deepest first, where they are still empty (a ``.part`` file to
    resume, or an archive put there by hand, keeps its folder)."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _top_folders(folder: Path, depth: int = 2, most: int = 8) -> str:
    """What an unpacked archive holds, for an error: its folders down to ``depth`` levels, the deepest of each
    branch only (``OHSUMED/Feature_min/``), at most ``most`` of them; its files when it has no folder."""
    dirs = sorted(p.relative_to(folder) for p in folder.rglob("*")
                  if p.is_dir() and len(p.relative_to(folder).parts) <= depth)
    names = [d.as_posix() + "/" for d in dirs if not any(o.parent == d for o in dirs)]
    if not names:
        names = sorted(p.name for p in folder.iterdir())
    if not names:
        return "nothing"
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def fetch_entry(entry: Entry, to: str | os.PathLike, *, progress: bool = True, base_url: str | None = None,
                timeout: float = 30.0, retries: int = 2, keep_archives: bool = False) -> Path:
    """See :func:`ltr.registry.fetch`."""
    shown = os.fsdecode(os.fspath(to))
    to = Path(to).expanduser()  # '--to=~/ltr-data' and a quoted '~/...' reach here unexpanded: never a './~' folder
    dest = to / entry.name
    if (dest / MARKER).is_file():
        return dest
    if dest.exists():
        head = f"{dest} exists but is not a complete copy made by fetch (no {MARKER}); remove it, or check it with"
        raise DatasetLayoutError(f"{head} ltr.registry.verify({entry.name!r}, {str(dest)!r})",
                                 cli=f"{head} ltr data verify {entry.name} {dest}")
    if not entry.archives:
        raise DownloadError(f"the registry lists no archive for {entry.name}")
    downloads = to / DOWNLOADS
    created = _make_folders(to, downloads, shown)
    with _one_at_a_time(downloads, entry.name, to):
        if (dest / MARKER).is_file():  # the call this one waited for installed it
            return dest
        downloads.mkdir(parents=True, exist_ok=True)  # removed, empty, by a call this one waited for that failed
        return _fetch_locked(entry, to, dest, downloads, created, shown, progress=progress, base_url=base_url,
                             timeout=timeout, retries=retries, keep_archives=keep_archives)


@contextlib.contextmanager
def _one_at_a_time(downloads: Path, name: str, to: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the ``downloads`` folder itself (no lock file left behind; where the platform
    has no ``flock``, nothing is held); a call that finds it held says that it waits for the other."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    said = False
    while True:
        downloads.mkdir(parents=True, exist_ok=True)
        fd = os.open(downloads, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not said:
                    logger.warning("another fetch into %s is running; waiting for it to end before fetching %s", to,
                                   name)
                    said = True
                fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as e:  # NFS (EBADF on a folder), some FUSE/SMB mounts (ENOLCK, EOPNOTSUPP): no lock there
            os.close(fd)
            logger.warning("%s: no lock on this file system (%s): two fetches into it at once would clash", downloads,
                           e.strerror or e)
            yield
            return
        try:
            mine = os.fstat(fd)
            now = os.stat(downloads)
        except FileNotFoundError:
            mine = now = None
        if mine is not None and (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino):
            break
        os.close(fd)  # the folder the other call held was removed (it failed) and made again: lock the new one
    try:
        yield
    finally:
        os.close(fd)  # releases the lock


def _leave_out_other_sets(entry: Entry, root: Path) -> None:
    """Remove from the unpacked ``root`` the files of the other registered sets that share an archive with ``entry``
    and are not ``entry``'s own: Yahoo's archive holds both sets side by side, and each set's folder received both
    (set 1's files, the larger, twice; trial t65). The archive still holds them."""
    from ltr.registry._catalog import catalog

    def same(a: dict) -> tuple:  # one archive: its name, where it comes from and its checksum (two users' sets
        return a["file"], tuple(a.get("urls", ())), a.get("sha256")  # of a data.zip are not one: review of t65)

    files = {same(a) for a in entry.archives}
    ours = {p for ef in entry.expected_files() if (p := ef.resolve(root)) is not None}
    for other in catalog().values():
        if other.name != entry.name and files & {same(a) for a in other.archives}:
            for ef in other.expected_files():
                p = ef.resolve(root)
                if p is not None and p not in ours:
                    p.unlink()


def _fetch_locked(entry: Entry, to: Path, dest: Path, downloads: Path, created: list[Path], shown: str, *,
                  progress: bool, base_url: str | None, timeout: float, retries: int, keep_archives: bool) -> Path:
    """:func:`fetch_entry` once the downloads folder is this call's."""
    try:
        got = [(a, *_obtain(entry, a, downloads, base_url=base_url, timeout=timeout, retries=retries,
                            progress=progress, shown=shown)) for a in entry.archives]
    except BaseException as e:
        # a failed download's message says where to put the archive by hand, DIR/.ltrkit-downloads/FILE: that folder
        # stays; any other failure (a full disk, Ctrl-C) leaves no empty folder this call made
        if not isinstance(e, DownloadError):
            _remove_empty(created)
        raise
    unchecked = [a for a, _, _ in got if not _checksums(a)]
    for a in unchecked:
        what = _MAGIC[a["format"]][0] if a["format"] in _MAGIC else ""
        only = " and ".join(filter(None, ["its size" if a.get("size") is not None else "",
                                          f"that it is {what}" if what else ""]))
        logger.warning("no checksum is published for %s of %s, so the file was not checked%s; the unpacked files "
                       "are checked against the registry's layout, documented counts and the files' own checksums "
                       "where it records them instead", a["file"],
                       entry.name, f" (only {only})" if only else "")
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=to))
    try:
        for archive, path, _ in got:
            _unpack(archive, path, tmp, entry.name, dest)
        root = entry.find_root(tmp)
        report = verify_copy(entry, root, counts=False, checksums=True)
        if report.missing:
            raise DatasetLayoutError(f"the archives of {entry.name} unpacked but lack {', '.join(report.missing)}; "
                                     f"nothing was installed (they hold {_top_folders(tmp)}; the files were looked "
                                     f"for in {', '.join(repr(r) for r in entry.roots)})")
        if report.differing:  # the released files are documented: a copy that is not them is not installed
            raise ChecksumError(
                f"the archives of {entry.name} unpacked, but files differ from the registry's sizes or checksums: "
                + "; ".join(f"{f.path}: {', '.join(f.problems)}" for f in report.files if f.problems)
                + f"; nothing was installed (the archives are kept in {downloads}: remove a damaged one to "
                "download it again)")
        if unchecked:  # without an archive checksum, the counts (rows, queries, labels, records) are what is left
            counted = verify_copy(entry, root, counts=True, checksums=False)
            if counted.differing or counted.problems:  # some documented counts are not from a primary source
                logger.warning("%s: files differ from the registry: %s", entry.name, "; ".join(
                    [f"{f.path}: {', '.join(f.problems)}" for f in counted.files if f.problems] + counted.problems))
            report = counted
        _leave_out_other_sets(entry, root)
        marker = {"name": entry.name, "registry_file": entry.origin, "archives": [
            {"file": a["file"], "bytes": p.stat().st_size, "downloaded": new} for a, p, new in got],
            "files": [f.found for f in report.files], "differing": report.differing,
            "problems": report.problems,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        with atomic_write(root / MARKER) as f:
            f.write(json.dumps(marker, indent=1) + "\n")
        # mkdtemp made the folder private (0o700) while it was filled; installed, it gets the mode of any folder the
        # user makes (0o777 less the umask, which the kernel applies to a probe), so a shared copy can be shared
        probe = tmp / ".mode-probe"
        os.mkdir(probe, 0o777)
        os.chmod(root, stat.S_IMODE(probe.stat().st_mode))
        probe.rmdir()
        os.replace(root, dest)  # the only step that makes DIR/NAME appear, and it is atomic
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if keep_archives:  # kept on request: a later call (another version from the same archive) keeps them too, as
        for _, path, _ in got:  # the user's own (one fetch of three OHSUMED versions removed a kept one: t65)
            _fetched_mark(path).unlink(missing_ok=True)
    else:
        for _, path, new in got:
            if new:  # downloaded by this toolkit (this call or an earlier one); never what the user put there
                path.unlink(missing_ok=True)
                _fetched_mark(path).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # left empty (trial t55); a folder holding anything stays
            downloads.rmdir()
    return dest
