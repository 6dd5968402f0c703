#include "limit_row.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "job_row.hpp"
#include "jobq/error.hpp"

namespace jobq::sqlite_detail {

LimitRecord read_limit(const Statement& row) {
    LimitRecord r;
    const std::string_view scope = row.text(0);
    if (scope == "queue") {
        r.scope.type = ScopeType::queue;
    } else if (scope == "kind") {
        r.scope.type = ScopeType::kind;
    } else if (scope == "tenant") {
        r.scope.type = ScopeType::tenant;
    } else {
        // The table's CHECK keeps this out; a file edited by hand or by a newer jobq may not.
        throw Error(ErrorCode::storage, fmt::format("limits: unknown scope '{}'", scope));
    }
    r.scope.name = row.text(1);
    if (!row.is_null(2)) r.limits.max_running = row.int32(2);
    if (!row.is_null(3)) {
        r.limits.rate = RateLimit{row.int32(3), Duration{row.int64(4)}, row.int32(5)};
    }
    if (!row.is_null(6)) r.limits.max_queued = row.int64(6);
    r.limits.weight = row.int32(7);
    r.paused = row.int64(8) != 0;
    r.running = row.int64(9);
    r.bucket = TokenBucket{row.real(10), row.timestamp(11)};
    r.updated_at = row.timestamp(12);
    return r;
}

void bind_limit(Statement& s, const LimitRecord& record) {
    s.bind(1, to_string(record.scope.type));
    s.bind(2, std::string_view{record.scope.name});
    if (record.limits.max_running) {
        s.bind(3, *record.limits.max_running);
    } else {
        s.bind_null(3);
    }
    if (record.limits.rate) {
        s.bind(4, record.limits.rate->limit);
        s.bind(5, record.limits.rate->period.count());
        s.bind(6, record.limits.rate->burst);
    } else {
        s.bind_null(4);
        s.bind_null(5);
        s.bind_null(6);
    }
    if (record.limits.max_queued) {
        s.bind(7, *record.limits.max_queued);
    } else {
        s.bind_null(7);
    }
    s.bind(8, record.limits.weight);
    s.bind(9, record.paused ? 1 : 0);
    s.bind(10, record.running);
    s.bind_real(11, record.bucket.tokens);
    s.bind(12, record.bucket.at);
    s.bind(13, record.updated_at);
}

WorkerRecord read_worker(const Statement& row) {
    WorkerRecord w;
    w.id = row.text(0);
    const nlohmann::json queues = nlohmann::json::parse(row.text(1), nullptr, false);
    if (!queues.is_array()) {
        throw Error(ErrorCode::storage,
                    fmt::format("worker '{}': queues is not a JSON array", w.id));
    }
    for (const nlohmann::json& q : queues) {
        if (!q.is_string()) {
            throw Error(ErrorCode::storage,
                        fmt::format("worker '{}': queues holds a non-string", w.id));
        }
        w.queues.push_back(q.get<std::string>());
    }
    w.started_at = row.timestamp(2);
    w.seen_at = row.timestamp(3);
    w.expires_at = row.timestamp(4);
    return w;
}

void bind_worker(Statement& s, const WorkerRecord& worker, std::string& queues_json) {
    queues_json = encode_strings(worker.queues);
    s.bind(1, std::string_view{worker.id});
    s.bind(2, std::string_view{queues_json});
    s.bind(3, worker.started_at);
    s.bind(4, worker.seen_at);
    s.bind(5, worker.expires_at);
}

bool has_limits(const FlowLimits& limits) noexcept {
    return limits.max_running || limits.rate || limits.max_queued || limits.weight != 1;
}

}  // namespace jobq::sqlite_detail
