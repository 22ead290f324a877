// SFTPLogKit: the engine, one module per stage (docs/architecture.md). This
// module re-exports them, so `import SFTPLogKit` is all a program needs, and
// carries the catalogue as its resources (`catalog/`). The PostgreSQL store and
// `watch` are the separate SFTPLogPostgres and SFTPLogWatch libraries.
@_exported import SFTPLogRecords
@_exported import SFTPLogCatalog
@_exported import SFTPLogSFTPPlus
@_exported import SFTPLogOpenSSH
@_exported import SFTPLogSessions
@_exported import SFTPLogStore
@_exported import SFTPLogReport
@_exported import SFTPLogPipeline
@_exported import SFTPLogAlerts
