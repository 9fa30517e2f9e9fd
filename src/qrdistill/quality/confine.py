"""The child side of ``sandbox.run_python``: confine this process with kernel mechanisms, then run the
untrusted code read from stdin.

    python -I -S -B confine.py '<json settings>' < main.py

It uses the standard library only (it runs outside the project's import path) and fails closed: when a
step cannot be taken, the code is not run, and the reason follows ``SETUP_FAILED`` on stderr with exit
code ``SETUP_EXIT``. The steps, in order:

1. New mount, network, IPC and UTS namespaces; without root also a new user namespace (the caller's
   uid mapped to itself). The network namespace has no interface but a down loopback.
2. A private tmpfs mounted over ``/tmp`` with a size and inode cap (disk and file count), the working
   directory. It lives in this process's mount namespace only, so it vanishes with the process, even
   after ``kill -9`` of the parent.
3. The modules the program imports are imported now, while the interpreter's directories are readable.
4. rlimits: CPU seconds, address space, file size, open files, no core dumps, no new processes.
5. Landlock: reads only under the interpreter's directories, ``/dev/null``, ``/dev/urandom`` and ``/tmp``,
   writes only under ``/tmp``, no execute anywhere, no TCP, no signals or abstract sockets outside.
6. As root, the uid and gid become ``nobody``; otherwise every capability is dropped.
7. The parent-death signal (SIGKILL), then a check that the parent is still the one that started us.
8. seccomp: sockets, process creation, exec, signals, ptrace, mounts, namespaces and other kernel
   interfaces an arithmetic program never needs kill the process (the program cannot catch this).
9. An audit hook (a second layer, for the report): it records to stderr, after ``BLOCKED``, any attempt to
   open, list or change a path outside, import a forbidden module, or reach the interpreter's frames, and
   refuses it. The code then runs with a fresh ``__main__``.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

SETUP_FAILED = "qrdistill-sandbox-setup-failed:"
BLOCKED = "qrdistill-sandbox-blocked:"
SETUP_EXIT = 125
WORKDIR = "/tmp"
MAIN = f"{WORKDIR}/main.py"

_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC, _CLONE_NEWUSER, _CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x10000000, 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 0x4000, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38

# Landlock (include/uapi/linux/landlock.h); its syscall numbers are the same on every architecture.
_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_MAKE_CHAR, _FS_MAKE_SOCK, _FS_MAKE_FIFO, _FS_MAKE_BLOCK = 1 << 6, 1 << 9, 1 << 10, 1 << 11
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FS_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_ALL = 0b11          # bind and connect TCP (ABI 4)
_SCOPE_ALL = 0b11        # abstract unix sockets and signals (ABI 6)

_SECCOMP_ALLOW, _SECCOMP_KILL_PROCESS = 0x7FFF0000, 0x80000000
FORBIDDEN_SYSCALLS = (
    # network
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    # processes and threads
    "fork", "vfork", "clone", "clone3", "execve", "execveat",
    # signals to anything, tracing and other processes' memory
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "pidfd_send_signal",
    "pidfd_getfd", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    # filesystem topology, namespaces, privileges
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "mount_setattr", "open_tree", "move_mount",
    "fsopen", "fsconfig", "fsmount", "fspick", "name_to_handle_at", "open_by_handle_at",
    # kernel interfaces
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "iopl", "ioperm",
)

_PROCESS_EVENTS = frozenset({"os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                             "subprocess.Popen", "pty.spawn", "os.startfile", "os.kill", "os.killpg",
                             "os.putenv", "os.unsetenv", "builtins.input", "sys._getframe", "sys._current_frames",
                             "sys.settrace", "sys.setprofile", "gc.get_objects", "gc.get_referrers",
                             "gc.get_referents", "code.__new__", "function.__new__", "ctypes.dlopen"})
_PATH_WRITES = frozenset({"os.remove", "os.rmdir", "os.rename", "os.mkdir", "os.chmod", "os.chown", "os.link",
                          "os.symlink", "os.truncate", "os.utime", "os.chflags", "os.setxattr", "os.removexattr",
                          "shutil.rmtree", "shutil.copyfile", "shutil.move", "os.mkfifo", "os.mknod"})
_BANNED_MODULES = frozenset({"ctypes", "_ctypes", "_posixsubprocess", "subprocess", "socket", "_socket", "ssl",
                             "multiprocessing", "_multiprocessing", "_xxsubinterpreters", "faulthandler", "pty"})
_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})


class SetupError(Exception):
    """A confinement step that could not be taken; the code is not run."""


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _check(result: int, what: str) -> int:
    if result < 0:
        raise SetupError(f"{what}: {os.strerror(ctypes.get_errno())}")
    return result


def enter_namespaces() -> None:
    """New mount/network/IPC/UTS namespaces (and a user namespace when not root, to be allowed to)."""
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
    if os.geteuid() != 0:
        flags |= _CLONE_NEWUSER
    _check(_libc.unshare(flags), "unshare (user namespaces disabled? see docs/filter.md)")
    if flags & _CLONE_NEWUSER:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as fh:
                fh.write(text)


def mount_workdir(size_bytes: int, max_files: int, owner: int) -> None:
    """A private tmpfs over WORKDIR, capped in bytes and inodes, owned by ``owner``."""
    _check(_libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "making mounts private")
    options = f"size={size_bytes},nr_inodes={max_files + 2},mode=0700,uid={owner},gid={owner}".encode()
    _check(_libc.mount(b"tmpfs", WORKDIR.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, options),
           "mounting the sandbox tmpfs")
    os.chdir(WORKDIR)


def set_limits(cfg: dict) -> None:
    """CPU, memory, file size, open files, core dumps and processes."""
    def lim(kind: int, value: int) -> None:
        resource.setrlimit(kind, (value, value))
    resource.setrlimit(resource.RLIMIT_CPU, (cfg["cpu_s"], cfg["cpu_s"] + 1))
    lim(resource.RLIMIT_AS, cfg["memory_mb"] * 1024 * 1024)
    lim(resource.RLIMIT_FSIZE, cfg["file_bytes"])
    lim(resource.RLIMIT_CORE, 0)
    lim(resource.RLIMIT_NOFILE, cfg["open_files"])
    lim(resource.RLIMIT_NPROC, 0)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is not enabled."""
    return max(0, _libc.syscall(_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1)))


def restrict_filesystem(read_paths: list[str], write_dir: str) -> None:
    """Landlock: read under ``read_paths``, read and write under ``write_dir``, nothing else (no execute,
    no TCP, no signals or abstract unix sockets outside this process)."""
    abi = landlock_abi()
    if abi < 1:
        raise SetupError("Landlock is not enabled in this kernel (Linux >= 5.13 with landlock in the lsm= list)")
    handled = (1 << 13) - 1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0) | (_FS_IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(handled, _NET_ALL if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _check(_libc.syscall(_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)),
                     "landlock_create_ruleset")
    write = handled & ~(_FS_EXECUTE | _FS_MAKE_CHAR | _FS_MAKE_BLOCK | _FS_MAKE_SOCK | _FS_MAKE_FIFO)
    for path, access in [(p, _FS_READ_FILE | _FS_READ_DIR) for p in read_paths] + [(write_dir, write)]:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        if not os.path.isdir(path):
            access &= _FS_FILE_RIGHTS
        rule = _PathBeneath(access, fd)
        _check(_libc.syscall(_LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0), f"landlock_add_rule {path}")
        os.close(fd)
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    os.close(ruleset)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges(as_root: bool, nobody: int) -> None:
    """As root: become ``nobody`` (which clears every capability). Otherwise: drop the capabilities that
    the new user namespace gave us."""
    if as_root:
        os.setgroups([])
        os.setresgid(nobody, nobody, nobody)
        os.setresuid(nobody, nobody, nobody)
        return
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(_CapHeader(0x20080522, 0)), data), "dropping capabilities")


def die_with_parent(parent: int) -> None:
    """SIGKILL when the parent dies; exit now if it already has (we were re-parented)."""
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal")
    if os.getppid() != parent:
        raise SetupError("the parent exited during set-up")


def load_libseccomp() -> ctypes.CDLL:
    """libseccomp, loaded before Landlock hides the system's libraries."""
    try:
        return ctypes.CDLL("libseccomp.so.2")
    except OSError:
        raise SetupError("libseccomp is not installed (Debian/Ubuntu: apt-get install libseccomp2)") from None


def forbid_syscalls(lib: ctypes.CDLL) -> None:
    """seccomp, through libseccomp: each of FORBIDDEN_SYSCALLS kills the process."""
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(_SECCOMP_ALLOW)
    if not ctx:
        raise SetupError("seccomp_init failed")
    try:
        for name in FORBIDDEN_SYSCALLS:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number >= 0 and lib.seccomp_rule_add_array(ctx, _SECCOMP_KILL_PROCESS, number, 0, None) < 0:
                raise SetupError(f"seccomp rule for {name} failed")
        if lib.seccomp_load(ctx) < 0:
            raise SetupError("seccomp_load failed")
    finally:
        lib.seccomp_release(ctx)


def install_audit_hook(readable: tuple[str, ...], work: str, allowed_packages: frozenset[str]) -> None:
    """Record and refuse attempts outside the sandbox. Everything the hook uses is bound in its closure
    now (immutable sets, the functions it calls), so neither this module's namespace (emptied before the
    code runs) nor a replaced builtin changes what it does."""
    stdlib = frozenset(sys.stdlib_module_names)
    process_events, path_writes, banned, frames = _PROCESS_EVENTS, _PATH_WRITES, _BANNED_MODULES, _FRAME_ATTRIBUTES
    write, realpath, fsdecode, path_like = os.write, os.path.realpath, os.fsdecode, os.PathLike
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC
    is_a, text, denied = isinstance, str, PermissionError
    prefixes, marker = ("socket.", "ctypes.", "urllib.", "http."), BLOCKED

    def inside(path: object, roots: tuple[str, ...]) -> bool:
        if is_a(path, int):
            return True
        try:
            real = realpath(fsdecode(path))  # type: ignore[arg-type]
        except Exception:
            return False
        return any(real == root or real.startswith(root + "/") for root in roots)

    def refuse(event: str, what: object) -> None:
        write(2, f"\n{marker} {event} {what!r:.200}\n".encode("utf-8", "replace"))
        raise denied(f"sandbox: {event} is blocked")

    def hook(event: str, args: tuple) -> None:
        if event in process_events or event.startswith(prefixes):
            refuse(event, args[:1])
        elif event == "import":
            top = args[0].split(".")[0]
            if top in banned or (top not in stdlib and top not in allowed_packages):
                refuse(event, args[0])
        elif event == "open":
            path, mode, flags = args[0], text(args[1] or "r"), args[2]
            writing = any(c in mode for c in "wax+") or (is_a(flags, int) and flags & write_flags)
            if not inside(path, (work,) if writing else readable):
                refuse(event, path)
        elif event in ("os.listdir", "os.scandir") and args and args[0] is not None:
            if not inside(args[0], readable):
                refuse(event, args[0])
        elif event in path_writes:
            for p in args[:2]:
                if is_a(p, (str, bytes, path_like)) and not inside(p, (work,)):
                    refuse(event, p)
        elif event == "object.__getattr__" and args[1] in frames:
            refuse(event, args[1])
        elif event in ("object.__setattr__", "object.__delattr__") and args[1] == "__code__":
            refuse(event, args[1])

    sys.addaudithook(hook)


def _fail(reason: str) -> None:
    sys.stderr.write(f"{SETUP_FAILED} {reason}\n")
    sys.stderr.flush()
    os._exit(SETUP_EXIT)


def main() -> None:
    cfg = json.loads(sys.argv[1])
    source = sys.stdin.buffer.read().decode("utf-8")
    as_root = os.geteuid() == 0
    try:
        seccomp = load_libseccomp()
        enter_namespaces()
        mount_workdir(cfg["disk_bytes"], cfg["max_files"], cfg["nobody"] if as_root else os.getuid())
        with open(MAIN, "w", encoding="utf-8") as fh:  # for tracebacks, which show its lines
            fh.write(source)
        sys.path.extend(p for p in cfg["package_dirs"] if p not in sys.path)
        for name in cfg["preload"]:
            __import__(name)
        set_limits(cfg)
        # Reading along the import path is what imports and tracebacks do; Landlock allows what exists of it.
        readable = tuple(os.path.realpath(p) for p in [*cfg["read_paths"], *sys.path, WORKDIR])
        restrict_filesystem(cfg["read_paths"], WORKDIR)
        drop_privileges(as_root, cfg["nobody"])
        die_with_parent(cfg["parent"])
        forbid_syscalls(seccomp)
    except (SetupError, OSError) as exc:
        _fail(str(exc))
    if cfg["audit_hook"]:
        install_audit_hook(readable, readable[-1], frozenset(cfg["packages"]))
    sys.stdout.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    code = compile(source, MAIN, "exec")
    sys.argv = [MAIN]
    # The code gets this module's namespace, emptied: nothing of the set-up is left to reach.
    namespace = sys.modules["__main__"].__dict__
    builtins = namespace["__builtins__"]
    namespace.clear()
    namespace.update(__name__="__main__", __builtins__=builtins)
    exec(code, namespace)


if __name__ == "__main__":
    main()
