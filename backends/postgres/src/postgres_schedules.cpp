// Cron schedule storage of the PostgresStore (TEMPORARY STUB: being implemented).
#include "jobq/postgres/postgres_store.hpp"

#include "jobq/error.hpp"

namespace jobq {

namespace {
[[noreturn]] void todo() { throw Error(ErrorCode::storage, "schedules: not implemented yet"); }
}  // namespace

std::vector<ScheduleRecord> PostgresStore::schedules() { todo(); }
std::optional<ScheduleRecord> PostgresStore::schedule(std::string_view) { todo(); }
bool PostgresStore::add_schedule(const ScheduleRecord&) { todo(); }
bool PostgresStore::update_schedule(const ScheduleRecord&) { todo(); }
bool PostgresStore::remove_schedule(std::string_view) { todo(); }
ScheduleChange PostgresStore::set_schedule_paused(const PauseRequest&) { todo(); }
ScheduleSync PostgresStore::sync_declared_schedules(std::span<const ScheduleRecord>, Timestamp) { todo(); }
FireResult PostgresStore::fire_schedule(const FireRequest&) { todo(); }
std::vector<ScheduleRun> PostgresStore::schedule_runs(std::string_view, int) { todo(); }

}  // namespace jobq
