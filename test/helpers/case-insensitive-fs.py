#!/usr/bin/python3
"""A case-insensitive, case-preserving passthrough file system (FUSE), like ext4 casefold / APFS / NTFS / FAT:
a name is looked up ignoring case (Unicode casefold); a new entry keeps the case it was made with; a rename
onto a name that matches an existing entry replaces that entry and keeps its stored name (as ext4 casefold)."""
import errno, os, sys
import fusepy as fuse

# --windows-names: names Windows cannot hold (any of : * ? " < > |, or ending in a dot or a space) are refused with
# EINVAL where a name is made (create, mkdir, rename), as ntfs-3g's windows_names option and a FAT disk do on Linux.
WINDOWS_NAMES = False


def refused(path):
    name = path.rsplit('/', 1)[-1]
    return WINDOWS_NAMES and (any(c in name for c in ':*?"<>|') or name.endswith('.') or name.endswith(' '))


class CI(fuse.Operations):
    def __init__(self, back):
        self.back = back

    def _find(self, dirb, name):
        p = os.path.join(dirb, name)
        if os.path.lexists(p):
            return name
        # As ext4 casefold, a flag of one directory inherited below it: with CI_DIR given, only in directories of
        # that name and below them is case ignored.
        if CI_DIR is not None and CI_DIR not in os.path.relpath(dirb, self.back).split('/'):
            return None
        try:
            names = os.listdir(dirb)
        except OSError:
            return None
        cf = name.casefold()
        for n in names:
            if n.casefold() == cf:
                return n
        return None

    def _r(self, path, create_last=True):
        parts = [p for p in path.split('/') if p]
        cur = self.back
        for i, part in enumerate(parts):
            found = self._find(cur, part)
            cur = os.path.join(cur, found if found is not None else part)
        return cur

    def getattr(self, path, fh=None):
        st = os.lstat(self._r(path))
        return {k: getattr(st, k) for k in ('st_mode', 'st_size', 'st_nlink', 'st_uid', 'st_gid', 'st_ino',
                                             'st_atime', 'st_mtime', 'st_ctime', 'st_atime_ns', 'st_mtime_ns', 'st_ctime_ns')}

    def readdir(self, path, fh):
        d = self._r(path)
        out = ['.', '..']
        for n in os.listdir(d):
            out.append(n)
        return out

    def access(self, path, mode):
        if not os.access(self._r(path), mode):
            raise fuse.FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        os.chmod(self._r(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._r(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._r(path), ns=(int(times[0] * 1e9), int(times[1] * 1e9)) if times else None)

    def mkdir(self, path, mode):
        if refused(path):
            raise fuse.FuseOSError(errno.EINVAL)
        p = self._r(path)
        if os.path.lexists(p):
            raise fuse.FuseOSError(errno.EEXIST)
        os.mkdir(p, mode)

    def rmdir(self, path):
        os.rmdir(self._r(path))

    def unlink(self, path):
        os.unlink(self._r(path))

    def symlink(self, name, target):
        os.symlink(target, self._r(name))

    def readlink(self, path):
        return os.readlink(self._r(path))

    def rename(self, old, new):
        if refused(new):
            raise fuse.FuseOSError(errno.EINVAL)
        o = self._r(old)
        n = self._r(new)
        if os.path.lexists(n) and os.path.samefile(o, n) and o != n:
            os.rename(o, os.path.join(os.path.dirname(n), os.path.basename(new)))  # a case-only rename
            return
        os.rename(o, n)  # onto the stored name of a matching entry, if any: replaced, name kept

    def statfs(self, path):
        s = os.statvfs(self._r(path))
        return {k: getattr(s, k) for k in ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree',
                                            'f_files', 'f_flag', 'f_frsize', 'f_namemax')}

    def open(self, path, flags):
        return os.open(self._r(path), flags & ~os.O_NOFOLLOW)

    def create(self, path, mode, fi=None):
        if refused(path):
            raise fuse.FuseOSError(errno.EINVAL)
        p = self._r(path)
        return os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode) if False else os.open(p, os.O_RDWR | os.O_CREAT, mode)

    def read(self, path, length, offset, fh):
        return os.pread(fh, length, offset)

    def write(self, path, buf, offset, fh):
        return os.pwrite(fh, buf, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            os.ftruncate(fh, length)
        else:
            os.truncate(self._r(path), length)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)

    def fsync(self, path, datasync, fh):
        os.fsync(fh)

    def fsyncdir(self, path, datasync, fh):
        return 0

    def opendir(self, path):
        if not os.path.isdir(self._r(path)):
            raise fuse.FuseOSError(errno.ENOTDIR)
        return 0

CI_DIR = None

if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if a != '--windows-names']
    WINDOWS_NAMES = len(args) < len(sys.argv) - 1
    back, mnt = args[0], args[1]
    CI_DIR = args[2] if len(args) > 2 else None
    fuse.FUSE(CI(back), mnt, foreground=True, nothreads=True, use_ino=True, hard_remove=True,
              entry_timeout=0, attr_timeout=0, negative_timeout=0, default_permissions=True)
