"""The audit log as the hub writes it: every parse, refusal, decision and result, in order.

Owns: `AuditLog`, the one way hub code appends to the chain (cmdb/audit.py keeps the chain
itself: hashing, appending, verifying).
May import: cmdb, protocol, the hub's foundation modules (settings, exceptions, i18n).
"""
