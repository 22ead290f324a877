#include <sqlite3.h>
#include "CSQLiteConfig.h"

// sqlite3_config is variadic, which Swift cannot call.
int sftplog_sqlite_memstatus_off(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
