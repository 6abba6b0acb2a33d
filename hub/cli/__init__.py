"""The operator's command line: `guardia` (main), `guardia parse`, `guardia demo`.

May import: everything in hub (the demo runs a whole hub), cmdb, protocol.
"""
