"""Restore drills: prove the encrypted backups restore, measure RTO/RPO, keep evidence (164.308(a)(7)(ii)(D))."""
