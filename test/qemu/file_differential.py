"""A differential test of the VFS: the same random sequence of file operations runs in the
guest (through the console's file commands, under /d) and on this machine's Linux (in a
temporary directory), and every answer must agree: the errno name of each refusal, the
bytes `cat` prints, and the kind, size and link count `stat` reports. Linux is the model:
nothing here says what the answer should be.

Operations draw their paths from a few names two levels deep, so they collide often:
creating over files, removing non-empty directories, renaming a directory into a file,
linking directories, following relative symbolic links (absolute targets would differ
between the two roots).
"""

from __future__ import annotations

import errno
import os
import random
import re
import stat
import tempfile
from pathlib import Path

# Top-level names are mostly directories (mkdir comes first in their draw), deeper ones
# mostly files, so both trees grow before they are cut down.
NAMES = ("a", "b", "c")
LEAVES = ("x", "y")
WORDS = ("red", "green", "blue", "umka")
BASE = "/d"


def random_path(chooser: random.Random) -> str:
    depth = chooser.choice((1, 2, 2, 2, 3))
    parts = [chooser.choice(NAMES) for _ in range(depth - 1)]
    path = "/".join(parts + [chooser.choice(NAMES if depth == 1 or chooser.random() < 0.3 else LEAVES)])
    # Now and then a trailing slash: it makes the last name a directory's, and follows a
    # link there for stat and open but not for rmdir, unlink, rename, link or symlink.
    return path + "/" if chooser.random() < 0.12 else path


def operations(seed: int, count: int) -> list[list[str]]:
    """`count` operations as command words, paths relative to the base."""
    chooser = random.Random(seed)
    kinds = ("mkdir", "mkdir", "write", "write", "write", "cat", "stat", "stat", "rm", "rmdir", "mv",
             "ln", "symlink")
    # The three top-level directories first, most of the time.
    result = [["mkdir", name] for name in NAMES]
    for _ in range(count - len(result)):
        kind = chooser.choice(kinds)
        path = random_path(chooser)
        if kind == "write":
            result.append(["write", path, *chooser.sample(WORDS, chooser.randint(1, 3))])
        elif kind in ("mv", "ln"):
            result.append([kind, path, random_path(chooser)])
        elif kind == "symlink":
            # Relative to the link's directory: one level up or a sibling.
            target = chooser.choice(("..", "")) + "/" + chooser.choice(NAMES + LEAVES)
            result.append(["symlink", target.lstrip("/"), path])
        else:
            result.append([kind, path])
    return result


def guest_line(operation: list[str]) -> str:
    kind, rest = operation[0], operation[1:]
    if kind == "symlink":
        return f"ln -s {rest[0]} {BASE}/{rest[1]}"
    if kind in ("mv", "ln"):
        return f"{kind} {BASE}/{rest[0]} {BASE}/{rest[1]}"
    if kind == "write":
        return f"write {BASE}/{rest[0]} {' '.join(rest[1:])}"
    return f"{kind} {BASE}/{rest[0]}"


KIND_NAMES = {stat.S_IFREG: "regular file", stat.S_IFDIR: "directory", stat.S_IFLNK: "symbolic link"}


def stat_answer(kind: str, size: int, links: int) -> str:
    # A directory's size and link count depend on the file system under the host's
    # temporary directory (btrfs counts no subdirectory links): only its kind is compared.
    return f"STAT {kind}" if kind == "directory" else f"STAT {kind} {size} {links}"


def host_answer(root: Path, operation: list[str]) -> str:
    """What Linux answers, in the form `answer` reads from the guest."""
    kind, rest = operation[0], operation[1:]
    # os.path.join, not Path's "/": a trailing slash must reach the system call.
    path = os.path.join(str(root), rest[0] if kind != "symlink" else rest[1])
    try:
        if kind == "mkdir":
            os.mkdir(path, 0o755)
        elif kind == "write":
            with open(path, "w") as handle:
                handle.write(" ".join(rest[1:]) + "\n")
        elif kind == "cat":
            with open(path, "rb") as handle:
                return "DATA " + handle.read().decode()
        elif kind == "stat":
            status = os.lstat(path)
            return stat_answer(KIND_NAMES[stat.S_IFMT(status.st_mode)], status.st_size, status.st_nlink)
        elif kind == "rm":
            os.unlink(path)
        elif kind == "rmdir":
            os.rmdir(path)
        elif kind == "mv":
            os.rename(path, os.path.join(str(root), rest[1]))
        elif kind == "ln":
            os.link(path, os.path.join(str(root), rest[1]), follow_symlinks=False)
        elif kind == "symlink":
            os.symlink(rest[0], path)
    except OSError as error:
        return errno.errorcode[error.errno]
    return "OK"


def guest_answer(kind: str, text: str) -> str:
    """The guest's output for one command, in host_answer's form."""
    refused = re.match(r"^\S+: \S+: (E[A-Z]+)\n?$", text)
    if refused is not None:
        return refused[1]
    if kind == "cat":
        return "DATA " + text
    if kind == "stat":
        found = re.match(r"^\S+: (regular file|directory|symbolic link), size (\d+), blocks \d+, "
                         r"inode \d+, links (\d+), mode \d+\n$", text)
        return stat_answer(found[1], int(found[2]), int(found[3])) if found else f"unparsed: {text!r}"
    return "OK" if text == "" else f"unexpected output: {text!r}"


def guest_answers(output: str, lines: list[str], kinds: list[str]) -> list[str]:
    """Each command's answer, in order, from the console output of one boot."""
    answers = []
    cursor = 0
    for line, kind in zip(lines, kinds):
        start = output.find(f"umka> {line}\n", cursor)
        if start < 0:
            answers.append("did not run")
            continue
        start += len(f"umka> {line}\n")
        end = output.find("umka>", start)
        cursor = start
        answers.append(guest_answer(kind, output[start:end if end >= 0 else len(output)]))
    return answers


def host_answers(operations_list: list[list[str]]) -> list[str]:
    # The base is one level down on both sides (/d in the guest), so a link that climbs out
    # of it ("../b" at the top) finds nothing on either: the guest's root holds no "b", and
    # the temporary directory holds only "d".
    with tempfile.TemporaryDirectory(prefix="umka-files-model-") as directory:
        base = Path(directory) / BASE.lstrip("/")
        base.mkdir()
        return [host_answer(base, operation) for operation in operations_list]
