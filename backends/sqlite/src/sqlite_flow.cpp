// Flow control, worker records and explain facts: STUB until implemented.
#include <stdexcept>

#include "jobq/sqlite/sqlite_store.hpp"

namespace jobq {

namespace {
[[noreturn]] void todo(const char* what) {
    throw std::logic_error(std::string("sqlite: not implemented: ") + what);
}
}  // namespace

std::vector<LimitRecord> SqliteStore::limit_records() {
    return {};
}
std::optional<LimitRecord> SqliteStore::limit_record(const LimitScope&) {
    return std::nullopt;
}
LimitRecord SqliteStore::set_limits(const LimitScope&, const FlowLimits&, Timestamp) {
    todo("set_limits");
}
bool SqliteStore::remove_limits(const LimitScope&, Timestamp) {
    todo("remove_limits");
}
bool SqliteStore::set_queue_paused(std::string_view, bool, Timestamp) {
    todo("set_queue_paused");
}
void SqliteStore::record_worker(const WorkerRecord&) {}
void SqliteStore::remove_worker(std::string_view) {}
std::vector<WorkerRecord> SqliteStore::workers(Timestamp) {
    return {};
}
std::optional<WaitFacts> SqliteStore::wait_facts(JobId, Timestamp) {
    todo("wait_facts");
}
std::vector<WaitGroup> SqliteStore::wait_groups(Timestamp) {
    todo("wait_groups");
}

}  // namespace jobq
