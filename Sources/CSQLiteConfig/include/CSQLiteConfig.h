#ifndef CSQLITECONFIG_H
#define CSQLITECONFIG_H

/// Turns off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS). Must run
/// before the first connection opens; returns SQLite's result code
/// (SQLITE_MISUSE, harmless, when SQLite is already initialised).
int sftplog_sqlite_memstatus_off(void);

#endif
