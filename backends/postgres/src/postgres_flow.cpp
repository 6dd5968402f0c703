// Flow control, worker records and explain facts: STUB until implemented.
#include <stdexcept>

#include "jobq/postgres/postgres_store.hpp"

namespace jobq {

namespace {
[[noreturn]] void todo(const char* what) {
    throw std::logic_error(std::string("postgres: not implemented: ") + what);
}
}  // namespace

std::vector<LimitRecord> PostgresStore::limit_records() {
    return {};
}
std::optional<LimitRecord> PostgresStore::limit_record(const LimitScope&) {
    return std::nullopt;
}
LimitRecord PostgresStore::set_limits(const LimitScope&, const FlowLimits&, Timestamp) {
    todo("set_limits");
}
bool PostgresStore::remove_limits(const LimitScope&, Timestamp) {
    todo("remove_limits");
}
bool PostgresStore::set_queue_paused(std::string_view, bool, Timestamp) {
    todo("set_queue_paused");
}
void PostgresStore::record_worker(const WorkerRecord&) {}
void PostgresStore::remove_worker(std::string_view) {}
std::vector<WorkerRecord> PostgresStore::workers(Timestamp) {
    return {};
}
std::optional<WaitFacts> PostgresStore::wait_facts(JobId, Timestamp) {
    todo("wait_facts");
}
std::vector<WaitGroup> PostgresStore::wait_groups(Timestamp) {
    todo("wait_groups");
}

}  // namespace jobq
