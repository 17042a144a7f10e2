// Every test file here sees the shared helpers (TestPaths) without importing them itself.
@_exported import TestSupport
