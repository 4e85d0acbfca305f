"""Running a repository: creating it, checking it, moving it, cleaning up after crashes,
and the server process.
"""
