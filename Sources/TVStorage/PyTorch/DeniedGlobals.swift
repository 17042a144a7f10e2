/// Globals refused outright. Nothing a pickle names is ever imported or called, so this list is
/// not what keeps a file from running code; it makes a file that reaches for process, shell,
/// import or evaluation machinery fail with the name it asked for instead of loading quietly.
enum DeniedGlobals {
    /// Top-level modules whose members have no place in a checkpoint.
    static let modules: Set<String> = [
        "os", "posix", "nt", "subprocess", "sys", "shutil", "importlib", "runpy", "pickle", "_pickle",
        "marshal", "ctypes", "socket", "code", "codeop", "pty", "webbrowser", "pdb", "timeit",
        "multiprocessing", "asyncio", "signal", "tempfile", "glob", "platform", "operator", "functools",
        "types", "inspect", "gc", "threading", "_thread", "builtins", "__builtin__", "copyreg", "copy_reg",
        "io", "_io", "pathlib", "urllib", "http", "ftplib", "smtplib", "telnetlib", "zipimport", "pkgutil",
        "site", "sysconfig", "distutils", "setuptools", "venv", "ensurepip", "cProfile", "profile", "trace",
        "bdb", "dis", "ast", "compileall", "py_compile", "sqlite3", "dbm", "shelve", "xmlrpc", "mailbox",
        "nturl2path", "posixpath", "ntpath", "fcntl", "resource", "mmap", "select", "selectors", "ssl",
        // numpy beyond the dtype/scalar/array helpers AllowedGlobal names (numpy.load can unpickle).
        "numpy",
    ]

    static func refuses(module: String, name: String) -> Bool {
        let top = module.split(separator: ".", maxSplits: 1).first.map(String.init) ?? module
        if modules.contains(top) { return true }
        // Dunder names (`__import__`, `__reduce__`, …) are interpreter machinery, not classes.
        return name.hasPrefix("__") || name.contains("eval") || name.contains("exec") || name.contains("system")
    }
}
