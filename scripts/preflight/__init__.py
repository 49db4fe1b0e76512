"""`medspa preflight SPA`: read-only checks of the target AWS account before the first deploy.

Each group of checks lives in its own module; each check reports OK / WARN / FAIL with what to do and,
where one applies, the HIPAA section. Nothing here writes to the account.
"""
