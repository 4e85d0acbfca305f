"""Who may do what: logins and sessions, users and groups, password hashes."""
