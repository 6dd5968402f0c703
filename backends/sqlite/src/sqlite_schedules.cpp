// Cron schedule storage of the SqliteStore (TEMPORARY STUB: being implemented).
#include "jobq/sqlite/sqlite_store.hpp"

#include "jobq/error.hpp"

namespace jobq {

namespace {
[[noreturn]] void todo() { throw Error(ErrorCode::storage, "schedules: not implemented yet"); }
}  // namespace

std::vector<ScheduleRecord> SqliteStore::schedules() { todo(); }
std::optional<ScheduleRecord> SqliteStore::schedule(std::string_view) { todo(); }
bool SqliteStore::add_schedule(const ScheduleRecord&) { todo(); }
bool SqliteStore::update_schedule(const ScheduleRecord&) { todo(); }
bool SqliteStore::remove_schedule(std::string_view) { todo(); }
ScheduleChange SqliteStore::set_schedule_paused(const PauseRequest&) { todo(); }
ScheduleSync SqliteStore::sync_declared_schedules(std::span<const ScheduleRecord>, Timestamp) { todo(); }
FireResult SqliteStore::fire_schedule(const FireRequest&) { todo(); }
std::vector<ScheduleRun> SqliteStore::schedule_runs(std::string_view, int) { todo(); }

}  // namespace jobq
