// Placeholder; the SQLite backend is being written.
#include "jobq/sqlite/sqlite_store.hpp"
