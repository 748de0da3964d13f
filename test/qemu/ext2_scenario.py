"""The ext2 QEMU scenarios, with e2fsprogs as the oracle (boot_test.py registers them).

The host builds a tree (2,000 files, a deep directory, a 255-byte name, hard links,
fast and slow symlinks, a sparse file reaching triple-indirect blocks at 1 KiB blocks) and
an image of it with `mke2fs -d`; the guest mounts it, hashes every file, changes the tree
(create, write, overwrite, rename, link, unlink, rmdir, fill to ENOSPC), unmounts and powers
off. Then `e2fsck -fn` must find nothing, and `debugfs -R 'rdump / DIR'` must give back
exactly the tree a host-side model of those changes says the guest wrote.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

MOUNT = "/mnt"
# Past 12 + 256 + 256 * 256 blocks of 1 KiB: a byte there needs the triple-indirect block.
TRIPLE_INDIRECT_OFFSET = 70 * 1024 * 1024


def make_tree(root: Path, seed: int) -> None:
    generator = random.Random(seed)
    for group in range(10):
        directory = root / f"group{group}"
        directory.mkdir()
        for index in range(200):
            size = generator.choice((0, 1, 100, 1023, 1024, 1025, 4096, 5000, 13000))
            (directory / f"file{index:03d}").write_bytes(generator.randbytes(size))
    deep = root
    for level in range(24):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    (deep / "bottom").write_bytes(b"at the bottom\n")
    (root / ("n" * 255)).write_bytes(b"a name of 255 bytes\n")
    (root / "medium").write_bytes(generator.randbytes(300_000))  # double-indirect at 1 KiB
    (root / "hard1").write_bytes(b"one inode, two names\n")
    os.link(root / "hard1", root / "hard2")
    os.symlink("hard1", root / "fast-link")
    os.symlink("./" * 40 + "hard1", root / "slow-link")  # 85 bytes: a data block
    with open(root / "sparse", "wb") as handle:
        handle.seek(TRIPLE_INDIRECT_OFFSET)
        handle.write(b"far away\n")
    (root / "empty-dir").mkdir()
    (root / "doomed-dir").mkdir()
    (root / "doomed-dir" / "inside").write_bytes(b"removed with its directory\n")


def snapshot(root: Path) -> dict[str, tuple]:
    """Path -> ('file', sha256, size) | ('link', target) | ('dir',), lost+found left out."""
    result: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if relative == "lost+found" or relative.startswith("lost+found/"):
            continue
        if path.is_symlink():
            result[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            result[relative] = ("dir",)
        else:
            data = path.read_bytes()
            result[relative] = ("file", hashlib.sha256(data).hexdigest(), len(data))
    return result


def hashed_files(tree: dict[str, tuple]) -> list[str]:
    # The console takes lines of up to 256 bytes: the 255-byte name is checked by `ls -l`.
    return [path for path, kind in tree.items()
            if kind[0] == "file" and path != "sparse" and len(path) < 200]


def guest_script(tree: dict[str, tuple]) -> list[str]:
    files = hashed_files(tree)
    # The root's /etc/fstab mounts vda on /mnt at the first file command (`mount` here).
    script = ["mount", f"ls -l {MOUNT}", "df"]
    script += [f"sha256 {MOUNT}/{path}" for path in files]
    script += [f"stat {MOUNT}/hard1", f"cat {MOUNT}/fast-link", f"cat {MOUNT}/slow-link",
               f"stat {MOUNT}/sparse"]
    # A live swap of the module with the volume mounted: its state is one region, carried.
    script += ["evolve ext2 ext2.umod", f"sha256 {MOUNT}/medium"]
    script += [f"mkdir {MOUNT}/made", f"write {MOUNT}/made/note written by umka",
               f"fill {MOUNT}/made/big 2000000 3", f"write {MOUNT}/group0/file001 overwritten",
               f"mv {MOUNT}/group1 {MOUNT}/made/moved", f"mv {MOUNT}/made/note {MOUNT}/hard2",
               f"ln {MOUNT}/medium {MOUNT}/made/medium-link", f"ln -s /far/away/target {MOUNT}/made/dangling",
               f"rm {MOUNT}/group2/file000", f"rm {MOUNT}/doomed-dir/inside", f"rmdir {MOUNT}/doomed-dir",
               f"rmdir {MOUNT}/group3", f"rm {MOUNT}/nope", f"mv {MOUNT}/made {MOUNT}/made/moved/inside",
               f"fill {MOUNT}/made/huge 60000000 5", f"ls -l {MOUNT}/made", "df", "sync",
               f"umount {MOUNT}", f"mount vda {MOUNT} ext2", f"cat {MOUNT}/hard2", f"umount {MOUNT}",
               "poweroff"]
    return script


def expected_after(tree: dict[str, tuple], huge_size: int, fill_pattern) -> dict[str, tuple]:
    model = dict(tree)

    def put_file(path: str, data: bytes) -> None:
        model[path] = ("file", hashlib.sha256(data).hexdigest(), len(data))

    model["made"] = ("dir",)
    put_file("made/big", fill_pattern(3, 2_000_000))
    put_file("group0/file001", b"overwritten\n")
    for path in [path for path in model if path == "group1" or path.startswith("group1/")]:
        model["made/moved" + path[len("group1"):]] = model.pop(path)
    model["hard2"] = ("file", hashlib.sha256(b"written by umka\n").hexdigest(), 16)
    model["made/medium-link"] = model["medium"]
    model["made/dangling"] = ("link", "/far/away/target")
    for path in ("group2/file000", "doomed-dir/inside", "doomed-dir"):
        del model[path]
    put_file("made/huge", fill_pattern(5, (huge_size + 7) // 8 * 8)[:huge_size])
    return model


def run(helpers, build: Path, accel: str, block_size: int) -> None:
    expect, command_output = helpers.expect, helpers.command_output
    for tool in ("mke2fs", "e2fsck", "debugfs"):
        expect(shutil.which(tool) is not None, f"{tool} is missing (apt-get install e2fsprogs)")
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        source = work / "tree"
        source.mkdir()
        make_tree(source, 20261207 + block_size)
        tree = snapshot(source)
        image = work / "e2.img"
        subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", str(block_size), "-N", "4096",
                        "-d", str(source), str(image), "24M"], check=True)
        status, output = helpers.boot(build, accel, guest_script(tree), "--disk", str(image), timeout=400)
        expect("fstab:3: vda on /mnt (ext2): mounted" in output and "vda on /mnt type ext2" in output,
               "/etc/fstab did not mount vda on /mnt")
        expect(command_output(output, f"cat {MOUNT}/hard2") == "written by umka\n",
               "a second mount does not show what the first wrote")
        expect(re.search(r"^-rw-r--r--\s+1\s+20 " + "n" * 255 + "$", command_output(output, f"ls -l {MOUNT}"),
                         re.MULTILINE) is not None, "ls -l does not show the 255-byte name")
        for path in hashed_files(tree):
            expect(f"{tree[path][1]}  {MOUNT}/{path}\n" in command_output(output, f"sha256 {MOUNT}/{path}"),
                   f"{path}: the guest's SHA-256 is not the host's")
        expect(", links 2, " in command_output(output, f"stat {MOUNT}/hard1"), "hard1 should have 2 links")
        expect(command_output(output, f"cat {MOUNT}/fast-link") == "one inode, two names\n",
               "the fast symlink does not lead to hard1")
        expect(command_output(output, f"cat {MOUNT}/slow-link") == "one inode, two names\n",
               "the slow symlink does not lead to hard1")
        expect(f"size {TRIPLE_INDIRECT_OFFSET + 9}, " in command_output(output, f"stat {MOUNT}/sparse"),
               "the sparse file's size is wrong")
        helpers.expect_swapped(command_output(output, "evolve ext2 ext2.umod"), "ext2", "ext2.umod")
        expect(tree["medium"][1] in command_output(output, f"sha256 {MOUNT}/medium"),
               "medium hashes differently after the swap")
        expect("rm: /mnt/nope: ENOENT" in command_output(output, f"rm {MOUNT}/nope"), "rm of nothing")
        expect("rmdir: /mnt/group3: ENOTEMPTY" in command_output(output, f"rmdir {MOUNT}/group3"),
               "rmdir of a full directory")
        expect("EINVAL" in command_output(output, f"mv {MOUNT}/made {MOUNT}/made/moved/inside"),
               "moving a directory into itself must be EINVAL")
        expect(f"fill: {MOUNT}/made/huge: ENOSPC" in command_output(output, f"fill {MOUNT}/made/huge 60000000 5"),
               "filling past the disk did not end in ENOSPC")
        listing = command_output(output, f"ls -l {MOUNT}/made")
        huge = re.search(r"^-rw-r--r--\s+1\s+(\d+) huge$", listing, re.MULTILINE)
        expect(huge is not None and int(huge[1]) > 0, f"no partial huge in:\n{listing}")
        helpers.expect_clean_power_off(status, output)
        check = subprocess.run(["e2fsck", "-fn", str(image)], capture_output=True, text=True)
        print(check.stdout + check.stderr)
        expect(check.returncode == 0, f"e2fsck -fn found problems (exit {check.returncode})")
        extracted = work / "out"
        extracted.mkdir()
        subprocess.run(["debugfs", "-R", f"rdump / {extracted}", str(image)], check=True,
                       capture_output=True)
        found = snapshot(extracted)
        wanted = expected_after(tree, int(huge[1]), helpers.fill_pattern)
        missing = sorted(set(wanted) - set(found))
        extra = sorted(set(found) - set(wanted))
        different = sorted(path for path in set(wanted) & set(found) if wanted[path] != found[path])
        print(f"ext2 ({block_size}-byte blocks): {len(found)} paths extracted, {len(missing)} missing, "
              f"{len(extra)} extra, {len(different)} different")
        expect(not missing and not extra and not different,
               f"debugfs's tree is not what the guest wrote: missing {missing[:5]}, extra {extra[:5]}, "
               f"different {different[:5]}")


def run_read_only(helpers, build: Path, accel: str) -> None:
    # A read-only disk mounts read-only: reads work, every change is EROFS, the image keeps
    # every byte.
    expect, command_output = helpers.expect, helpers.command_output
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        source = work / "tree"
        source.mkdir()
        (source / "kept").write_bytes(b"read-only data\n")
        image = work / "ro.img"
        subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", "4096", "-d", str(source), str(image), "8M"],
                       check=True)
        before = image.read_bytes()
        script = ["mount", f"cat {MOUNT}/kept", f"write {MOUNT}/new x",
                  f"rm {MOUNT}/kept", f"mkdir {MOUNT}/d", f"umount {MOUNT}", "poweroff"]
        status, output = helpers.boot(build, accel, script, "--disk", f"{image}:ro")
        expect(command_output(output, f"cat {MOUNT}/kept") == "read-only data\n", "cat on a read-only disk")
        for command in (f"write {MOUNT}/new x", f"rm {MOUNT}/kept", f"mkdir {MOUNT}/d"):
            expect("EROFS" in command_output(output, command), f"{command} should be EROFS")
        expect("mounted read-only" in output, "the log does not say the volume is read-only")
        helpers.expect_clean_power_off(status, output)
        expect(image.read_bytes() == before, "the read-only image changed")


def run_swap(helpers, build: Path, accel: str) -> None:
    # The ext2 module and the VFS each swapped A -> B -> A twice (ext2-v2.umod: Ext2State
    # version 2; vfs_service-v2.umod: VfsState version 3), interleaved, while the console's
    # appender writes 250,000 lines to /mnt/log through one O_APPEND descriptor that the VFS
    # state carries across its swaps. Every swap must happen (the pause waits until no call is
    # inside the old code; two CPUs, so the appender runs while the console swaps), and the
    # file must hold each line exactly once, in order, in the guest and on the host.
    expect, command_output = helpers.expect, helpers.command_output
    # Enough that the appender is still writing when the last swap is done (about 13,000
    # lines a second under TCG; the swaps' pauses wait out its calls, several seconds in all).
    lines = 250000
    with tempfile.TemporaryDirectory() as directory:
        image = Path(directory) / "swap.img"
        subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", "1024", str(image), "16M"], check=True)
        swaps = ["evolve ext2 ext2-v2.umod", "evolve vfs_service vfs_service-v2.umod",
                 "evolve --allow-downgrade ext2 ext2.umod",
                 "evolve --allow-downgrade vfs_service vfs_service.umod"] * 2
        script = ["mount", f"append {MOUNT}/log {lines}", "wait 100"]
        for swap in swaps:
            script += [swap, "wait 50"]
        script += ["append", *["wait 3000", "append"] * 16, f"sha256 {MOUNT}/log", f"umount {MOUNT}", "poweroff"]
        status, output = helpers.boot(build, accel, script, "--disk", str(image), "--smp", "2", timeout=400)
        for index, swap in enumerate(swaps):
            service, file = swap.split()[-2:]
            helpers.expect_swapped(command_output(output, swap, index // 4), service, file)
        caught = re.findall(r"evolve: (\d+) pause\(s\) found a call in flight inside '(?:ext2|vfs_service)'",
                            output)
        print(f"ext2-swap: {len(swaps)} swaps; {len(caught)} of them found a call in flight at "
              f"{sum(int(count) for count in caught)} pauses in all and waited it out")
        progress = command_output(output, "append", 16)
        expect(f"append: {MOUNT}/log: {lines} of {lines} lines, done" in progress,
               f"the appender did not finish: {progress}")
        early = command_output(output, "append", 0)
        expect(f"of {lines} lines" in early and ", done" not in early,
               f"the swaps did not happen while the appender wrote: {early}")
        expected = "".join(f"line {number:06d}\n" for number in range(1, lines + 1)).encode()
        digest = hashlib.sha256(expected).hexdigest()
        expect(f"{digest}  {MOUNT}/log" in command_output(output, f"sha256 {MOUNT}/log"),
               "the log lost or doubled a line across the swaps")
        helpers.expect_clean_power_off(status, output)
        check = subprocess.run(["e2fsck", "-fn", str(image)], capture_output=True, text=True)
        expect(check.returncode == 0, f"e2fsck -fn: {check.stdout}{check.stderr}")
        dumped = subprocess.run(["debugfs", "-R", "cat /log", str(image)], capture_output=True)
        expect(dumped.stdout == expected, "debugfs's /log is not the lines the guest wrote")
